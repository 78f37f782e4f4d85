# SPDX-License-Identifier: GPL-2.0-or-later
# jq: builds, groups, sorts and prints JSON (many small objects and strings).
set -e
jq -n '[range(0; 10000) | {id: ., name: "item-\(.)", tags: [range(0; . % 5) | "t\(.)"], v: (. * 7919 % 1000)}]' > data.json
jq -c 'group_by(.v % 50) | map({k: (.[0].v % 50), n: length, s: (map(.v) | add), t: (map(.tags | length) | add)})' data.json | cksum
jq '[.[] | select(.name | test("item-1[0-9]*7$")) | .id] | length' data.json
