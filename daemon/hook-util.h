/* SPDX-License-Identifier: MIT */
#pragma once

/* What the daemon's three hooks (dns_hook, deploy_hook, on_failure) share: building their
 * environment and putting their output into the log. */

#include "hook.h"

/* Append NAME=VALUE (capped and cleaned by hook_env_entry()) to *env. value NULL is "". */
int hook_env_push(char ***env, const char *name, const char *value);

/* Log what hook `what` of certificate cert printed, one record per line (at most 50 lines),
 * at level. */
void hook_log_output(int level, const char *cert, const char *what, Hook *h);
