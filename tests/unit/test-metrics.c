/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "macro.h"
#include "metrics.h"
#include "test.h"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

extern char **environ;

static const MetricsDaemon daemon_state = {
        .start_time = 1700000000,
        .renewals_total = 12,
        .renewal_failures_total = 3,
        .hook_failures_total = 1,
        .reload_failures_total = 0,
        .certificates = 2,
};

/* Given out of order on purpose: the output is sorted by name. */
static const MetricsCert two_certs[] = {
        {
                .name = "www",
                .not_after = 1710000000,
                .last_success = 1702000000,
                .consecutive_failures = 0,
                .next_renewal = 1708000000,
                .renewing = true,
        },
        {
                .name = "mail",
                .not_after = 1705000000,
                .last_success = 1699000000,
                .last_failure = 1704000000,
                .consecutive_failures = 2,
                .next_renewal = 1704003600,
                .ari_window_start = 1703900000,
                .ari_window_end = 1704100000,
        },
};

static const char two_certs_text[] =
        "# HELP renewd_certificate_ari_window_end_timestamp_seconds End of the renewal window the CA suggested (ACME Renewal Information).\n"
        "# TYPE renewd_certificate_ari_window_end_timestamp_seconds gauge\n"
        "renewd_certificate_ari_window_end_timestamp_seconds{name=\"mail\"} 1704100000\n"
        "# HELP renewd_certificate_ari_window_start_timestamp_seconds Start of the renewal window the CA suggested (ACME Renewal Information).\n"
        "# TYPE renewd_certificate_ari_window_start_timestamp_seconds gauge\n"
        "renewd_certificate_ari_window_start_timestamp_seconds{name=\"mail\"} 1703900000\n"
        "# HELP renewd_certificate_consecutive_failures Renewal attempts that failed since the last success.\n"
        "# TYPE renewd_certificate_consecutive_failures gauge\n"
        "renewd_certificate_consecutive_failures{name=\"mail\"} 2\n"
        "renewd_certificate_consecutive_failures{name=\"www\"} 0\n"
        "# HELP renewd_certificate_last_failure_timestamp_seconds When the last renewal attempt failed.\n"
        "# TYPE renewd_certificate_last_failure_timestamp_seconds gauge\n"
        "renewd_certificate_last_failure_timestamp_seconds{name=\"mail\"} 1704000000\n"
        "# HELP renewd_certificate_last_success_timestamp_seconds When the certificate was last renewed successfully.\n"
        "# TYPE renewd_certificate_last_success_timestamp_seconds gauge\n"
        "renewd_certificate_last_success_timestamp_seconds{name=\"mail\"} 1699000000\n"
        "renewd_certificate_last_success_timestamp_seconds{name=\"www\"} 1702000000\n"
        "# HELP renewd_certificate_next_renewal_timestamp_seconds When the next renewal attempt is due.\n"
        "# TYPE renewd_certificate_next_renewal_timestamp_seconds gauge\n"
        "renewd_certificate_next_renewal_timestamp_seconds{name=\"mail\"} 1704003600\n"
        "renewd_certificate_next_renewal_timestamp_seconds{name=\"www\"} 1708000000\n"
        "# HELP renewd_certificate_not_after_timestamp_seconds Expiry (notAfter) of the installed certificate.\n"
        "# TYPE renewd_certificate_not_after_timestamp_seconds gauge\n"
        "renewd_certificate_not_after_timestamp_seconds{name=\"mail\"} 1705000000\n"
        "renewd_certificate_not_after_timestamp_seconds{name=\"www\"} 1710000000\n"
        "# HELP renewd_certificate_renewing Whether a renewal of the certificate is in progress (1) or not (0).\n"
        "# TYPE renewd_certificate_renewing gauge\n"
        "renewd_certificate_renewing{name=\"mail\"} 0\n"
        "renewd_certificate_renewing{name=\"www\"} 1\n"
        "# HELP renewd_certificates Certificates in the configuration.\n"
        "# TYPE renewd_certificates gauge\n"
        "renewd_certificates 2\n"
        "# HELP renewd_hook_failures_total Hooks (deploy_hook, on_failure) that failed since the daemon started.\n"
        "# TYPE renewd_hook_failures_total counter\n"
        "renewd_hook_failures_total 1\n"
        "# HELP renewd_reload_failures_total Service reloads that failed since the daemon started.\n"
        "# TYPE renewd_reload_failures_total counter\n"
        "renewd_reload_failures_total 0\n"
        "# HELP renewd_renewal_failures_total Renewal attempts that failed since the daemon started.\n"
        "# TYPE renewd_renewal_failures_total counter\n"
        "renewd_renewal_failures_total 3\n"
        "# HELP renewd_renewals_total Certificates renewed successfully since the daemon started.\n"
        "# TYPE renewd_renewals_total counter\n"
        "renewd_renewals_total 12\n"
        "# HELP renewd_start_time_seconds When the daemon started.\n"
        "# TYPE renewd_start_time_seconds gauge\n"
        "renewd_start_time_seconds 1700000000\n";

/* Number of occurrences of needle in s. */
static size_t count_str(const char *s, const char *needle) {
        size_t n = 0;

        for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* Number of entries in a directory (without . and ..), -1 if it cannot be read. */
static int dir_entries(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* Path of tests/tools/promparse.py, found from RENEWD_TEST_DATA (tests/data); NULL when the
 * variable is not set (the test was not started by meson). */
static char *promparse_path(void) {
        const char *data = getenv("RENEWD_TEST_DATA");
        char *p = NULL;

        if (isempty(data))
                return NULL;
        if (asprintf(&p, "%s/../tools/promparse.py", data) < 0)
                return NULL;
        if (access(p, R_OK) < 0)
                return mfree(p);
        return p;
}

/* Run "python3 promparse.py" on text (written to a file in dir). Returns its exit status,
 * or -1 when python3 or the script is not available (the check is skipped then). */
static int promparse_check(const char *dir, const char *text) {
        _cleanup_free_ char *script = promparse_path(), *file = NULL;
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status;

        if (!script) {
                fprintf(stderr, "note: promparse.py not found, cross-check skipped\n");
                return -1;
        }
        if (asprintf(&file, "%s/check.prom", dir) < 0)
                return -2;
        if (metrics_write(file, text) < 0)
                return -2;

        char *argv[] = { (char *) "python3", script, file, NULL };
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -2;
        /* The JSON goes nowhere; only the verdict matters here. */
        (void) posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&pid, "python3", &fa, NULL, argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                fprintf(stderr, "note: python3 not found, cross-check skipped\n");
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -2;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CHECK_PROMPARSE(dir, text)                                  \
        do {                                                        \
                int _s = promparse_check(dir, text);                \
                CHECK(_s == 0 || _s == -1);                         \
        } while (0)

TEST(small_state_exact) {
        _cleanup_free_ char *text = NULL;

        CHECK_INT(metrics_format(&daemon_state, two_certs, ELEMENTSOF(two_certs), &text), 0);
        CHECK_STR(text, two_certs_text);
}

TEST(input_order_irrelevant) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        MetricsCert swapped[] = { two_certs[1], two_certs[0] };

        CHECK_INT(metrics_format(&daemon_state, two_certs, 2, &a), 0);
        CHECK_INT(metrics_format(&daemon_state, swapped, 2, &b), 0);
        CHECK_STR(a, b);
}

/* Every family's TYPE line comes in byte-wise order, each family once, HELP first. */
TEST(families_sorted_once) {
        _cleanup_free_ char *text = NULL;
        MetricsCert all = {
                .name = "x", .not_after = 1, .last_success = 2, .last_failure = 3, .consecutive_failures = 4,
                .next_renewal = 5, .ari_window_start = 6, .ari_window_end = 7, .renewing = true,
        };
        char prev[256] = "";
        size_t families = 0;

        REQUIRE(metrics_format(&daemon_state, &all, 1, &text) == 0);
        for (const char *p = text; (p = strstr(p, "# TYPE ")); p++) {
                char name[256], help[300];
                size_t l;

                p += strlen("# TYPE ");
                l = strcspn(p, " ");
                REQUIRE(l < sizeof(name));
                memcpy(name, p, l);
                name[l] = 0;
                CHECK(strcmp(prev, name) < 0);
                snprintf(prev, sizeof(prev), "%s", name);
                snprintf(help, sizeof(help), "# HELP %s ", name);
                CHECK_INT(count_str(text, help), 1);
                CHECK(strstr(text, help) < p);
                families++;
        }
        CHECK_INT(families, 14);
        CHECK_INT(count_str(text, "# HELP "), 14);
        CHECK_INT(count_str(text, "{name=\"x\"}"), 8);
}

TEST(hostile_names_escaped) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *text = NULL;
        MetricsCert certs[] = {
                { .name = "back\\slash", .not_after = 1 },
                { .name = "quo\"te", .not_after = 2 },
                { .name = "new\nline", .not_after = 3 },
                { .name = "} 99\nrenewd_certificates 5\n# TYPE x", .not_after = 4 },
                { .name = "\\\"\\n", .not_after = 5 },
                { .name = "ünïcödé ☃", .not_after = 6 },
                { .name = "tab\there,and=more{}", .not_after = 7 },
        };

        REQUIRE(dir);
        REQUIRE(metrics_format(&daemon_state, certs, ELEMENTSOF(certs), &text) == 0);

        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"back\\\\slash\"} 1\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"quo\\\"te\"} 2\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"new\\nline\"} 3\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"} 99\\nrenewd_certificates 5\\n# TYPE x\"} 4\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"\\\\\\\"\\\\n\"} 5\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"ünïcödé ☃\"} 6\n"));
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"tab\there,and=more{}\"} 7\n"));

        /* No name smuggled a line in: one sample line per cert and family, the injected
         * "renewd_certificates 5" nowhere at the start of a line. */
        CHECK(!strstr(text, "\nrenewd_certificates 5"));
        CHECK(!strstr(text, "\n# TYPE x"));
        /* Three certificate families (HELP, TYPE, a line per cert), six daemon ones. */
        CHECK_INT(count_str(text, "\n"), 3 * (2 + ELEMENTSOF(certs)) + 6 * 3);

        CHECK_PROMPARSE(dir, text);
}

TEST(unknown_samples_omitted) {
        _cleanup_free_ char *text = NULL;
        MetricsCert certs[] = {
                { .name = "new" },              /* nothing known yet */
                { .name = "old", .not_after = 1800000000, .last_failure = -1 },
        };
        MetricsDaemon d = { .certificates = 2 };

        REQUIRE(metrics_format(&d, certs, ELEMENTSOF(certs), &text) == 0);

        /* Families without any known sample are left out entirely. */
        CHECK(!strstr(text, "ari_window"));
        CHECK(!strstr(text, "last_success"));
        CHECK(!strstr(text, "next_renewal"));
        CHECK(!strstr(text, "renewd_start_time_seconds"));

        /* Only "old" has a not_after; a negative time is a time, not unknown. */
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"old\"} 1800000000\n"));
        CHECK(!strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"new\"}"));
        CHECK(strstr(text, "renewd_certificate_last_failure_timestamp_seconds{name=\"old\"} -1\n"));
        CHECK(!strstr(text, "renewd_certificate_last_failure_timestamp_seconds{name=\"new\"}"));

        /* Counts are never unknown. */
        CHECK(strstr(text, "renewd_certificate_consecutive_failures{name=\"new\"} 0\n"));
        CHECK(strstr(text, "renewd_certificate_renewing{name=\"new\"} 0\n"));
        CHECK(strstr(text, "renewd_renewals_total 0\n"));
        CHECK(strstr(text, "renewd_certificates 2\n"));
}

TEST(zero_certificates) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        MetricsDaemon d = daemon_state;
        MetricsCert dummy = { .name = "ignored", .not_after = 1 };

        REQUIRE(dir);
        d.certificates = 0;
        CHECK_INT(metrics_format(&d, NULL, 0, &text), 0);
        CHECK_STR(text,
                  "# HELP renewd_certificates Certificates in the configuration.\n"
                  "# TYPE renewd_certificates gauge\n"
                  "renewd_certificates 0\n"
                  "# HELP renewd_hook_failures_total Hooks (deploy_hook, on_failure) that failed since the daemon started.\n"
                  "# TYPE renewd_hook_failures_total counter\n"
                  "renewd_hook_failures_total 1\n"
                  "# HELP renewd_reload_failures_total Service reloads that failed since the daemon started.\n"
                  "# TYPE renewd_reload_failures_total counter\n"
                  "renewd_reload_failures_total 0\n"
                  "# HELP renewd_renewal_failures_total Renewal attempts that failed since the daemon started.\n"
                  "# TYPE renewd_renewal_failures_total counter\n"
                  "renewd_renewal_failures_total 3\n"
                  "# HELP renewd_renewals_total Certificates renewed successfully since the daemon started.\n"
                  "# TYPE renewd_renewals_total counter\n"
                  "renewd_renewals_total 12\n"
                  "# HELP renewd_start_time_seconds When the daemon started.\n"
                  "# TYPE renewd_start_time_seconds gauge\n"
                  "renewd_start_time_seconds 1700000000\n");

        /* n == 0 with a non-NULL array is the same. */
        CHECK_INT(metrics_format(&d, &dummy, 0, &text2), 0);
        CHECK_STR(text2, text);
        CHECK_PROMPARSE(dir, text);
}

TEST(extreme_values) {
        _cleanup_free_ char *text = NULL;
        MetricsCert c = {
                .name = "x", .not_after = INT64_MAX, .last_success = INT64_MIN,
                .consecutive_failures = UINT_MAX,
        };
        MetricsDaemon d = { .start_time = 1, .renewals_total = UINT64_MAX, .certificates = SIZE_MAX };
        char expect[128];

        REQUIRE(metrics_format(&d, &c, 1, &text) == 0);
        CHECK(strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"x\"} 9223372036854775807\n"));
        CHECK(strstr(text, "renewd_certificate_last_success_timestamp_seconds{name=\"x\"} -9223372036854775808\n"));
        CHECK(strstr(text, "renewd_certificate_consecutive_failures{name=\"x\"} 4294967295\n"));
        CHECK(strstr(text, "renewd_renewals_total 18446744073709551615\n"));
        snprintf(expect, sizeof(expect), "renewd_certificates %zu\n", (size_t) SIZE_MAX);
        CHECK(strstr(text, expect));
        CHECK(strstr(text, "renewd_start_time_seconds 1\n"));
}

TEST(bad_input) {
        char *text = (char *) "untouched";
        MetricsCert dup[] = { { .name = "a" }, { .name = "b" }, { .name = "a" } };
        MetricsCert null_name[] = { { .name = "a" }, { .name = NULL } };
        MetricsCert empty_name[] = { { .name = "" } };
        MetricsCert bad_utf8[] = { { .name = "a\xff" } };
        MetricsCert overlong[] = { { .name = "\xc0\x80" } };
        MetricsCert truncated[] = { { .name = "x\xe2\x82" } };
        MetricsCert surrogate[] = { { .name = "\xed\xa0\x80" } };

        CHECK_INT(metrics_format(NULL, NULL, 0, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, NULL, 1, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, NULL, 0, NULL), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, dup, ELEMENTSOF(dup), &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, null_name, ELEMENTSOF(null_name), &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, empty_name, 1, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, bad_utf8, 1, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, overlong, 1, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, truncated, 1, &text), -EINVAL);
        CHECK_INT(metrics_format(&daemon_state, surrogate, 1, &text), -EINVAL);
        CHECK_STR(text, "untouched");
}

/* Many certificates: sorted output, and the parser accepts it all. */
TEST(many_certificates) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *text = NULL;
        enum { N = 300 };
        MetricsCert *certs = calloc(N, sizeof(MetricsCert));
        char (*names)[16] = calloc(N, 16);
        const char *prev;

        REQUIRE(dir);
        if (!certs || !names) {
                free(certs);
                free(names);
                REQUIRE(false);
        }
        for (size_t i = 0; i < N; i++) {
                /* Reverse order of the formatted names. */
                snprintf(names[i], 16, "c%05zu", N - i);
                certs[i] = (MetricsCert) { .name = names[i], .not_after = (int64_t) i + 1, .renewing = i % 2 };
        }
        CHECK_INT(metrics_format(&daemon_state, certs, N, &text), 0);
        if (text) {
                CHECK_INT(count_str(text, "renewd_certificate_not_after_timestamp_seconds{"), N);
                prev = strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"c00001\"} 300\n");
                CHECK(prev);
                CHECK(prev && strstr(text, "renewd_certificate_not_after_timestamp_seconds{name=\"c00300\"} 1\n") > prev);
                CHECK_PROMPARSE(dir, text);
        }
        free(certs);
        free(names);
}

TEST(write_file) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *path = NULL, *missing = NULL, *buf = NULL, *text = NULL;
        struct stat st;
        mode_t old;

        REQUIRE(dir);
        REQUIRE(asprintf(&path, "%s/renewd.prom", dir) >= 0);
        REQUIRE(asprintf(&missing, "%s/no/such/dir/renewd.prom", dir) >= 0);
        REQUIRE(metrics_format(&daemon_state, two_certs, 2, &text) == 0);

        /* A strict umask must not hide the file from the node exporter. */
        old = umask(077);
        CHECK_INT(metrics_write(path, "old 1\n"), 0);
        CHECK_INT(metrics_write(path, text), 0);
        umask(old);

        REQUIRE(lstat(path, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0644);
        CHECK_INT(read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL), 0);
        CHECK_STR(buf, two_certs_text);

        /* Nothing else is left in the directory: no temporary file. */
        CHECK_INT(dir_entries(dir), 1);
        free(buf);
        buf = NULL;
        CHECK_INT(metrics_write(missing, text), -ENOENT);
        CHECK_INT(metrics_write(NULL, text), -EINVAL);
        CHECK_INT(metrics_write("", text), -EINVAL);
        CHECK_INT(metrics_write(path, NULL), -EINVAL);
        CHECK_INT(read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL), 0);
        CHECK_STR(buf, two_certs_text);

        CHECK_PROMPARSE(dir, text);
}

/* The cross-check itself must be able to fail, or it proves nothing. */
TEST(promparse_rejects_broken_text) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        int s;

        REQUIRE(dir);
        s = promparse_check(dir, "# TYPE a gauge\na{name=\"x\"} 1\na{name=\"x\"} 2\n");
        CHECK(s == 1 || s == -1);
        s = promparse_check(dir, "a{name=\"x\\q\"} 1\n");
        CHECK(s == 1 || s == -1);
}

TEST_MAIN(T(small_state_exact), T(input_order_irrelevant), T(families_sorted_once), T(hostile_names_escaped),
          T(unknown_samples_omitted), T(zero_certificates), T(extreme_values), T(bad_input),
          T(many_certificates), T(write_file), T(promparse_rejects_broken_text))
