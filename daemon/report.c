/* SPDX-License-Identifier: MIT */
/* on_failure and metrics_file. */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hook-util.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "policy.h"
#include "report.h"
#include "strv.h"

#define DAY_SECONDS 86400
#define METRICS_DELAY_USEC USEC_PER_SEC

/* An on_failure hook running in the background. */
struct FailureHook {
        Manager *manager;
        char *cert_name;
        Hook *hook;
        struct FailureHook *next;
};

static struct FailureHook *failure_hook_free(struct FailureHook *f) {
        if (!f)
                return NULL;
        hook_free(f->hook);
        free(f->cert_name);
        free(f);
        return NULL;
}

static void on_failure_hook_done(Hook *h, int result, void *userdata) {
        struct FailureHook *f = userdata;
        Manager *m = f->manager;

        if (result != 0) {
                _cleanup_free_ char *how = hook_describe(h);
                m->hook_failures_total++;
                log_cert_errno(LOG_ERR, result < 0 ? result : -EIO, f->cert_name, NULL, "on_failure %s.", strna(how));
                hook_log_output(LOG_WARNING, f->cert_name, "on_failure", h);
        } else
                hook_log_output(LOG_INFO, f->cert_name, "on_failure", h);
        for (struct FailureHook **p = &m->failure_hooks; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        failure_hook_free(f);
        manager_check_idle(m);
}

static void format_iso(time_t t, char *buf, size_t size) {
        struct tm tm;
        if (t <= 0 || !gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                *buf = 0;
}

void report_failure(ManagedCert *mc, const char *event) {
        const CertConfig *c = mc->config;
        Manager *m = mc->manager;
        time_t now = time(NULL);
        unsigned thresholds[64];
        size_t n = 0;
        int64_t days_left = mc->have_cert ? ((int64_t) mc->not_after - (int64_t) now) / DAY_SECONDS : POLICY_NO_EXPIRY;
        unsigned level;
        int k;

        if (!c->on_failure)
                return;
        /* Checked by the configuration: numbers in 1..3650. */
        for (char **d = c->on_failure_days; *d && n < ELEMENTSOF(thresholds); d++)
                thresholds[n++] = (unsigned) strtoul(*d, NULL, 10);
        level = policy_failure_notify(mc->state.failure_notified_days, days_left, thresholds, n);
        if (level == 0) {
                log_cert_errno(LOG_DEBUG, 0, c->name, NULL, "on_failure already ran at this level (%u days).",
                               mc->state.failure_notified_days);
                return;
        }

        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *domains = strv_join(c->domains, " ");
        char days[32] = "", failures[32], not_after[32] = "", next[32] = "";
        if (mc->have_cert)
                snprintf(days, sizeof days, "%lld", (long long) days_left);
        snprintf(failures, sizeof failures, "%u", mc->state.consecutive_failures);
        if (mc->have_cert)
                format_iso(mc->not_after, not_after, sizeof not_after);
        format_iso(mc->state.next_attempt, next, sizeof next);
        const char *vars[][2] = {
                { "RENEWD_CERT_NAME", c->name },  { "RENEWD_DOMAINS", domains },
                { "RENEWD_EVENT", event },        { "RENEWD_ERROR", mc->state.last_error },
                { "RENEWD_DAYS_LEFT", days },     { "RENEWD_NOT_AFTER", not_after },
                { "RENEWD_FAILURES", failures },  { "RENEWD_NEXT_ATTEMPT", next },
        };
        k = domains ? 0 : -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(vars) && k >= 0; i++)
                k = hook_env_push(&env, vars[i][0], vars[i][1]);

        struct FailureHook *f = k >= 0 ? calloc(1, sizeof *f) : NULL;
        if (!f || !(f->cert_name = strdup(c->name))) {
                failure_hook_free(f);
                log_oom();
                return;
        }
        f->manager = m;
        HookParams p = {
                .argv = c->on_failure,
                .env = env,
                .timeout_usec = (uint64_t) c->hook_timeout * USEC_PER_SEC,
        };
        k = hook_start(m->event, &p, on_failure_hook_done, f, &f->hook);
        if (k < 0) {
                m->hook_failures_total++;
                log_cert_errno(LOG_ERR, k, c->name, NULL, "Failed to run on_failure %s: %m", c->on_failure[0]);
                failure_hook_free(f);
                return;
        }
        log_cert_errno(LOG_NOTICE, 0, c->name, NULL, "Running on_failure (%s, %s days left).", event,
                       *days ? days : "no certificate,");
        mc->state.failure_notified_days = level;
        f->next = m->failure_hooks;
        m->failure_hooks = f;
}

static int on_metrics_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_write_metrics(userdata);
        return 0;
}

void manager_metrics_changed(Manager *m) {
        int k;

        if (!m->config->metrics_file)
                return;
        /* Changes often come in bursts (a batch of renewals): write once per second at most. */
        if (m->metrics_timer) {
                int enabled = SD_EVENT_OFF;
                uint64_t now = 0;
                (void) sd_event_source_get_enabled(m->metrics_timer, &enabled);
                if (enabled != SD_EVENT_OFF)
                        return; /* a write is already coming */
                (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                k = sd_event_source_set_time(m->metrics_timer, now + METRICS_DELAY_USEC);
                if (k >= 0)
                        k = sd_event_source_set_enabled(m->metrics_timer, SD_EVENT_ONESHOT);
        } else {
                k = sd_event_add_time_relative(m->event, &m->metrics_timer, CLOCK_MONOTONIC, METRICS_DELAY_USEC,
                                               USEC_PER_MSEC * 100, on_metrics_timer, m);
                if (k >= 0)
                        (void) sd_event_source_set_description(m->metrics_timer, "metrics-write");
        }
        if (k < 0)
                manager_write_metrics(m);
}

void manager_reports_done(Manager *m) {
        m->metrics_timer = sd_event_source_disable_unref(m->metrics_timer);
        while (m->failure_hooks) {
                struct FailureHook *f = m->failure_hooks;
                m->failure_hooks = f->next;
                failure_hook_free(f);
        }
}

bool manager_reports_busy(const Manager *m) {
        return m->failure_hooks;
}

void manager_write_metrics(Manager *m) {
        _cleanup_free_ MetricsCert *certs = NULL;
        _cleanup_free_ char *text = NULL;
        int k;

        if (!m->config->metrics_file)
                return;
        certs = calloc(m->n_certs ?: 1, sizeof *certs);
        if (!certs) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < m->n_certs; i++) {
                const ManagedCert *mc = &m->certs[i];
                certs[i] = (MetricsCert) {
                        .name = mc->config->name,
                        .not_after = mc->have_cert ? mc->not_after : 0,
                        .last_success = mc->state.last_success,
                        .last_failure = mc->state.last_failure,
                        .consecutive_failures = mc->state.consecutive_failures,
                        .next_renewal = mc->next_renewal,
                        .ari_window_start = mc->state.have_ari ? mc->state.ari_start : 0,
                        .ari_window_end = mc->state.have_ari ? mc->state.ari_end : 0,
                        .renewing = mc->renewal || mc->queued,
                };
        }
        MetricsDaemon d = {
                .start_time = m->start_time,
                .renewals_total = m->renewals_total,
                .renewal_failures_total = m->renewal_failures_total,
                .hook_failures_total = m->hook_failures_total,
                .reload_failures_total = m->reload_failures_total,
                .certificates = m->n_certs,
        };
        k = metrics_format(&d, certs, m->n_certs, &text);
        if (k >= 0)
                k = metrics_write(m->config->metrics_file, text);
        if (k < 0 && k != m->metrics_error)
                log_warning_errno(k, "Failed to write metrics_file %s: %m", m->config->metrics_file);
        m->metrics_error = k < 0 ? k : 0;
}
