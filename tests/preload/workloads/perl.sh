# SPDX-License-Identifier: GPL-2.0-or-later
# collects: perl
# needs: perl
# text processing: split, hashes, regexes, sort, sprintf.
for i in $(seq 1 4000); do echo "line $i: the quick brown fox $((i * 7919 % 1000)) jumps over $((i % 13)) lazy dogs"; done > input.txt
exec perl -e '
my (%count, %byn, @lines);
while (<>) {
    chomp; push @lines, $_;
    $count{lc $_}++ for /(\w+)/g;
    $byn{$1} .= "$.," if /fox (\d+)/;
}
for my $w (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count) { printf "%-8s %d\n", $w, $count{$w} }
my $s = join "|", map { scalar reverse } @lines;
$s =~ s/(\d+)/<$1>/g;
print length($s), " ", scalar(keys %byn), " ", substr($s, 1000, 60), "\n";
print join(",", (sort { $a <=> $b } keys %byn)[0..9]), "\n";
' input.txt
