/* <gc/gc_mark.h> is the same header.  SPDX-License-Identifier: GPL-2.0-or-later */
#include "../gc_mark.h"
