/* wbt_required: WBRT_TEST_BARRIERS, the barriers this machine must offer.
 * SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WBT_REQUIRED_H
#define WBT_REQUIRED_H

/* Exit code that ctest counts as skipped (SKIP_RETURN_CODE). */
#define WBT_SKIP 77

/* WBRT_TEST_BARRIERS is a comma-separated list of barriers (CI sets it; unset or empty:
 * none).  A test that finds a listed barrier unavailable fails instead of skipping, so
 * that a broken barrier cannot pass as a missing one. */

/* Whether WBRT_TEST_BARRIERS lists barrier.  A name in it that is not a barrier is a
 * usage error: prints one naming the variable and the accepted names, and exits 2. */
int wbt_required(const char *barrier);

/* barrier cannot start here (why: the probe's reason).  Prints "SKIPPED: <barrier>: <why>"
 * and returns WBT_SKIP; if WBRT_TEST_BARRIERS lists barrier, prints "FAILED: ..." instead
 * and returns 1.  The caller exits with the result, or counts it. */
int wbt_unavailable(const char *barrier, const char *why);

#endif
