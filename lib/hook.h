/* SPDX-License-Identifier: MIT */
#pragma once

/* Hooks (dns_hook, deploy_hook, on_failure): run an external program asynchronously on
 * an sd-event loop, never through a shell.
 *
 * The program is started with posix_spawn() and execve() semantics (argv[0] must be an
 * absolute path; no PATH search, no shell), in a process group of its own, with an empty
 * signal mask, default signal dispositions, stdin from /dev/null, stdout and stderr into
 * one pipe, no other file descriptor, and a small fixed environment (see HookParams).
 *
 * The calling thread MUST block SIGCHLD (sigprocmask/pthread_sigmask) before
 * hook_start(): sd-event watches the child through it and refuses otherwise; hook_start()
 * then returns -EBUSY without starting anything. Nothing else in the process may reap the
 * hook's pid (no waitpid(-1, …)).
 *
 * Lifetime: once the leader exits, whatever is left of its process group (children it
 * left behind) is SIGKILLed, so nothing outlives the hook. On timeout the group gets
 * SIGTERM, then SIGKILL after HOOK_KILL_GRACE_USEC. The done callback runs exactly once,
 * after the leader has exited and the output pipe is at EOF (or, if a process that left
 * the group still holds it open, HOOK_KILL_GRACE_USEC after the leader's exit, when the
 * pipe is closed). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"

#define HOOK_TIMEOUT_DEFAULT_USEC (5 * 60 * USEC_PER_SEC)
#define HOOK_KILL_GRACE_USEC (2 * USEC_PER_SEC)
#define HOOK_OUTPUT_MAX_DEFAULT ((size_t) 64 * 1024)
#define HOOK_ENV_VALUE_MAX 4096
#define HOOK_BASE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct Hook Hook;

/* Called once when the hook is over. result:
 *   >= 0     the program exited on its own with this status (0–255);
 *   -ETIME   it ran past its timeout and its process group was killed (whatever its
 *            exit status turned out to be);
 *   -ECHILD  it was killed by a signal it did not get from us (hook_describe() names it).
 * The callback may free the Hook. */
typedef void (*HookDone)(Hook *h, int result, void *userdata);

typedef struct HookParams {
        char *const *argv;      /* argv[0] an absolute path; executed with execve(), no shell */
        char *const *env;       /* extra "NAME=VALUE" entries (use hook_env_entry()), NAME as
                                 * [A-Z_][A-Z0-9_]*, each name at most once; added to the base
                                 * environment PATH=HOOK_BASE_PATH plus LANG if the daemon has
                                 * it (an entry of the same name replaces a base one). Nothing
                                 * else of the daemon's environment is passed on. May be NULL. */
        uint64_t timeout_usec;  /* 0 = HOOK_TIMEOUT_DEFAULT_USEC */
        size_t output_max;      /* bytes of stdout+stderr kept (0 = HOOK_OUTPUT_MAX_DEFAULT);
                                 * the rest is read, counted and dropped */
} HookParams;

/* Start the program; done runs from the loop when it is over (never from within
 * hook_start()). Returns 0 and the running hook in *ret, or:
 *   -EINVAL  bad parameters (no argv, relative argv[0], malformed or duplicate env entry);
 *   -EBUSY   SIGCHLD is not blocked in the calling thread;
 *   -ENOENT, -EACCES, -ENOEXEC, …  the program cannot be executed (checked before
 *            spawning and reported by posix_spawn(); such a failure that only shows after
 *            the fork — a race, or under valgrind — surfaces as exit status 127);
 *   -ENOMEM, -EMFILE, …  resources. */
int hook_start(sd_event *e, const HookParams *p, HookDone done, void *userdata, Hook **ret);

/* Free the hook. If the program is still running, SIGKILL its whole process group first;
 * the leader is reaped by the event loop later (immediately if it is already gone), and
 * the callback is not called. Returns NULL. */
Hook *hook_free(Hook *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hook *, hook_free);

/* The captured stdout+stderr so far, NUL-terminated (never NULL; a NUL byte written by the
 * program ends the string early). Not guaranteed to be valid UTF-8. */
const char *hook_output(const Hook *h);
/* Whether output beyond output_max was dropped, and how many bytes. */
bool hook_output_truncated(const Hook *h);
uint64_t hook_output_dropped(const Hook *h);

/* Human-readable outcome, to be freed: "exited with status 3", "killed by signal 9
 * (SIGKILL)", "timed out after 30 s; its process group was killed", or "is running as
 * pid N" before the end. NULL on ENOMEM. */
char *hook_describe(const Hook *h);

/* The leader's pid (also the process group id). */
pid_t hook_pid(const Hook *h);

/* Build one "NAME=VALUE" environment entry for a hook. NAME must match [A-Z_][A-Z0-9_]*.
 * VALUE is capped at HOOK_ENV_VALUE_MAX bytes, cut at a UTF-8 boundary; control characters
 * other than tab (C0, DEL, C1) and malformed UTF-8 bytes are each replaced by '?'.
 * Returns 0 and the new string in *ret, -EINVAL for a bad name, or -ENOMEM. */
int hook_env_entry(const char *name, const char *value, char **ret);
