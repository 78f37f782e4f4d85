/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error numbers in messages.
 * Design: docs/design/os.md */
#ifndef WBRT_OS_ERRNO_TEXT_H
#define WBRT_OS_ERRNO_TEXT_H

#include <stddef.h>

/* "<strerror> (<ENAME>)" for errno value e. */
const char *errno_text(int e, char *buf, size_t len);

#endif
