# SPDX-License-Identifier: GPL-2.0-or-later
# collects: make
# young: 256K
# (its processes allocate under 1 MiB: the blocks they free are reused at once)
# needs: make
# make -j4 driving several jobs of a generated Makefile (silent: output from the files made).
set -e
{
    echo 'ALL := $(patsubst %,out%.txt,$(shell seq 1 8))'
    echo 'all: summary.txt'
    echo 'summary.txt: $(ALL)'
    printf '\tcat $^ | sort | uniq -c | sort -rn | head -n 5 > $@\n'
    echo 'out%.txt:'
    printf '\tseq $* $$(( $* * 300 )) | awk '"'"'{ s[$$1 %% 17] += $$1 } END { for (k in s) print k, s[k] }'"'"' | sort -n > $@\n'
    echo 'VARS := $(foreach i,$(shell seq 1 8000),$(i)-$(subst 1,one,$(i)))'
    echo 'count:'
    printf '\t@echo $(words $(VARS)) $(word 7999,$(VARS))\n'
} > Makefile
make -s -j4
cat summary.txt
make -s count
