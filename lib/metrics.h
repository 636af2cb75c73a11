/* SPDX-License-Identifier: MIT */
#pragma once

/* renewd's state as Prometheus metrics in the text exposition format, version 0.0.4, for
 * node_exporter's textfile collector (daemon.metrics_file) or anything else that scrapes
 * such a file.
 *
 * Families, in this (byte-wise sorted) order; each appears once, with "# HELP" and
 * "# TYPE" lines before its samples, and only if it has at least one sample:
 *
 *   renewd_certificate_ari_window_end_timestamp_seconds{name}    gauge
 *   renewd_certificate_ari_window_start_timestamp_seconds{name}  gauge
 *   renewd_certificate_consecutive_failures{name}                gauge
 *   renewd_certificate_last_failure_timestamp_seconds{name}      gauge
 *   renewd_certificate_last_success_timestamp_seconds{name}      gauge
 *   renewd_certificate_next_renewal_timestamp_seconds{name}      gauge
 *   renewd_certificate_not_after_timestamp_seconds{name}         gauge
 *   renewd_certificate_renewing{name}                            gauge (0 or 1)
 *   renewd_certificates                                          gauge
 *   renewd_hook_failures_total                                   counter
 *   renewd_reload_failures_total                                 counter
 *   renewd_renewal_failures_total                                counter
 *   renewd_renewals_total                                        counter
 *   renewd_start_time_seconds                                    gauge
 *
 * Times are seconds since the epoch. A time that is 0 means "unknown" and its sample is
 * left out (for a certificate: only that certificate's sample). Counts are always written,
 * 0 included: consecutive_failures 0 is a fact, not an unknown, and renewing is 0 or 1.
 * Within a family the samples are sorted by certificate name (byte-wise), so the same state
 * always gives the same text. Label values are escaped as the format requires (\\, \",
 * \n). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct MetricsCert {
        const char *name;               /* non-empty UTF-8; unique among the certificates */
        int64_t not_after;
        int64_t last_success;
        int64_t last_failure;
        unsigned consecutive_failures;
        int64_t next_renewal;
        int64_t ari_window_start, ari_window_end;
        bool renewing;                  /* a renewal is in progress */
} MetricsCert;

typedef struct MetricsDaemon {
        int64_t start_time;             /* 0 = unknown */
        uint64_t renewals_total, renewal_failures_total, hook_failures_total, reload_failures_total;
        size_t certificates;            /* configured certificates */
} MetricsDaemon;

/* Format the metrics of d and the n certificates certs (NULL if n is 0) into a new
 * NUL-terminated string ending in a newline. Returns 0, -EINVAL for a missing argument or
 * a certificate name that is NULL, empty, not valid UTF-8 or given twice (that would be a
 * duplicate series), -ENOMEM. *ret is untouched on failure. */
int metrics_format(const MetricsDaemon *d, const MetricsCert *certs, size_t n, char **ret);

/* Replace the file at path with text atomically (temporary file in the same directory,
 * mode 0644, fsync, rename, directory fsync), so a scraper never reads half a file.
 * Returns 0 or a negative errno. */
int metrics_write(const char *path, const char *text);
