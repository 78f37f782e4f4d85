/* Whether protecting old pages pays at all: the policy per page (arm_policy.h) leaves a
 * page that is written at every cycle writable, but where the pages written now and then
 * are many, their faults, the harvest and the calls that protect them again can cost more
 * than the scanning of the clean pages saves.  Protection is then switched off for the
 * whole heap (every old page writable and scanned at each young collection, as under none)
 * and tried again after a back-off.
 * Design: docs/design/generations.md
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBRT_PROTECTION_OFF_H
#define WBRT_PROTECTION_OFF_H

#include <stdbool.h>
#include <stdint.h>

/* Protection is off: no page is armed, and every old page counts as dirty. */
bool protection_off(void);
/* A young collection under protection, cycle_ns after the last collection ended:
 * protecting cost barrier_ns (harvest, arming, the mutator's faults), and saved what
 * saved_ns() says (the clean armed pages it did not scan: timed on a few, so called only
 * where barrier_ns is noticeable; false if it cannot tell); switching protection off and
 * arming every page again took switch_ns last time.  True: it did not pay, and the
 * collections off will gain more than switching costs; the caller opens every page and
 * calls protection_set(true). */
bool protection_weigh(uint64_t barrier_ns, uint64_t cycle_ns, uint64_t switch_ns, bool (*saved_ns)(uint64_t *ns));
/* Once per collection while off: true once the back-off has ended and the old generation
 * has grown by an eighth since it went off (or the longest back-off has passed), until the
 * caller arms the old pages again (and calls protection_set(false)). */
bool protection_retry_due(void);
void protection_set(bool off);
/* Tests: the next weighing decides off whatever the costs (test_hooks.h). */
void protection_force_next(void);
/* Tests: while held, no weighing switches protection off (test_hooks.h). */
void protection_hold_on(bool held);

#endif
