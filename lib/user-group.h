/* SPDX-License-Identifier: MIT */
#pragma once

/* Users and groups as the configuration names them: a name, or a decimal number. */

#include <sys/types.h>

/* The gid of group s (a name looked up with getgrnam_r(), or a number). Returns 0,
 * -ESRCH when no such group exists, -EINVAL for an empty string or a number out of range,
 * or the look-up's error. */
int group_to_gid(const char *s, gid_t *ret);

/* The same for users (getpwnam_r()). */
int user_to_uid(const char *s, uid_t *ret);
