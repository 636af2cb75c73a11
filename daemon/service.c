/* SPDX-License-Identifier: MIT */
/* Daemon mode: signals, systemd notification and watchdog, reloads, and watching
 * certs_dir and live/ for changes made by others. */

#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "control.h"
#include "challenge.h"
#include "log.h"
#include "manager.h"
#include "renewal.h"
#include "report.h"

#define RELOAD_DEBOUNCE_USEC (500 * USEC_PER_MSEC)

/* STATUS= for systemctl status: counts and the next renewal. */
void manager_notify_status(Manager *m) {
        unsigned failing = 0, renewing = 0;
        const ManagedCert *next = NULL;
        char line[768], when[64] = "", names[256] = "";
        size_t used = 0;
        bool full = false;

        for (size_t i = 0; i < m->n_certs; i++) {
                const ManagedCert *mc = &m->certs[i];
                if (mc->state.consecutive_failures > 0) {
                        /* Name the failing ones: "systemctl status" is where people look. */
                        int n = full ? 0 : snprintf(names + used, sizeof names - used, "%s%s", failing ? ", " : "",
                                                    mc->config->name);
                        if (!full && n > 0 && (size_t) n < sizeof names - 6 - used)
                                used += (size_t) n;
                        else if (!full) {
                                memcpy(names + used, ", ...", 6);
                                full = true;
                        }
                        failing++;
                }
                if (mc->renewal || mc->queued || mc->deployment)
                        renewing++;
                else if (mc->timer && (!next || mc->next_renewal < next->next_renewal))
                        next = mc;
        }
        if (next)
                format_time(next->next_renewal, when, sizeof when);
        snprintf(line, sizeof line, "STATUS=%zu certificate%s, %u failing%s%s%s, %u renewing%s%s%s%s", m->n_certs,
                 m->n_certs == 1 ? "" : "s", failing, failing ? " (" : "", names, failing ? ")" : "", renewing,
                 next ? "; next: " : "", next ? next->config->name : "", next ? " at " : "", when);
        (void) sd_notify(false, line);
}

static void schedule_all(Manager *m) {
        for (size_t i = 0; i < m->n_certs; i++)
                schedule_cert(&m->certs[i]);
        manager_state_changed(m);
}

static int watch_setup(Manager *m);

void manager_apply_pending_config(Manager *m) {
        Config *c = TAKE_PTR(m->pending_config);
        int k;

        (void) sd_notify(false, "RELOADING=1");
        /* Nothing is in flight (the caller waited), so everything can be rebuilt. */
        for (size_t i = 0; i < m->n_certs; i++)
                schedule_cert_done(&m->certs[i]);
        if (!streq(c->state_dir, m->config->state_dir)) {
                Store *s;
                k = store_open(c->state_dir, &s);
                if (k < 0) {
                        log_error_errno(k, "Failed to open the new state directory %s, keeping the running configuration: %m",
                                        c->state_dir);
                        config_free(c);
                        schedule_all(m);
                        (void) sd_notify(false, "READY=1");
                        return;
                }
                store_free(m->store);
                m->store = s;
        }
        /* Certificates and CA clients point into the old configuration: drop them first. */
        control_certificates_reset(m->control);
        manager_replace_config(m, c);
        k = manager_load_certs(m);
        if (k < 0)
                log_error_errno(k, "Failed to set up the certificates after the reload: %m");
        (void) watch_setup(m);
        log_info("Configuration reloaded: %zu certificate%s, %zu CA%s.", m->n_certs, m->n_certs == 1 ? "" : "s",
                 m->config->n_cas, m->config->n_cas == 1 ? "" : "s");
        schedule_all(m);
        (void) sd_notify(false, "READY=1");
}

int manager_reload(Manager *m, char **ret_error) {
        _cleanup_free_ char *errors = NULL;
        Config *c = NULL;
        int k;

        k = config_load(m->config_path, &c, &errors);
        if (k < 0) {
                log_error_errno(k, "Reloading %s failed, keeping the running configuration:%s%s", m->config_path,
                                errors ? "\n" : " %m", strempty(errors));
                (void) sd_notifyf(false, "STATUS=Reload failed, running the previous configuration: %s",
                                  errors ? errors : strerror(-k));
                if (ret_error)
                        *ret_error = TAKE_PTR(errors);
                return k;
        }
        config_free(m->pending_config);
        m->pending_config = c;
        if (m->n_active > 0 || m->n_deployments > 0) {
                log_info("Reload will take effect when the %u renewal%s and %u deployment%s in flight finish.",
                         m->n_active, m->n_active == 1 ? "" : "s", m->n_deployments, m->n_deployments == 1 ? "" : "s");
                return 0;
        }
        manager_apply_pending_config(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        log_info("Reloading the configuration (SIGHUP).");
        (void) manager_reload(userdata, NULL);
        return 0;
}

#define STOP_CLEANUP_USEC (10 * USEC_PER_SEC)

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        log_warning("Stopping without waiting any longer for DNS records to be removed.");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int k;

        if (m->stopping) /* a second signal: no more waiting */
                return sd_event_exit(sd_event_source_get_event(s), 0);
        log_info("Stopping (%s)%s.", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM",
                 m->n_active > 0 ? "; renewals in flight are abandoned and their challenges removed" : "");
        m->stopping = true;
        (void) sd_notify(false, "STOPPING=1");

        /* Abandon the renewals while the loop still runs: removing a DNS record they set
         * takes a round trip (or a hook), which gets STOP_CLEANUP_USEC to finish. */
        manager_abandon_renewals(m);
        if (!manager_challenges_busy(m))
                return sd_event_exit(sd_event_source_get_event(s), 0);
        log_info("Removing the DNS records of abandoned orders before stopping.");
        k = sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, STOP_CLEANUP_USEC, USEC_PER_SEC / 10,
                                       on_stop_timer, m);
        if (k < 0)
                return sd_event_exit(sd_event_source_get_event(s), 0);
        return 0; /* manager_check_idle() ends the loop when the removals are done */
}

static int on_reload_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        log_info("%s changed; reloading the configuration.", ((Manager *) userdata)->config->certs_dir);
        (void) manager_reload(userdata, NULL);
        return 0;
}

/* A drop-in was added, changed or removed: reload once things settle. */
static int on_certs_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        uint64_t now;
        int k;

        if (ev->len == 0 || ev->name[0] == '.' || !endswith(ev->name, ".conf"))
                return 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!m->reload_timer) {
                k = sd_event_add_time(m->event, &m->reload_timer, CLOCK_MONOTONIC, now + RELOAD_DEBOUNCE_USEC,
                                      USEC_PER_MSEC, on_reload_timer, m);
                if (k < 0)
                        return log_warning_errno(k, "Failed to schedule a reload: %m"), 0;
                (void) sd_event_source_set_description(m->reload_timer, "reload-debounce");
                return 0;
        }
        (void) sd_event_source_set_time(m->reload_timer, now + RELOAD_DEBOUNCE_USEC);
        (void) sd_event_source_set_enabled(m->reload_timer, SD_EVENT_ONESHOT);
        return 0;
}

/* live/<name> changed: our own install, or a certificate put there by hand. */
static int on_live_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        ManagedCert *mc;

        if (ev->len == 0 || ev->name[0] == '.')
                return 0;
        mc = manager_find_cert(m, ev->name);
        if (!mc || mc->renewal || mc->queued)
                return 0;
        managed_cert_refresh(mc);
        log_cert_errno(LOG_DEBUG, 0, mc->config->name, NULL, "live/ changed; rescheduling.");
        schedule_cert(mc);
        manager_state_changed(m);
        return 0;
}

static int watch_setup(Manager *m) {
        _cleanup_free_ char *live = NULL;
        int k;

        m->certs_watch = sd_event_source_disable_unref(m->certs_watch);
        m->live_watch = sd_event_source_disable_unref(m->live_watch);

        k = sd_event_add_inotify(m->event, &m->certs_watch, m->config->certs_dir,
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR, on_certs_dir, m);
        if (k < 0)
                log_debug_errno(k, "Not watching %s: %m", m->config->certs_dir);
        else
                (void) sd_event_source_set_description(m->certs_watch, "certs-dir");

        if (asprintf(&live, "%s/live", m->config->state_dir) < 0)
                return log_oom();
        k = sd_event_add_inotify(m->event, &m->live_watch, live,
                                 IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR, on_live_dir, m);
        if (k < 0)
                return log_warning_errno(k, "Not watching %s for certificates replaced by hand: %m", live);
        (void) sd_event_source_set_description(m->live_watch, "live-dir");
        return 0;
}

int manager_run_daemon(Manager *m) {
        int k;

        /* The signals were blocked in main() before any thread (curl's resolver) started. */
        if ((k = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m)) < 0 ||
            (k = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m)) < 0 ||
            (k = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m)) < 0)
                return log_error_errno(k, "Failed to set up signal handling: %m");
        k = sd_event_set_watchdog(m->event, true);
        if (k < 0)
                log_warning_errno(k, "Failed to enable the watchdog: %m");

        k = manager_load_certs(m);
        if (k < 0)
                return k;
        (void) watch_setup(m);
        k = control_server_new(m, &m->control);
        if (k < 0)
                return k;
        manager_challenges_reset(m); /* http_keep_open */

        log_info("Managing %zu certificate%s.", m->n_certs, m->n_certs == 1 ? "" : "s");
        schedule_all(m);
        (void) sd_notify(false, "READY=1");

        k = sd_event_loop(m->event);
        manager_write_metrics(m); /* a write may still have been waiting for its second */
        if (!m->stopping) /* SIGTERM has said so already */
                (void) sd_notify(false, "STOPPING=1");
        if (k < 0)
                return log_error_errno(k, "Event loop failed: %m");
        return 0;
}
