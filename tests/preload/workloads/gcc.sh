# SPDX-License-Identifier: GPL-2.0-or-later
# collects: cc1
# needs: gcc
# gcc compiling a generated C file of a few thousand lines, then running it.
set -e
{
    echo '#include <stdio.h>'
    for i in $(seq 1 250); do
        echo "struct s$i { int a; long b[$((i % 7 + 1))]; const char *name; };"
        echo "static long f$i(long x)"
        echo "{"
        echo "    struct s$i v = { .a = $i, .name = \"f$i\" };"
        echo "    for (int k = 0; k < $((i % 5 + 1)); k++)"
        echo "        v.b[k % $((i % 7 + 1))] += x * $i + k;"
        echo "    return v.a + v.b[0] + (long)sizeof v;"
        echo "}"
    done
    echo 'int main(void)'
    echo '{'
    echo '    long t = 0;'
    for i in $(seq 1 250); do echo "    t = t * 3 + f$i(t % 1000);"; done
    echo '    printf("%ld\n", t);'
    echo '    return 0;'
    echo '}'
} > gen.c
wc -l < gen.c
gcc -O0 -o gen gen.c
./gen
