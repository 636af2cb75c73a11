/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "hook.h"
#include "macro.h"
#include "strv.h"
#include "test.h"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)
#define DEADLINE_USEC (60 * USEC_PER_SEC) /* generous: only reached when something is broken */

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* A NULL-terminated argv/env literal, valid in the enclosing block. */
#define STRV(...) ((char **) (const char *[]) { __VA_ARGS__, NULL })
#define STRV_EMPTY ((char **) (const char *[]) { NULL })

typedef struct Outcome {
        int calls;
        int result;
        char *describe;
        char *output;
        bool truncated;
        uint64_t dropped;
        bool free_in_callback;
        Hook *hook;             /* set to NULL when freed in the callback */
} Outcome;

static void outcome_done(Outcome *o) {
        o->describe = mfree(o->describe);
        o->output = mfree(o->output);
        o->hook = hook_free(o->hook);
}

static void on_done(Hook *h, int result, void *userdata) {
        Outcome *o = userdata;

        o->calls++;
        o->result = result;
        free(o->describe);
        o->describe = hook_describe(h);
        free(o->output);
        o->output = strdup(hook_output(h));
        o->truncated = hook_output_truncated(h);
        o->dropped = hook_output_dropped(h);
        if (o->free_in_callback)
                o->hook = hook_free(h);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* A loop for hooks: sd-event requires SIGCHLD blocked in this thread. */
static sd_event *new_event(void) {
        sigset_t ss;
        sd_event *e = NULL;

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return NULL;
        return sd_event_new(&e) < 0 ? NULL : e;
}

/* Run the loop until the callback ran (true) or the deadline passed (false). */
static bool run_until_done(sd_event *e, const Outcome *o) {
        uint64_t end = now_usec() + DEADLINE_USEC;

        while (o->calls == 0 && now_usec() < end)
                if (sd_event_run(e, 500 * USEC_PER_MSEC) < 0)
                        return false;
        return o->calls > 0;
}

/* Start argv with the given environment/limits, run it to the end. Returns hook_start's
 * error, or 0 with the outcome filled in. */
static int run_hook(sd_event *e, char *const *argv, char *const *env, uint64_t timeout, size_t output_max,
                    Outcome *o) {
        HookParams p = { .argv = argv, .env = env, .timeout_usec = timeout, .output_max = output_max };
        int r;

        r = hook_start(e, &p, on_done, o, &o->hook);
        if (r < 0)
                return r;
        if (!run_until_done(e, o))
                return -ETIMEDOUT;
        return 0;
}



/* Write an executable script dir/name; returns its path or NULL. */
static char *write_script(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *path = test_path_join(dir, name);
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(content);

        if (!path)
                return NULL;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, content, n) != (ssize_t) n)
                return NULL;
        return TAKE_PTR(path);
}

static bool file_exists(const char *dir, const char *name) {
        _cleanup_free_ char *p = test_path_join(dir, name);
        return p && access(p, F_OK) == 0;
}

/* Fields of /proc/PID/stat after the command name: state and process group. False when
 * the process does not exist. */
static bool proc_stat(pid_t pid, char *ret_state, pid_t *ret_pgrp) {
        char path[64], buf[1024], *close_paren;
        _cleanup_fclose_ FILE *f = NULL;
        int ppid, pgrp;
        char state;
        size_t n;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        close_paren = strrchr(buf, ')');
        if (!close_paren || sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
                return false;
        *ret_state = state;
        *ret_pgrp = pgrp;
        return true;
}

/* Alive = exists and is not a zombie (orphans are reaped by whoever inherits them). */
static bool process_alive(pid_t pid) {
        char state;
        pid_t pgrp;

        return proc_stat(pid, &state, &pgrp) && state != 'Z' && state != 'X';
}

/* How many live processes are in process group pgrp. */
static int group_alive(pid_t pgrp) {
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d))) {
                char state, *end;
                pid_t g;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 0)
                        continue;
                if (proc_stat((pid_t) pid, &state, &g) && g == pgrp && state != 'Z' && state != 'X')
                        n++;
        }
        return n;
}

/* Wait (running the loop, which may have reapers to run) until pid is no longer alive.
 * reaped: also require that it is no zombie of ours any more. */
static bool wait_gone(sd_event *e, pid_t pid, bool reaped) {
        uint64_t end = now_usec() + DEADLINE_USEC;

        while (now_usec() < end) {
                if (reaped ? (kill(pid, 0) < 0 && errno == ESRCH) : !process_alive(pid))
                        return true;
                (void) sd_event_run(e, 100 * USEC_PER_MSEC);
        }
        return false;
}

/* Wait until nothing in process group pgrp is alive any more: everything got SIGKILL
 * before the hook ended, but dying takes a moment. */
static bool wait_group_gone(pid_t pgrp) {
        uint64_t end = now_usec() + DEADLINE_USEC;

        while (now_usec() < end) {
                if (group_alive(pgrp) == 0)
                        return true;
                (void) usleep(10 * USEC_PER_MSEC);
        }
        return false;
}

static pid_t read_pid_file(const char *dir, const char *name) {
        _cleanup_free_ char *p = test_path_join(dir, name), *s = p ? test_read_file(p) : NULL;
        return s ? (pid_t) atoi(s) : 0;
}

TEST(env_entry) {
        _cleanup_free_ char *s = NULL, *big = NULL;
        char *x = (char *) "untouched";

        CHECK_INT(hook_env_entry("RENEWD_DOMAIN", "example.org", &s), 0);
        CHECK_STR(s, "RENEWD_DOMAIN=example.org");
        s = mfree(s);
        CHECK_INT(hook_env_entry("_X9", "", &s), 0);
        CHECK_STR(s, "_X9=");
        s = mfree(s);

        /* Names: [A-Z_][A-Z0-9_]* only; the output stays untouched on failure. */
        const char *bad[] = { "", "9A", "a", "RENEWD_domain", "A-B", "A=B", "A B", "É", "A\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK_INT(hook_env_entry(bad[i], "v", &x), -EINVAL);
        CHECK_INT(hook_env_entry(NULL, "v", &x), -EINVAL);
        CHECK_INT(hook_env_entry("A", NULL, &x), -EINVAL);
        CHECK_STR(x, "untouched");

        /* Controls other than tab, DEL, C1 and malformed UTF-8 become '?', one per sequence;
         * valid UTF-8 passes. */
        CHECK_INT(hook_env_entry("V", "a\nb\tc\rd\x01" "e\x7f" "f\xc2\x85g\xff" "h\xc3" "é€😀", &s), 0);
        CHECK_STR(s, "V=a?b\tc?d?e?f?g?h?é€😀");
        s = mfree(s);

        /* Capped at HOOK_ENV_VALUE_MAX bytes ... */
        big = malloc(HOOK_ENV_VALUE_MAX + 100);
        REQUIRE(big);
        memset(big, 'a', HOOK_ENV_VALUE_MAX + 99);
        big[HOOK_ENV_VALUE_MAX + 99] = 0;
        CHECK_INT(hook_env_entry("V", big, &s), 0);
        CHECK_INT(strlen(s), 2 + HOOK_ENV_VALUE_MAX);
        s = mfree(s);

        /* ... exactly fitting is kept whole ... */
        big[HOOK_ENV_VALUE_MAX] = 0;
        CHECK_INT(hook_env_entry("V", big, &s), 0);
        CHECK_INT(strlen(s), 2 + HOOK_ENV_VALUE_MAX);
        s = mfree(s);

        /* ... and a multibyte character straddling the cap is dropped whole. */
        memcpy(big + HOOK_ENV_VALUE_MAX - 1, "é", 3);
        CHECK_INT(hook_env_entry("V", big, &s), 0);
        REQUIRE(s);
        CHECK_INT(strlen(s), 2 + HOOK_ENV_VALUE_MAX - 1);
        CHECK(s[strlen(s) - 1] == 'a');
        s = mfree(s);
        memcpy(big + HOOK_ENV_VALUE_MAX - 2, "é", 3);
        CHECK_INT(hook_env_entry("V", big, &s), 0);
        REQUIRE(s);
        CHECK_INT(strlen(s), 2 + HOOK_ENV_VALUE_MAX);
        CHECK(endswith(s, "é"));
}

TEST(argv_verbatim) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *out = NULL, *a1 = NULL, *a2 = NULL, *a3 = NULL, *got = NULL,
                            *expect = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        Outcome o = {};

        REQUIRE(dir && e);
        script = write_script(dir, "args.sh",
                              "#!/bin/sh\n"
                              "out=\"$1\"\n"
                              "shift\n"
                              "printf '%s\\n' \"$#\" > \"$out\"\n"
                              "for a in \"$@\"; do printf '<%s>\\n' \"$a\" >> \"$out\"; done\n");
        out = test_path_join(dir, "args.out");
        REQUIRE(script && out);
        REQUIRE(asprintf(&a1, "$(touch %s/pwned1)", dir) > 0);
        REQUIRE(asprintf(&a2, "`touch %s/pwned2`", dir) > 0);
        REQUIRE(asprintf(&a3, "; touch %s/pwned3", dir) > 0);

        const char *args[] = { script, out, a1, ";", a2, "a b", "", "line1\nline2", a3, "*", "$HOME",
                               "|", "&&", "'\"\\", "-e", " lead", "trail " };
        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                REQUIRE(strv_extend(&argv, args[i]) == 0);

        REQUIRE(run_hook(e, argv, NULL, 0, 0, &o) == 0);
        CHECK_INT(o.calls, 1);
        CHECK_INT(o.result, 0);

        got = test_read_file(out);
        REQUIRE(asprintf(&expect, "15\n<%s>\n<;>\n<%s>\n<a b>\n<>\n<line1\nline2>\n<%s>\n<*>\n<$HOME>\n"
                                  "<|>\n<&&>\n<'\"\\>\n<-e>\n< lead>\n<trail >\n", a1, a2, a3) > 0);
        CHECK_STR(got, expect);
        CHECK(!file_exists(dir, "pwned1"));
        CHECK(!file_exists(dir, "pwned2"));
        CHECK(!file_exists(dir, "pwned3"));
        outcome_done(&o);
}

TEST(exit_status_and_signal) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        Outcome o = {};

        REQUIRE(e);
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "exit 0"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        CHECK_STR(o.describe, "exited with status 0");
        outcome_done(&o);

        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "exit 3"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.calls, 1);
        CHECK_INT(o.result, 3);
        CHECK_STR(o.describe, "exited with status 3");
        CHECK_STR(o.output, "");
        CHECK(!o.truncated);
        outcome_done(&o);

        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "exit 255"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 255);
        outcome_done(&o);

        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "kill -9 $$"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, -ECHILD);
        CHECK_STR(o.describe, "killed by signal 9 (SIGKILL)");
        outcome_done(&o);
}

TEST(output_captured_and_capped) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        Outcome o = {};

        REQUIRE(e);
        /* stdout and stderr share one pipe, in order. */
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "echo out; echo err >&2; echo out2"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        CHECK_STR(o.output, "out\nerr\nout2\n");
        CHECK(!o.truncated);
        CHECK_INT(o.dropped, 0);
        outcome_done(&o);

        /* 11000 bytes with a cap of 100: the first 100 are kept, the rest counted. */
        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c",
                                 "i=0; while [ $i -lt 1000 ]; do echo 0123456789; i=$((i+1)); done; exit 4"),
                         NULL, 0, 100, &o) == 0);
        CHECK_INT(o.result, 4);
        REQUIRE(o.output);
        CHECK_INT(strlen(o.output), 100);
        CHECK(startswith(o.output, "0123456789\n0123456789\n"));
        CHECK(o.truncated);
        CHECK_INT(o.dropped, 10900);
        outcome_done(&o);

        /* Far more than a pipe holds, default cap: the hook is not blocked on a full pipe. */
        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "yes 0123456789abcde | head -c 300000"), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        REQUIRE(o.output);
        CHECK_INT(strlen(o.output), HOOK_OUTPUT_MAX_DEFAULT);
        CHECK(o.truncated);
        CHECK_INT(o.dropped, 300000 - HOOK_OUTPUT_MAX_DEFAULT);
        outcome_done(&o);

        /* Exactly the cap is not truncation. */
        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/bin/sh", "-c", "printf 12345"), NULL, 0, 5, &o) == 0);
        CHECK_STR(o.output, "12345");
        CHECK(!o.truncated);
        outcome_done(&o);
}

/* Sorted lines of s, for comparing environments. */
static char **lines(const char *s) {
        char **l = NULL;
        const char *p = s;

        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);

                if (strv_consume(&l, strndup(p, n)) < 0)
                        return strv_free(l);
                p += n + !!nl;
        }
        return l;
}

TEST(environment_exact) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *d = NULL, *x = NULL, *old_lang = getenv("LANG") ? strdup(getenv("LANG")) : NULL;
        _cleanup_strv_free_ char **got = NULL, **env = NULL;
        Outcome o = {};

        REQUIRE(e);
        REQUIRE(hook_env_entry("RENEWD_DOMAIN", "example.org", &d) == 0);
        REQUIRE(hook_env_entry("RENEWD_NOTE", "a=b c", &x) == 0);
        env = strv_copy(STRV(d, x));
        REQUIRE(env);

        REQUIRE(setenv("SECRET_TEST", "1", 1) == 0);
        REQUIRE(setenv("LANG", "C.UTF-8", 1) == 0);
        REQUIRE(run_hook(e, STRV("/usr/bin/env"), env, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        got = lines(o.output);
        CHECK(strv_equal_unordered(got, STRV("PATH=" HOOK_BASE_PATH, "LANG=C.UTF-8",
                                             "RENEWD_DOMAIN=example.org", "RENEWD_NOTE=a=b c")));
        CHECK(!strstr(o.output, "SECRET_TEST"));
        outcome_done(&o);
        got = strv_free(got);

        /* Without LANG in the daemon, none in the hook; no extra entries at all. */
        REQUIRE(unsetenv("LANG") == 0);
        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/usr/bin/env"), NULL, 0, 0, &o) == 0);
        got = lines(o.output);
        CHECK(strv_equal_unordered(got, STRV("PATH=" HOOK_BASE_PATH)));
        outcome_done(&o);
        got = strv_free(got);

        /* An entry of a base name replaces it. */
        o = (Outcome) {};
        REQUIRE(run_hook(e, STRV("/usr/bin/env"), STRV("PATH=/bin", "LANG=C"), 0, 0, &o) == 0);
        got = lines(o.output);
        CHECK(strv_equal_unordered(got, STRV("PATH=/bin", "LANG=C")));
        outcome_done(&o);

        if (old_lang)
                (void) setenv("LANG", old_lang, 1);
        (void) unsetenv("SECRET_TEST");
}

TEST(bad_parameters) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *plain = NULL;
        Hook *h = (Hook *) 0x1;
        HookParams p = { .argv = STRV("/bin/true") };

        REQUIRE(dir && e);
        plain = test_path_join(dir, "not-executable");
        REQUIRE(plain);
        {
                _cleanup_close_ int fd = open(plain, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                REQUIRE(fd >= 0);
        }

        /* The program: missing, not executable, a directory, relative, absent. */
        p.argv = STRV("/nonexistent/hook-program");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -ENOENT);
        p.argv = STRV(plain);
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EACCES);
        p.argv = STRV(dir);
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EACCES);
        p.argv = STRV("true");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.argv = STRV("");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.argv = STRV_EMPTY;
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.argv = NULL;
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);

        /* Environment entries: no '=', bad name, duplicate name. */
        p.argv = STRV("/bin/true");
        p.env = STRV("RENEWD_X");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.env = STRV("bad name=1");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.env = STRV("=1");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.env = STRV("RENEWD_A=1", "RENEWD_B=2", "RENEWD_A=3");
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EINVAL);
        p.env = STRV("RENEWD_A=1", "RENEWD_AB=2");
        CHECK_INT(hook_start(e, &p, on_done, NULL, NULL), -EINVAL); /* no ret */
        CHECK_INT(hook_start(NULL, &p, on_done, NULL, &h), -EINVAL);
        CHECK_INT(hook_start(e, NULL, on_done, NULL, &h), -EINVAL);
        CHECK(h == (Hook *) 0x1);

        /* Nothing was left running or pending. */
        CHECK_INT(sd_event_run(e, 0), 0);
}

TEST(sigchld_must_be_blocked) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        HookParams p = { .argv = STRV("/bin/true") };
        Hook *h = NULL;
        sigset_t ss;

        REQUIRE(e);
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        REQUIRE(sigprocmask(SIG_UNBLOCK, &ss, NULL) == 0);
        CHECK_INT(hook_start(e, &p, on_done, NULL, &h), -EBUSY);
        CHECK(!h);
        REQUIRE(sigprocmask(SIG_BLOCK, &ss, NULL) == 0);
}

/* Run argv to completion and return what it printed (NULL on any failure). */
static char *hook_output_of(sd_event *e, char *const *argv, pid_t *ret_pid) {
        Outcome o = {};
        char *s = NULL;

        if (run_hook(e, argv, NULL, 0, 0, &o) >= 0 && o.result == 0) {
                s = TAKE_PTR(o.output);
                if (ret_pid)
                        *ret_pid = hook_pid(o.hook);
        }
        outcome_done(&o);
        return s;
}

/* The program's own process state (each program is the hook itself, as nothing in between
 * may change it): its own process group, no blocked or ignored signals, stdin from
 * /dev/null, stdout and stderr the same pipe, no inherited descriptors. */
TEST(process_state) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_close_ int leak = -EBADF;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        _cleanup_free_ char *sig = NULL, *fds = NULL, *in = NULL, *out = NULL, *stat = NULL;
        uint64_t blocked = 1, ignored = 1;
        int pid = 0, pgrp = 0;
        pid_t leader = -1;
        char a[64] = "", b[64] = "";

        REQUIRE(e);
        /* A descriptor without O_CLOEXEC and an ignored signal must not reach the hook. */
        leak = open("/dev/null", O_RDONLY);
        REQUIRE(leak >= 0);
        REQUIRE(sigaction(SIGUSR1, &ign, &old) == 0);
        sig = hook_output_of(e, STRV("/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"), NULL);
        fds = hook_output_of(e, STRV("/bin/ls", "/proc/self/fd"), NULL);
        REQUIRE(sigaction(SIGUSR1, &old, NULL) == 0);
        in = hook_output_of(e, STRV("/bin/readlink", "/proc/self/fd/0"), NULL);
        out = hook_output_of(e, STRV("/bin/readlink", "/proc/self/fd/1", "/proc/self/fd/2"), NULL);
        stat = hook_output_of(e, STRV("/bin/cat", "/proc/self/stat"), &leader);

        /* Nothing blocked; nothing ignored but glibc's internal signals (32 up to SIGRTMIN),
         * which posix_spawn() cannot reset and the program's libc takes over. */
        REQUIRE(sig);
        REQUIRE(sscanf(sig, "SigBlk:\t%" SCNx64 "\nSigIgn:\t%" SCNx64, &blocked, &ignored) == 2);
        CHECK(blocked == 0);
        for (int i = 32; i < SIGRTMIN; i++)
                ignored &= ~(UINT64_C(1) << (i - 1));
        CHECK(ignored == 0);
        /* 0, 1, 2 and the directory ls reads. */
        CHECK_STR(fds, "0\n1\n2\n3\n");
        CHECK_STR(in, "/dev/null\n");
        REQUIRE(out);
        CHECK(sscanf(out, "%63s %63s", a, b) == 2 && startswith(a, "pipe:") && streq(a, b));
        REQUIRE(stat);
        CHECK(sscanf(stat, "%d (cat) %*c %*d %d", &pid, &pgrp) == 2);
        CHECK_INT(pid, leader);
        CHECK_INT(pgrp, leader);
}

TEST(timeout_kills_group) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *pidfile = NULL;
        Outcome o = {};
        pid_t leader, bg;

        REQUIRE(dir && e);
        script = write_script(dir, "hang.sh", "#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\nwait\n");
        pidfile = test_path_join(dir, "bg.pid");
        REQUIRE(script && pidfile);

        REQUIRE(run_hook(e, STRV(script, pidfile), NULL, USEC_PER_SEC, 0, &o) == 0);
        CHECK_INT(o.calls, 1);
        CHECK_INT(o.result, -ETIME);
        CHECK_STR(o.describe, "timed out after 1 s; its process group was killed");
        leader = hook_pid(o.hook);
        CHECK(kill(leader, 0) < 0 && errno == ESRCH); /* reaped */
        CHECK(wait_group_gone(leader));
        bg = read_pid_file(dir, "bg.pid");
        if (bg > 0)
                CHECK(wait_gone(e, bg, false));
        outcome_done(&o);
}

TEST(timeout_escalates_to_sigkill) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *pidfile = NULL;
        Outcome o = {};
        pid_t leader, bg;

        REQUIRE(dir && e);
        /* Ignores SIGTERM, and so does its child: only SIGKILL ends them. */
        script = write_script(dir, "stubborn.sh",
                              "#!/bin/sh\ntrap '' TERM\nsleep 1000 &\necho $! > \"$1\"\nwhile :; do wait; done\n");
        pidfile = test_path_join(dir, "bg.pid");
        REQUIRE(script && pidfile);

        REQUIRE(run_hook(e, STRV(script, pidfile), NULL, 1500 * USEC_PER_MSEC, 0, &o) == 0);
        CHECK_INT(o.result, -ETIME);
        CHECK_STR(o.describe, "timed out after 1500 ms; its process group was killed");
        leader = hook_pid(o.hook);
        CHECK(kill(leader, 0) < 0 && errno == ESRCH);
        CHECK(wait_group_gone(leader));
        bg = read_pid_file(dir, "bg.pid");
        if (bg > 0)
                CHECK(wait_gone(e, bg, false));
        outcome_done(&o);
}

TEST(leftover_child_killed) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *pidfile = NULL;
        Outcome o = {};
        pid_t bg;

        REQUIRE(dir && e);
        pidfile = test_path_join(dir, "bg.pid");
        REQUIRE(pidfile);

        /* The child keeps the output pipe open: the hook ends when it is killed. */
        script = write_script(dir, "leave.sh", "#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\necho bye\nexit 7\n");
        REQUIRE(script);
        REQUIRE(run_hook(e, STRV(script, pidfile), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 7);
        CHECK_STR(o.output, "bye\n");
        bg = read_pid_file(dir, "bg.pid");
        CHECK(bg > 0);
        CHECK(bg <= 0 || wait_gone(e, bg, false));
        CHECK(wait_group_gone(hook_pid(o.hook)));
        outcome_done(&o);

        /* The child does not hold the pipe: it is killed all the same. */
        o = (Outcome) {};
        free(script);
        script = write_script(dir, "leave2.sh",
                              "#!/bin/sh\nsleep 1000 >/dev/null 2>&1 &\necho $! > \"$1\"\nexit 0\n");
        REQUIRE(script);
        REQUIRE(run_hook(e, STRV(script, pidfile), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        bg = read_pid_file(dir, "bg.pid");
        CHECK(bg > 0);
        CHECK(bg <= 0 || wait_gone(e, bg, false));
        outcome_done(&o);
}

/* A process that left the process group (setsid) keeps the pipe open: the hook still ends,
 * HOOK_KILL_GRACE_USEC after the leader. */
TEST(escaped_child_does_not_hold_up) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *pidfile = NULL;
        Outcome o = {};
        pid_t bg;

        REQUIRE(dir && e);
        if (access("/usr/bin/setsid", X_OK) < 0) {
                printf("skipping: no /usr/bin/setsid\n");
                return;
        }
        pidfile = test_path_join(dir, "bg.pid");
        script = write_script(dir, "escape.sh",
                              "#!/bin/sh\n"
                              "/usr/bin/setsid /bin/sh -c 'echo $$ > \"$1\"; exec sleep 1000' - \"$1\" &\n"
                              "while [ ! -s \"$1\" ]; do sleep 0.05; done\n" /* it has left the group */
                              "echo started\n");
        REQUIRE(script && pidfile);
        REQUIRE(run_hook(e, STRV(script, pidfile), NULL, 0, 0, &o) == 0);
        CHECK_INT(o.result, 0);
        CHECK_STR(o.output, "started\n");
        bg = read_pid_file(dir, "bg.pid");
        if (bg > 0) {
                (void) kill(bg, SIGKILL);
                CHECK(wait_gone(e, bg, false));
        }
        outcome_done(&o);
}

TEST(free_running_hook) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        _cleanup_free_ char *script = NULL, *pidfile = NULL, *describe = NULL;
        HookParams p = {};
        Outcome o = {};
        uint64_t end;
        pid_t leader, bg = 0;

        REQUIRE(dir && e);
        script = write_script(dir, "hang.sh", "#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\nwait\n");
        pidfile = test_path_join(dir, "bg.pid");
        REQUIRE(script && pidfile);
        p.argv = STRV(script, pidfile);

        REQUIRE(hook_start(e, &p, on_done, &o, &o.hook) == 0);
        leader = hook_pid(o.hook);
        CHECK(leader > 0);
        describe = hook_describe(o.hook);
        REQUIRE(describe);
        CHECK(startswith(describe, "is running as pid "));

        /* Wait until the background child exists. */
        end = now_usec() + DEADLINE_USEC;
        while (bg <= 0 && now_usec() < end) {
                (void) sd_event_run(e, 100 * USEC_PER_MSEC);
                bg = read_pid_file(dir, "bg.pid");
        }
        REQUIRE(bg > 0);
        CHECK(process_alive(leader));
        CHECK(process_alive(bg));

        o.hook = hook_free(o.hook);
        CHECK(wait_gone(e, leader, true)); /* killed and reaped by the loop */
        CHECK(wait_gone(e, bg, false));
        CHECK(wait_group_gone(leader));
        CHECK_INT(o.calls, 0);
        outcome_done(&o);
}

TEST(free_in_callback_and_concurrent) {
        _cleanup_(sd_event_unrefp) sd_event *e = new_event();
        Outcome o[3] = { { .free_in_callback = true }, { .free_in_callback = true }, { .free_in_callback = true } };
        HookParams p[3] = {
                { .argv = STRV("/bin/sh", "-c", "echo one; exit 1") },
                { .argv = STRV("/bin/sh", "-c", "echo two; exit 2") },
                { .argv = STRV("/bin/sh", "-c", "sleep 0.2; echo three; exit 3") },
        };
        uint64_t end;

        REQUIRE(e);
        for (size_t i = 0; i < 3; i++)
                REQUIRE(hook_start(e, &p[i], on_done, &o[i], &o[i].hook) == 0);

        end = now_usec() + DEADLINE_USEC;
        while ((o[0].calls == 0 || o[1].calls == 0 || o[2].calls == 0) && now_usec() < end)
                REQUIRE(sd_event_run(e, 500 * USEC_PER_MSEC) >= 0);

        for (size_t i = 0; i < 3; i++) {
                CHECK_INT(o[i].calls, 1);
                CHECK_INT(o[i].result, (int) i + 1);
                CHECK(!o[i].hook); /* freed in the callback */
        }
        CHECK_STR(o[0].output, "one\n");
        CHECK_STR(o[1].output, "two\n");
        CHECK_STR(o[2].output, "three\n");
        /* Nothing more happens afterwards. */
        (void) sd_event_run(e, 100 * USEC_PER_MSEC);
        for (size_t i = 0; i < 3; i++) {
                CHECK_INT(o[i].calls, 1);
                outcome_done(&o[i]);
        }
}

TEST_MAIN(T(env_entry), T(argv_verbatim), T(exit_status_and_signal), T(output_captured_and_capped),
          T(environment_exact), T(bad_parameters), T(sigchld_must_be_blocked), T(process_state),
          T(timeout_kills_group), T(timeout_escalates_to_sigkill), T(leftover_child_killed),
          T(escaped_child_does_not_hold_up), T(free_running_hook), T(free_in_callback_and_concurrent));
