# SPDX-License-Identifier: GPL-2.0-or-later
# Tcl: dicts, lists, strings, regexp (an interpreter with its own object cache over malloc).
set -e
tclsh <<'TCL'
set d [dict create]
for {set i 0} {$i < 150000} {incr i} {
    dict incr d [expr {$i * 7919 % 5003}]
    lappend l [format "w%05d" [expr {$i % 30011}]]
}
set s [lsort -unique $l]
set n 0
foreach w $s { if {[regexp {w.*7.*3} $w]} { incr n } }
puts "[dict size $d] [llength $s] $n [string length [join $s ,]]"
TCL
