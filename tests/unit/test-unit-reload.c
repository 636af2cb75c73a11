/* SPDX-License-Identifier: MIT */
/* lib/unit-reload against a private dbus-daemon and tests/integration/fake-systemd, both
 * started here (the fake's path comes from $RENEWD_FAKE_SYSTEMD). Skipped (77) only when
 * dbus-daemon is not installed. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "strv.h"
#include "test.h"
#include "unit-reload.h"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)
/* How long anything may take before the test gives up: generous for a loaded machine. */
#define STARTUP_TIMEOUT_MS 30000
#define LOOP_TIMEOUT_USEC (60 * USEC_PER_SEC)

typedef struct Env {
        char *tmp;
        char *config;
        char *socket;
        char *log;
        pid_t dbus_pid, fake_pid;
} Env;

typedef struct Result {
        int calls;
        int error;
        /* Free the job (and the reloader, if set) inside the callback. */
        bool free_in_callback;
        UnitReloader **reloader;
} Result;

static char *dbus_daemon_path(void) {
        static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/local/bin" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *p = NULL;

                if (asprintf(&p, "%s/dbus-daemon", dirs[i]) < 0)
                        return NULL;
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

/* Start argv[0] with its stdout on a pipe; returns the read end, or -1. */
static int spawn(char *const argv[], pid_t *ret_pid) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        if (pid == 0) {
                /* Do not outlive a crashed test. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1)
                        _exit(127);
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        *ret_pid = pid;
        return p[0];
}

/* Read one line (without the newline) from fd within the startup timeout. */
static bool read_line(int fd, char *buf, size_t size) {
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (poll(&pfd, 1, STARTUP_TIMEOUT_MS) <= 0)
                        return false;
                k = read(fd, buf + n, 1);
                if (k <= 0)
                        return false;
                if (buf[n] == '\n') {
                        buf[n] = 0;
                        return true;
                }
                n++;
        }
        return false;
}

/* SIGTERM, then reap; SIGKILL if it does not go within the startup timeout. */
static void stop_process(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGTERM);
        for (int i = 0; i < STARTUP_TIMEOUT_MS / 10; i++) {
                if (waitpid(*pid, NULL, WNOHANG) != 0)
                        goto done;
                usleep(10000);
        }
        (void) kill(*pid, SIGKILL);
        (void) waitpid(*pid, NULL, 0);
done:
        *pid = 0;
}

static bool start_dbus(Env *env) {
        _cleanup_free_ char *daemon = dbus_daemon_path(), *arg = NULL;
        _cleanup_close_ int fd = -EBADF;
        char address[512];

        if (!daemon || asprintf(&arg, "--config-file=%s", env->config) < 0)
                return false;
        (void) unlink(env->socket); /* left behind by a daemon that was killed */
        fd = spawn((char *const[]) { daemon, arg, (char *) "--print-address=1", (char *) "--nofork", NULL },
                   &env->dbus_pid);
        if (fd < 0 || !read_line(fd, address, sizeof address) || !startswith(address, "unix:"))
                return false;
        return setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1) == 0;
}

static bool start_fake(Env *env) {
        const char *fake = getenv("RENEWD_FAKE_SYSTEMD");
        _cleanup_close_ int fd = -EBADF;
        char line[64];

        if (!fake || access(fake, X_OK) < 0) {
                fprintf(stderr, "fake-systemd not found (RENEWD_FAKE_SYSTEMD=%s)\n", strna(fake));
                return false;
        }
        fd = spawn((char *const[]) { (char *) fake, env->log, getenv("DBUS_SYSTEM_BUS_ADDRESS"), NULL },
                   &env->fake_pid);
        return fd >= 0 && read_line(fd, line, sizeof line) && streq(line, "READY");
}

static void env_done(Env *env) {
        stop_process(&env->fake_pid);
        stop_process(&env->dbus_pid);
        if (env->tmp)
                (void) test_rm_rf(AT_FDCWD, env->tmp);
        free(env->tmp);
        free(env->config);
        free(env->socket);
        free(env->log);
        *env = (Env) {};
        (void) unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

/* A private bus in a fresh directory, with fake systemd on it unless !with_fake. */
static bool env_setup_one(Env *env, bool with_fake) {
        _cleanup_free_ char *daemon = dbus_daemon_path();
        _cleanup_fclose_ FILE *f = NULL;

        if (!daemon) {
                printf("SKIP: dbus-daemon is not installed (apt-get install dbus-daemon)\n");
                exit(77);
        }
        *env = (Env) {};
        env->tmp = test_tmpdir();
        if (!env->tmp || asprintf(&env->config, "%s/bus.conf", env->tmp) < 0 ||
            asprintf(&env->socket, "%s/bus", env->tmp) < 0 || asprintf(&env->log, "%s/calls.log", env->tmp) < 0)
                return false;
        f = fopen(env->config, "we");
        if (!f)
                return false;
        fprintf(f, "<busconfig>\n"
                   "  <type>system</type>\n"
                   "  <listen>unix:path=%s</listen>\n"
                   "  <auth>EXTERNAL</auth>\n"
                   "  <policy context=\"default\">\n"
                   "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                   "    <allow eavesdrop=\"true\"/>\n"
                   "    <allow own=\"*\"/>\n"
                   "    <allow user=\"*\"/>\n"
                   "  </policy>\n"
                   "</busconfig>\n", env->socket);
        if (fflush(f) != 0)
                return false;
        return start_dbus(env) && (!with_fake || start_fake(env));
}

/* Set up, or leave nothing behind. */
static bool env_setup(Env *env, bool with_fake) {
        if (env_setup_one(env, with_fake))
                return true;
        env_done(env);
        return false;
}

static void on_done(UnitReloadJob *j, int error, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->error = error;
        if (res->free_in_callback) {
                unit_reload_job_free(j);
                if (res->reloader)
                        *res->reloader = unit_reloader_free(*res->reloader);
        }
}

static int on_loop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

/* Run the loop until *n reaches want, or until timeout_usec passed; false on timeout. */
static bool run_until(sd_event *e, const int *n, int want, uint64_t timeout_usec) {
        sd_event_source *t = NULL;
        bool timed_out = false;

        if (sd_event_add_time_relative(e, &t, CLOCK_MONOTONIC, timeout_usec, 0, on_loop_timeout, &timed_out) < 0)
                return false;
        while ((!n || *n < want) && !timed_out)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        break;
        sd_event_source_disable_unref(t);
        return n && *n >= want;
}

/* Lines of the fake's log equal to "RELOAD <unit> replace". */
static int log_count(const Env *env, const char *unit) {
        _cleanup_fclose_ FILE *f = fopen(env->log, "re");
        char line[512], want[512];
        int n = 0;

        if (!f)
                return 0;
        snprintf(want, sizeof want, "RELOAD %s replace\n", unit);
        while (fgets(line, sizeof line, f))
                n += streq(line, want);
        return n;
}

static int log_lines(const Env *env) {
        _cleanup_fclose_ FILE *f = fopen(env->log, "re");
        char line[512];
        int n = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                n++;
        return n;
}

/* Reload units and run the loop until the job completes; returns the callback's error,
 * or 1 if it was never called. */
static int reload_and_wait(UnitReloader *r, sd_event *e, char *const *units, uint64_t timeout,
                           UnitReloadJob **ret_job) {
        Result res = {};
        UnitReloadJob *j = NULL;
        int k;

        k = unit_reloader_reload(r, units, timeout, on_done, &res, &j);
        if (k < 0)
                return k;
        if (!run_until(e, &res.calls, 1, LOOP_TIMEOUT_USEC)) {
                unit_reload_job_free(j);
                return 1;
        }
        CHECK_INT(res.calls, 1);
        *ret_job = j;
        return res.error;
}

#define STRV(...) ((char *const[]) { __VA_ARGS__, NULL })

TEST(two_units) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL, *j2 = NULL;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        CHECK_INT(reload_and_wait(r, e, STRV("nginx.service", "haproxy.service"), 0, &j), 0);
        CHECK(!unit_reload_job_error_text(j));
        CHECK(strv_isempty(unit_reload_job_failed_units(j)));
        CHECK_INT(log_count(&env, "nginx.service"), 1);
        CHECK_INT(log_count(&env, "haproxy.service"), 1);
        CHECK_INT(log_lines(&env), 2);

        /* The connection is reused for a second job; a template instance is fine. */
        CHECK_INT(reload_and_wait(r, e, STRV("getty@tty1.service"), 0, &j2), 0);
        CHECK_INT(log_count(&env, "getty@tty1.service"), 1);
        CHECK_INT(log_lines(&env), 3);
        env_done(&env);
}

TEST(duplicates_reloaded_once) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        CHECK_INT(reload_and_wait(r, e, STRV("a.service", "b.socket", "a.service", "a.service", "b.socket"),
                                  0, &j), 0);
        CHECK_INT(log_count(&env, "a.service"), 1);
        CHECK_INT(log_count(&env, "b.socket"), 1);
        CHECK_INT(log_lines(&env), 2);
        env_done(&env);
}

TEST(failing_unit) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL;
        char *const *failed;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        CHECK_INT(reload_and_wait(r, e, STRV("ok.service", "fail-web.service"), 0, &j), -EIO);
        CHECK_STR(unit_reload_job_error_text(j), "fail-web.service: job failed (result: failed)");
        failed = unit_reload_job_failed_units(j);
        CHECK_INT(strv_length(failed), 1);
        CHECK_STR(failed[0], "fail-web.service"); /* NULL (a failed check) if empty */
        /* The other unit was still reloaded. */
        CHECK_INT(log_count(&env, "ok.service"), 1);
        CHECK_INT(log_count(&env, "fail-web.service"), 1);
        env_done(&env);
}

TEST(missing_and_denied_units) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j1 = NULL, *j2 = NULL, *j3 = NULL;
        char *const *failed;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        CHECK_INT(reload_and_wait(r, e, STRV("missing-proxy.service"), 0, &j1), -ENOENT);
        CHECK_STR(unit_reload_job_error_text(j1), "missing-proxy.service: no such unit");

        CHECK_INT(reload_and_wait(r, e, STRV("denied.service"), 0, &j2), -EACCES);
        CHECK_STR(unit_reload_job_error_text(j2), "denied.service: access denied");

        /* Several failures: the error is the first failed unit's in the given order, and
         * the text lists each of them; the good unit is still reloaded. */
        CHECK_INT(reload_and_wait(r, e, STRV("ok.service", "fail.service", "missing.service"), 0, &j3), -EIO);
        CHECK_STR(unit_reload_job_error_text(j3),
                  "fail.service: job failed (result: failed); missing.service: no such unit");
        failed = unit_reload_job_failed_units(j3);
        CHECK_INT(strv_length(failed), 2);
        if (strv_length(failed) == 2) {
                CHECK_STR(failed[0], "fail.service");
                CHECK_STR(failed[1], "missing.service");
        }
        CHECK_INT(log_count(&env, "ok.service"), 1);
        env_done(&env);
}

TEST(job_removed_before_reply) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        /* fake-systemd signals these jobs' end before replying: without remembering the
         * early signal the job would run into its (long) timeout instead of succeeding. */
        CHECK_INT(reload_and_wait(r, e, STRV("fast-a.service", "fast-b.service", "slow.service"),
                                  30 * USEC_PER_SEC, &j), 0);
        CHECK(!unit_reload_job_error_text(j));
        CHECK_INT(log_lines(&env), 3);
        env_done(&env);
}

TEST(hanging_unit_times_out) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL, *j2 = NULL;
        char *const *failed;
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        CHECK_INT(reload_and_wait(r, e, STRV("hang.service", "ok.service"), USEC_PER_SEC, &j), -ETIME);
        CHECK_STR(unit_reload_job_error_text(j), "hang.service: timed out waiting for the job");
        failed = unit_reload_job_failed_units(j);
        CHECK_INT(strv_length(failed), 1);
        CHECK_STR(failed[0], "hang.service");
        CHECK_INT(log_count(&env, "ok.service"), 1);

        /* The reloader is still usable afterwards. */
        CHECK_INT(reload_and_wait(r, e, STRV("ok.service"), 0, &j2), 0);
        env_done(&env);
}

TEST(free_while_waiting) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        UnitReloader *r = NULL;
        UnitReloadJob *calling = NULL, *waiting = NULL, *detached = NULL, *ok = NULL;
        Result res_calling = {}, res_waiting = {}, res_detached = {}, res_ok = {};
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        /* Freed before the call was even sent. */
        REQUIRE(unit_reloader_reload(r, STRV("hang-1.service"), 0, on_done, &res_calling, &calling) == 0);
        calling = unit_reload_job_free(calling);

        /* Freed while waiting for its job: the fake answers in order, so once the later
         * ok.service job is done the earlier reply has been handled. */
        REQUIRE(unit_reloader_reload(r, STRV("hang-2.service", "hang-3.service"), 0, on_done, &res_waiting,
                                     &waiting) == 0);
        REQUIRE(unit_reloader_reload(r, STRV("hang-4.service"), 0, on_done, &res_detached, &detached) == 0);
        REQUIRE(unit_reloader_reload(r, STRV("ok.service"), 0, on_done, &res_ok, &ok) == 0);
        CHECK(run_until(e, &res_ok.calls, 1, LOOP_TIMEOUT_USEC));
        CHECK_INT(res_ok.error, 0);
        CHECK_INT(log_lines(&env), 5);
        waiting = unit_reload_job_free(waiting);

        /* The reloader goes first: the job left is detached, stays valid, never calls. */
        r = unit_reloader_free(r);
        CHECK(!unit_reload_job_error_text(detached));
        CHECK(run_until(e, NULL, 0, 300 * USEC_PER_MSEC) == false);
        CHECK_INT(res_calling.calls, 0);
        CHECK_INT(res_waiting.calls, 0);
        CHECK_INT(res_detached.calls, 0);
        detached = unit_reload_job_free(detached);
        ok = unit_reload_job_free(ok);
        env_done(&env);
}

TEST(free_in_callback) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        UnitReloader *r = NULL;
        UnitReloadJob *j = NULL, *other = NULL;
        Result res = {}, res_other = {};
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        /* The callback frees its job and the reloader while another job still waits. */
        res.free_in_callback = true;
        res.reloader = &r;
        REQUIRE(unit_reloader_reload(r, STRV("hang.service"), 0, on_done, &res_other, &other) == 0);
        REQUIRE(unit_reloader_reload(r, STRV("ok.service"), 0, on_done, &res, &j) == 0);
        CHECK(run_until(e, &res.calls, 1, LOOP_TIMEOUT_USEC));
        CHECK_INT(res.error, 0);
        CHECK(!r);
        CHECK(run_until(e, NULL, 0, 100 * USEC_PER_MSEC) == false);
        CHECK_INT(res_other.calls, 0);
        unit_reload_job_free(other);
        env_done(&env);
}

TEST(bad_arguments) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        UnitReloadJob *j = (UnitReloadJob *) 0x1;
        Result res = {};

        REQUIRE(sd_event_new(&e) >= 0);
        CHECK_INT(unit_reloader_new(NULL, &r), -EINVAL);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        /* Rejected before any connection is tried; ret untouched. */
        CHECK_INT(unit_reloader_reload(r, STRV("nginx"), 0, on_done, &res, &j), -EINVAL);
        CHECK_INT(unit_reloader_reload(r, STRV("ok.service", ""), 0, on_done, &res, &j), -EINVAL);
        CHECK_INT(unit_reloader_reload(r, STRV("../x.service"), 0, on_done, &res, &j), -EINVAL);
        CHECK_INT(unit_reloader_reload(r, STRV("a b.service"), 0, on_done, &res, &j), -EINVAL);
        CHECK_INT(unit_reloader_reload(r, STRV("tmpl@.service"), 0, on_done, &res, &j), -EINVAL);
        CHECK_INT(unit_reloader_reload(r, STRV("ok.service"), 0, NULL, &res, &j), -EINVAL);
        CHECK(j == (UnitReloadJob *) 0x1);

        CHECK(unit_name_is_valid("nginx.service"));
        CHECK(unit_name_is_valid("getty@tty1.service"));
        CHECK(!unit_name_is_valid("nginx"));
        CHECK(!unit_name_is_valid(""));
        CHECK(!unit_name_is_valid(NULL));

        /* Nothing to do: completes from the loop, without a bus. */
        REQUIRE(setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/renewd-test-bus", 1) == 0);
        REQUIRE(unit_reloader_reload(r, STRV(NULL), 0, on_done, &res, &j) == 0);
        CHECK_INT(res.calls, 0);
        CHECK(run_until(e, &res.calls, 1, LOOP_TIMEOUT_USEC));
        CHECK_INT(res.error, 0);
        CHECK(!unit_reload_job_error_text(j));
        CHECK(strv_isempty(unit_reload_job_failed_units(j)));
        j = unit_reload_job_free(j);
        CHECK(!unit_reload_job_free(NULL));
        CHECK(!unit_reloader_free(NULL));
        (void) unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

TEST(no_bus) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        UnitReloadJob *j = NULL;
        Result res = {};
        int k;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);
        REQUIRE(setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/renewd-test-bus", 1) == 0);
        k = unit_reloader_reload(r, STRV("ok.service"), 0, on_done, &res, &j);
        CHECK_INT(k, -ENOENT);
        CHECK(!j);
        (void) unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

TEST(no_service_manager) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL;
        const char *text;
        _cleanup_(env_done) Env env = {};
        int k;

        /* The bus is there, but nobody owns org.freedesktop.systemd1. */
        REQUIRE(env_setup(&env, false));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        k = reload_and_wait(r, e, STRV("ok.service"), 0, &j);
        CHECK(k < 0 && k != -ETIME);
        text = unit_reload_job_error_text(j);
        CHECK(text && startswith(text, "ok.service: "));
        env_done(&env);
}

TEST(bus_lost_and_reconnect) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        _cleanup_(unit_reload_job_freep) UnitReloadJob *hang = NULL, *ok = NULL, *again = NULL;
        Result res_hang = {}, res_ok = {};
        _cleanup_(env_done) Env env = {};

        REQUIRE(env_setup(&env, true));
        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(unit_reloader_new(e, &r) == 0);

        REQUIRE(unit_reloader_reload(r, STRV("hang.service"), 0, on_done, &res_hang, &hang) == 0);
        REQUIRE(unit_reloader_reload(r, STRV("ok.service"), 0, on_done, &res_ok, &ok) == 0);
        CHECK(run_until(e, &res_ok.calls, 1, LOOP_TIMEOUT_USEC));
        CHECK_INT(res_ok.error, 0);

        /* The bus daemon dies while hang.service's job is waited for. */
        stop_process(&env.fake_pid);
        stop_process(&env.dbus_pid);
        CHECK(run_until(e, &res_hang.calls, 1, LOOP_TIMEOUT_USEC));
        CHECK_INT(res_hang.error, -ECONNRESET);
        CHECK_STR(unit_reload_job_error_text(hang), "hang.service: connection to the bus lost");

        /* A new bus at the same address: the next reload connects again. */
        REQUIRE(start_dbus(&env) && start_fake(&env));
        CHECK_INT(reload_and_wait(r, e, STRV("again.service"), 0, &again), 0);
        CHECK_INT(log_count(&env, "again.service"), 1);
        env_done(&env);
}

TEST_MAIN(T(bad_arguments), T(no_bus), T(two_units), T(duplicates_reloaded_once), T(failing_unit),
          T(missing_and_denied_units), T(job_removed_before_reply), T(hanging_unit_times_out),
          T(free_while_waiting), T(free_in_callback), T(no_service_manager), T(bus_lost_and_reconnect))
