/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#include "test.h"
