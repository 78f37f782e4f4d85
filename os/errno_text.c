/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error numbers in messages: the text and the name, so that a report is searchable.
 * Design: docs/design/os.md */
#include "errno_text.h"
#include <stdio.h>
#include <string.h>

const char *errno_text(int e, char *buf, size_t len)
{
    const char *name = strerrorname_np(e);
    snprintf(buf, len, "%s (%s)", strerror(e), name ? name : "?");
    return buf;
}
