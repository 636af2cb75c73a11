/* SPDX-License-Identifier: MIT */
/* Hooks: external programs run with posix_spawn() and watched from an sd-event loop.
 *
 * Three event sources per hook: an io source draining the output pipe, a child source
 * for the leader's exit, and one timer reused for three phases (the timeout, the grace
 * between SIGTERM and SIGKILL, and the wait for the pipe to drain after the leader has
 * exited). The hook is over once the leader has exited and the pipe is closed; whichever
 * of the two happens last calls hook_finish(). */

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hook.h"
#include "strv.h"
#include "utf8.h"

#define HOOK_OUTPUT_CHUNK ((size_t) 4096)
#define HOOK_READS_PER_EVENT 16

typedef enum HookTimerPhase {
        HOOK_TIMER_TIMEOUT,     /* running: expiry means the hook took too long */
        HOOK_TIMER_KILL,        /* SIGTERM sent: expiry escalates to SIGKILL */
        HOOK_TIMER_DRAIN,       /* leader gone, pipe still open: expiry closes the pipe */
} HookTimerPhase;

struct Hook {
        sd_event *event;
        pid_t pid;
        HookDone done;
        void *userdata;

        sd_event_source *child_source;
        sd_event_source *pipe_source;
        sd_event_source *timer_source;
        HookTimerPhase timer_phase;
        int pipe_fd;

        uint64_t timeout_usec;
        bool timed_out;
        bool leader_exited;     /* our child callback ran; sd-event reaps (or reaped) it */
        bool finished;          /* done was called (or is being called) */
        int exit_code;          /* si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED */
        int exit_status;        /* exit status or signal number */

        char *output;           /* NUL-terminated; NULL until the first byte */
        size_t output_len, output_alloc, output_max;
        uint64_t output_dropped;
};

static bool hook_env_name_valid(const char *s, size_t n) {
        if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

int hook_env_entry(const char *name, const char *value, char **ret) {
        const uint8_t *p;
        size_t nlen, vlen, left, out;
        char *s;

        if (!name || !value || !ret)
                return -EINVAL;
        nlen = strlen(name);
        if (!hook_env_name_valid(name, nlen))
                return -EINVAL;
        vlen = strlen(value);

        /* Every replacement is one byte for at least one byte of input, so the result is
         * never longer than the (capped) input. */
        s = malloc(nlen + 1 + (vlen < HOOK_ENV_VALUE_MAX ? vlen : HOOK_ENV_VALUE_MAX) + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, name, nlen);
        s[nlen] = '=';
        out = nlen + 1;

        p = (const uint8_t *) value;
        left = vlen;
        for (size_t emitted = 0; left > 0;) {
                size_t len = utf8_sequence_length(p, left);
                bool replace = len == 0 ||
                        (len == 1 && ((p[0] < 0x20 && p[0] != '\t') || p[0] == 0x7F)) ||
                        (len == 2 && p[0] == 0xC2 && p[1] < 0xA0); /* C1 controls U+0080–U+009F */
                size_t take = replace ? 1 : len;

                if (emitted + take > HOOK_ENV_VALUE_MAX)
                        break;
                if (replace)
                        s[out] = '?';
                else
                        memcpy(s + out, p, len);
                out += take;
                emitted += take;
                p += len ?: 1;
                left -= len ?: 1;
        }
        s[out] = 0;
        *ret = s;
        return 0;
}

/* The environment of a hook: the base entries, each unless the caller gives one of the
 * same name, then the caller's entries. Returns 0, -EINVAL or -ENOMEM. */
static int hook_build_env(char *const *extra, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        bool have_path = false, have_lang = false;
        const char *lang;
        int r;

        for (char *const *i = extra; i && *i; i++) {
                const char *eq = strchr(*i, '=');
                size_t n;

                if (!eq || !hook_env_name_valid(*i, (size_t) (eq - *i)))
                        return -EINVAL;
                n = (size_t) (eq - *i) + 1;
                for (char *const *j = extra; j < i; j++)
                        if (strncmp(*i, *j, n) == 0)
                                return -EINVAL;
                have_path = have_path || startswith(*i, "PATH=");
                have_lang = have_lang || startswith(*i, "LANG=");
        }

        if (!have_path) {
                r = strv_extend(&l, "PATH=" HOOK_BASE_PATH);
                if (r < 0)
                        return r;
        }
        lang = getenv("LANG");
        if (!have_lang && lang) {
                char *e = NULL;

                if (asprintf(&e, "LANG=%s", lang) < 0)
                        return -ENOMEM;
                r = strv_consume(&l, e);
                if (r < 0)
                        return r;
        }
        for (char *const *i = extra; i && *i; i++) {
                r = strv_extend(&l, *i);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Catch the usual reasons exec would fail before forking, so they come back from
 * hook_start() even where posix_spawn() cannot see exec errors (valgrind). */
static int hook_check_program(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
                return negative_errno();
        return 0;
}

/* sd-event refuses child sources unless SIGCHLD is blocked; check before spawning, so
 * that there is nothing to clean up. */
static int hook_check_sigchld(void) {
        sigset_t cur;
        int r;

        r = pthread_sigmask(SIG_SETMASK, NULL, &cur);
        if (r != 0)
                return -r;
        return sigismember(&cur, SIGCHLD) == 1 ? 0 : -EBUSY;
}

/* posix_spawn() the program in a new process group with a clean signal state, stdin from
 * /dev/null, stdout and stderr to out_fd and no other descriptor. glibc reports exec
 * failures as its return value. (glibc's two internal signals, 32 and 33, which
 * sigfillset() leaves out, reach the program ignored; its own libc resets them.) */
static int hook_spawn(char *const *argv, char *const *envp, int out_fd, pid_t *ret_pid) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        pid_t pid;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                (void) posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        (void) sigemptyset(&none);
        (void) sigfillset(&all);

        /* dup2 before opening stdin: should out_fd itself be 0, 1 or 2 (a daemon started
         * with those closed), it is copied before being replaced. dup2 onto itself clears
         * FD_CLOEXEC in glibc. */
        r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = posix_spawnattr_setpgroup(&attr, 0);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &all);
        if (r == 0)
                r = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);

        (void) posix_spawnattr_destroy(&attr);
        (void) posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        *ret_pid = pid;
        return 0;
}

/* Reaps a leader that hook_free() killed, then drops itself. */
static int hook_on_orphan_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        (void) sd_event_source_set_floating(s, false); /* releases the loop's reference */
        return 0;
}

/* pid was just sent SIGKILL and nobody watches it any more: reap it now if it is already
 * gone, else leave that to a floating child source of the loop; only without a usable
 * loop wait for it here (a SIGKILLed process goes quickly). */
static void hook_reap_later(sd_event *e, pid_t pid) {
        siginfo_t si = {};

        if (waitid(P_PID, pid, &si, WEXITED | WNOHANG) >= 0 && si.si_pid == pid)
                return;
        if (e && sd_event_get_state(e) != SD_EVENT_FINISHED &&
            sd_event_add_child(e, NULL, pid, WEXITED, hook_on_orphan_exit, NULL) >= 0)
                return;
        while (waitid(P_PID, pid, &si, WEXITED) < 0 && errno == EINTR)
                ;
}

static void hook_close_pipe(Hook *h) {
        h->pipe_source = sd_event_source_disable_unref(h->pipe_source);
        h->pipe_fd = safe_close(h->pipe_fd);
}

Hook *hook_free(Hook *h) {
        if (!h)
                return NULL;

        h->child_source = sd_event_source_disable_unref(h->child_source);
        if (h->pid > 0 && !h->leader_exited) {
                (void) kill(-h->pid, SIGKILL);
                hook_reap_later(h->event, h->pid);
        }
        h->timer_source = sd_event_source_disable_unref(h->timer_source);
        hook_close_pipe(h);
        free(h->output);
        sd_event_unref(h->event);
        return mfree(h);
}

/* Report the outcome. Must be the last thing a handler does: done may free h. */
static void hook_finish(Hook *h) {
        int result;

        (void) sd_event_source_set_enabled(h->timer_source, SD_EVENT_OFF);
        if (h->timed_out)
                result = -ETIME;
        else if (h->exit_code == CLD_EXITED)
                result = h->exit_status;
        else
                result = -ECHILD;

        h->finished = true;
        if (h->done)
                h->done(h, result, h->userdata);
}

/* (Re)start the timer for the next phase, usec from now. */
static int hook_arm_timer(Hook *h, HookTimerPhase phase, uint64_t usec) {
        int r;

        r = sd_event_source_set_time_relative(h->timer_source, usec);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(h->timer_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        h->timer_phase = phase;
        return 0;
}

/* Make room for more output below output_max. Returns 0, or -ENOMEM (the caller then
 * drops what it reads). */
static int hook_output_reserve(Hook *h) {
        size_t want;
        char *p;

        if (h->output_alloc > h->output_len + 1)
                return 0;
        want = h->output_alloc < HOOK_OUTPUT_CHUNK / 2 ? HOOK_OUTPUT_CHUNK : h->output_alloc * 2;
        if (want > h->output_max + 1)
                want = h->output_max + 1;
        p = realloc(h->output, want);
        if (!p)
                return -ENOMEM;
        h->output = p;
        h->output_alloc = want;
        return 0;
}

/* One read from the pipe. Returns 1 when something was read, 0 when it would block,
 * -EPIPE at EOF or on a read error. */
static int hook_read_some(Hook *h) {
        char scratch[HOOK_OUTPUT_CHUNK];
        char *dst = scratch;
        size_t room = sizeof scratch;
        ssize_t n;

        if (h->output_len < h->output_max && hook_output_reserve(h) >= 0) {
                h->output[h->output_len] = 0; /* a fresh buffer ends here even if nothing comes */
                dst = h->output + h->output_len;
                room = h->output_alloc - 1 - h->output_len;
                if (room > h->output_max - h->output_len)
                        room = h->output_max - h->output_len;
        }

        n = read(h->pipe_fd, dst, room);
        if (n < 0)
                return errno == EINTR ? 1 : errno == EAGAIN ? 0 : -EPIPE;
        if (n == 0)
                return -EPIPE;
        if (dst == scratch)
                h->output_dropped += (uint64_t) n;
        else {
                h->output_len += (size_t) n;
                h->output[h->output_len] = 0;
        }
        return 1;
}

/* Drain the pipe, a bounded number of reads per event so a chatty hook cannot starve
 * the loop. */
static int hook_on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Hook *h = userdata;
        int r = 0;

        for (unsigned i = 0; i < HOOK_READS_PER_EVENT; i++) {
                r = hook_read_some(h);
                if (r <= 0)
                        break;
        }
        if (r >= 0)
                return 0;

        hook_close_pipe(h);
        if (h->leader_exited)
                hook_finish(h);
        return 0;
}

/* The leader has exited. sd-event keeps it a zombie until this callback returns, so its
 * pid is still the process group's id and SIGKILL reaches exactly what it left behind. */
static int hook_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Hook *h = userdata;

        h->leader_exited = true;
        h->exit_code = si->si_code;
        h->exit_status = si->si_status;
        (void) kill(-h->pid, SIGKILL);

        if (h->pipe_fd >= 0 && hook_arm_timer(h, HOOK_TIMER_DRAIN, HOOK_KILL_GRACE_USEC) >= 0)
                return 0;
        hook_close_pipe(h);
        hook_finish(h);
        return 0;
}

/* The one timer, by phase: timeout → SIGTERM to the group and start the grace period;
 * grace over → SIGKILL; drain wait over → give up on the pipe and report. */
static int hook_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Hook *h = userdata;

        switch (h->timer_phase) {
        case HOOK_TIMER_TIMEOUT:
                h->timed_out = true;
                (void) kill(-h->pid, SIGTERM);
                (void) kill(-h->pid, SIGCONT); /* stopped processes act on SIGTERM only then */
                if (hook_arm_timer(h, HOOK_TIMER_KILL, HOOK_KILL_GRACE_USEC) < 0)
                        (void) kill(-h->pid, SIGKILL);
                return 0;
        case HOOK_TIMER_KILL:
                (void) kill(-h->pid, SIGKILL);
                return 0;
        case HOOK_TIMER_DRAIN:
                /* Something that left the process group still holds the pipe open. */
                hook_close_pipe(h);
                hook_finish(h);
                return 0;
        }
        return 0;
}

int hook_start(sd_event *e, const HookParams *p, HookDone done, void *userdata, Hook **ret) {
        _cleanup_(hook_freep) Hook *h = NULL;
        _cleanup_strv_free_ char **envp = NULL;
        _cleanup_close_ int write_fd = -EBADF;
        int fds[2], r;

        if (!e || !p || !ret || !p->argv || !p->argv[0] || p->argv[0][0] != '/')
                return -EINVAL;

        r = hook_build_env(p->env, &envp);
        if (r < 0)
                return r;
        r = hook_check_sigchld();
        if (r < 0)
                return r;
        r = hook_check_program(p->argv[0]);
        if (r < 0)
                return r;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        *h = (Hook) {
                .event = sd_event_ref(e),
                .done = done,
                .userdata = userdata,
                .pipe_fd = -EBADF,
                .timeout_usec = p->timeout_usec ?: HOOK_TIMEOUT_DEFAULT_USEC,
                .output_max = p->output_max ?: HOOK_OUTPUT_MAX_DEFAULT,
        };

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        h->pipe_fd = fds[0];
        write_fd = fds[1];
        if (fcntl(h->pipe_fd, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();

        /* Everything that can fail is set up before the spawn, so a failure leaves no
         * process behind. */
        r = sd_event_add_io(e, &h->pipe_source, h->pipe_fd, EPOLLIN, hook_on_pipe, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->pipe_source, "hook-output");
        r = sd_event_add_time_relative(e, &h->timer_source, CLOCK_MONOTONIC, h->timeout_usec, 0,
                                       hook_on_timer, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->timer_source, "hook-timer");
        h->timer_phase = HOOK_TIMER_TIMEOUT;

        r = hook_spawn(p->argv, envp, write_fd, &h->pid);
        if (r < 0)
                return r;
        write_fd = safe_close(write_fd); /* else the pipe never reaches EOF */

        /* Should this fail, hook_free() kills and reaps the fresh process. */
        r = sd_event_add_child(e, &h->child_source, h->pid, WEXITED, hook_on_exit, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->child_source, "hook-child");

        *ret = TAKE_PTR(h);
        return 0;
}

const char *hook_output(const Hook *h) {
        return h && h->output ? h->output : "";
}

bool hook_output_truncated(const Hook *h) {
        return h && h->output_dropped > 0;
}

uint64_t hook_output_dropped(const Hook *h) {
        return h ? h->output_dropped : 0;
}

pid_t hook_pid(const Hook *h) {
        return h ? h->pid : 0;
}

char *hook_describe(const Hook *h) {
        const char *abbrev;
        char *s = NULL;
        int r;

        if (!h)
                return NULL;
        if (!h->finished)
                r = asprintf(&s, "is running as pid %d", (int) h->pid);
        else if (h->timed_out) {
                uint64_t t = h->timeout_usec;

                if (t % USEC_PER_SEC == 0)
                        r = asprintf(&s, "timed out after %" PRIu64 " s; its process group was killed",
                                     t / USEC_PER_SEC);
                else
                        r = asprintf(&s, "timed out after %" PRIu64 " ms; its process group was killed",
                                     (t + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
        } else if (h->exit_code == CLD_EXITED)
                r = asprintf(&s, "exited with status %d", h->exit_status);
        else {
                abbrev = sigabbrev_np(h->exit_status);
                r = asprintf(&s, "killed by signal %d%s%s%s%s", h->exit_status,
                             abbrev ? " (SIG" : "", abbrev ?: "", abbrev ? ")" : "",
                             h->exit_code == CLD_DUMPED ? ", core dumped" : "");
        }
        return r < 0 ? NULL : s;
}
