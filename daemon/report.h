/* SPDX-License-Identifier: MIT */
#pragma once

/* Making failures impossible to miss: the on_failure hook (at the first failure of a
 * streak and again as expiry nears, see policy_failure_notify()) and the Prometheus
 * textfile (metrics_file), rewritten atomically after every change. */

#include <stdbool.h>

typedef struct Manager Manager;
typedef struct ManagedCert ManagedCert;

/* After a failed attempt of mc (already recorded in mc->state): run on_failure if it is
 * due. event: "renewal-failed" or "deploy-failed". Updates mc->state's notified level
 * (the caller saves the state). */
void report_failure(ManagedCert *mc, const char *event);

/* Write metrics_file, if configured, now. Failures are logged (once per distinct error). */
void manager_write_metrics(Manager *m);
/* Something a metric shows changed: write metrics_file within a second (bursts of changes
 * give one write). */
void manager_metrics_changed(Manager *m);

/* Abandon on_failure hooks still running; whether any is. */
void manager_reports_done(Manager *m);
bool manager_reports_busy(const Manager *m);
