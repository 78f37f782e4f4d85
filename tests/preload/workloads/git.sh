# SPDX-License-Identifier: GPL-2.0-or-later
# collects: git
# needs: git
# init, add, commit, log, diff in a temporary repository (fixed identities and dates).
set -e
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
export HOME=$PWD GIT_CONFIG_NOSYSTEM=1
git init -q -b main repo
cd repo
for i in $(seq 1 20); do seq $i $((i * 40)) > "file$i.txt"; done
git add . && git commit -q -m "first"
for i in $(seq 1 20 | awk 'NR % 3 == 0'); do seq $((i * 2)) $((i * 30)) | sed 's/7/seven/' > "file$i.txt"; done
mkdir sub && printf 'x\ny\n' > sub/new.txt
git add -A && git commit -q -m "second"
git log --stat --format='%H %s'
git diff --stat HEAD~1 HEAD | tail -n 3
git diff HEAD~1 HEAD -- file9.txt | head -n 40
git gc -q && git count-objects
