/* SPDX-License-Identifier: MIT */
/* Prometheus text exposition (0.0.4) of renewd's state: a pure function from the state to
 * text, and an atomic write of that text. See metrics.h for the families. */

#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "metrics.h"
#include "utf8.h"

typedef enum MetricsScope {
        METRICS_SCOPE_CERT,             /* one sample per certificate, labelled name="…" */
        METRICS_SCOPE_DAEMON,           /* one sample, no labels */
} MetricsScope;

typedef enum MetricsKind {
        METRICS_TIME,                   /* int64_t seconds, 0 = unknown (left out) */
        METRICS_UNSIGNED,               /* unsigned */
        METRICS_BOOL,                   /* bool, written as 0 or 1 */
        METRICS_U64,                    /* uint64_t */
        METRICS_SIZE,                   /* size_t */
} MetricsKind;

typedef struct MetricsFamily {
        const char *name;
        const char *type;
        const char *help;
        MetricsScope scope;
        MetricsKind kind;
        size_t offset;                  /* of the field in MetricsCert or MetricsDaemon */
} MetricsFamily;

#define CERT(n, k, f, h) { "renewd_certificate_" n, "gauge", h, METRICS_SCOPE_CERT, k, offsetof(MetricsCert, f) }
#define DAEMON(n, t, k, f, h) { "renewd_" n, t, h, METRICS_SCOPE_DAEMON, k, offsetof(MetricsDaemon, f) }

/* Sorted by name (the unit test checks it), so the output order is stable and obvious. */
static const MetricsFamily metrics_families[] = {
        CERT("ari_window_end_timestamp_seconds", METRICS_TIME, ari_window_end,
             "End of the renewal window the CA suggested (ACME Renewal Information)."),
        CERT("ari_window_start_timestamp_seconds", METRICS_TIME, ari_window_start,
             "Start of the renewal window the CA suggested (ACME Renewal Information)."),
        CERT("consecutive_failures", METRICS_UNSIGNED, consecutive_failures,
             "Renewal attempts that failed since the last success."),
        CERT("last_failure_timestamp_seconds", METRICS_TIME, last_failure,
             "When the last renewal attempt failed."),
        CERT("last_success_timestamp_seconds", METRICS_TIME, last_success,
             "When the certificate was last renewed successfully."),
        CERT("next_renewal_timestamp_seconds", METRICS_TIME, next_renewal,
             "When the next renewal attempt is due."),
        CERT("not_after_timestamp_seconds", METRICS_TIME, not_after,
             "Expiry (notAfter) of the installed certificate."),
        CERT("renewing", METRICS_BOOL, renewing,
             "Whether a renewal of the certificate is in progress (1) or not (0)."),
        DAEMON("certificates", "gauge", METRICS_SIZE, certificates,
               "Certificates in the configuration."),
        DAEMON("hook_failures_total", "counter", METRICS_U64, hook_failures_total,
               "Hooks (deploy_hook, on_failure) that failed since the daemon started."),
        DAEMON("reload_failures_total", "counter", METRICS_U64, reload_failures_total,
               "Service reloads that failed since the daemon started."),
        DAEMON("renewal_failures_total", "counter", METRICS_U64, renewal_failures_total,
               "Renewal attempts that failed since the daemon started."),
        DAEMON("renewals_total", "counter", METRICS_U64, renewals_total,
               "Certificates renewed successfully since the daemon started."),
        DAEMON("start_time_seconds", "gauge", METRICS_TIME, start_time,
               "When the daemon started."),
};

#undef CERT
#undef DAEMON

/* Format the field of family f in the struct at base into buf. Returns false when the value
 * is unknown and the sample is to be left out. */
static bool metrics_family_value(const MetricsFamily *f, const void *base, char buf[static 24]) {
        const uint8_t *p = (const uint8_t *) base + f->offset;

        switch (f->kind) {
        case METRICS_TIME: {
                int64_t v;
                memcpy(&v, p, sizeof(v));
                if (v == 0)
                        return false;
                (void) snprintf(buf, 24, "%" PRId64, v);
                return true;
        }
        case METRICS_UNSIGNED: {
                unsigned v;
                memcpy(&v, p, sizeof(v));
                (void) snprintf(buf, 24, "%u", v);
                return true;
        }
        case METRICS_BOOL: {
                bool v;
                memcpy(&v, p, sizeof(v));
                (void) snprintf(buf, 24, "%d", v ? 1 : 0);
                return true;
        }
        case METRICS_U64: {
                uint64_t v;
                memcpy(&v, p, sizeof(v));
                (void) snprintf(buf, 24, "%" PRIu64, v);
                return true;
        }
        case METRICS_SIZE: {
                size_t v;
                memcpy(&v, p, sizeof(v));
                (void) snprintf(buf, 24, "%zu", v);
                return true;
        }
        }
        return false;
}

/* Write s as a label value: backslash, double quote and line feed escaped, all else as is
 * (the caller checked it is UTF-8). */
static void metrics_put_label_value(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

/* A certificate name must be a non-empty, well-formed UTF-8 string: Prometheus refuses
 * anything else as a label value. */
static bool metrics_cert_name_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;

        n = strlen(name);
        for (size_t i = 0; i < n;) {
                size_t k = utf8_sequence_length((const uint8_t *) name + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

static int metrics_cert_compare(const void *a, const void *b) {
        const MetricsCert *const *x = a, *const *y = b;
        return strcmp((*x)->name, (*y)->name);
}

/* Pointers to the n certificates sorted by name, after checking the names are valid and
 * unique. Returns 0, -EINVAL or -ENOMEM. */
static int metrics_sort_certs(const MetricsCert *certs, size_t n, const MetricsCert ***ret) {
        _cleanup_free_ const MetricsCert **sorted = NULL;

        /* One element at least, so that n == 0 does not depend on what malloc(0) returns. */
        sorted = calloc(n > 0 ? n : 1, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                if (!metrics_cert_name_valid(certs[i].name))
                        return -EINVAL;
                sorted[i] = &certs[i];
        }

        if (n > 1)
                qsort(sorted, n, sizeof(*sorted), metrics_cert_compare);
        for (size_t i = 1; i < n; i++)
                if (streq(sorted[i - 1]->name, sorted[i]->name))
                        return -EINVAL;

        *ret = TAKE_PTR(sorted);
        return 0;
}

/* Write family fam: its HELP and TYPE lines followed by its samples, or nothing at all
 * when no sample is known. */
static void metrics_put_family(FILE *f, const MetricsFamily *fam, const MetricsDaemon *d,
                               const MetricsCert *const *sorted, size_t n) {
        bool header = false;
        char value[24];

        if (fam->scope == METRICS_SCOPE_DAEMON) {
                if (!metrics_family_value(fam, d, value))
                        return;
                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", fam->name, fam->help, fam->name, fam->type,
                        fam->name, value);
                return;
        }

        for (size_t i = 0; i < n; i++) {
                if (!metrics_family_value(fam, sorted[i], value))
                        continue;
                if (!header) {
                        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
                        header = true;
                }
                fprintf(f, "%s{name=\"", fam->name);
                metrics_put_label_value(f, sorted[i]->name);
                fprintf(f, "\"} %s\n", value);
        }
}

int metrics_format(const MetricsDaemon *d, const MetricsCert *certs, size_t n, char **ret) {
        _cleanup_free_ const MetricsCert **sorted = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        int r;

        if (!d || (!certs && n > 0) || !ret)
                return -EINVAL;

        r = metrics_sort_certs(certs, n, &sorted);
        if (r < 0)
                return r;

        /* Declared after buf, so on failure f is closed before buf is freed. */
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(metrics_families); i++)
                metrics_put_family(f, &metrics_families[i], d, sorted, n);

        /* A memory stream fails only for want of memory. */
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        r = fclose(TAKE_PTR(f));
        if (r != 0 || !buf)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        return 0;
}

int metrics_write(const char *path, const char *text) {
        if (isempty(path) || !text)
                return -EINVAL;

        return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644, (gid_t) -1);
}
