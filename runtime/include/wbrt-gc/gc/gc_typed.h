/* <gc/gc_typed.h> is the same header.  SPDX-License-Identifier: GPL-2.0-or-later */
#include "../gc_typed.h"
