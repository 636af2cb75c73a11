/* SPDX-License-Identifier: MIT */
#pragma once

/* The manager owns the configuration, the state store, the HTTP client, one ACME client
 * per CA and one ManagedCert per configured certificate, and runs renewals on the event
 * loop, at most max_parallel at once; the rest wait in a queue.
 *
 * Two modes share all of it: --once (renew what is due now, then stop) and the daemon
 * (one timer per certificate, see schedule.c, plus signals and systemd, see service.c). */

#include <openssl/evp.h>
#include <systemd/sd-event.h>

#include "acme.h"
#include "certstate.h"
#include "config.h"
#include "http.h"
#include "store.h"

typedef struct Manager Manager;
typedef struct Renewal Renewal;
typedef struct ChallengeTask ChallengeTask;
typedef struct Http01Server Http01Server;
typedef struct TlsAlpnServer TlsAlpnServer;
typedef struct Deployment Deployment;
typedef struct UnitReloader UnitReloader;
struct ReloadBatch;
struct FailureHook;

typedef struct ManagerCa {
        const CaConfig *config;
        AcmeClient *client;
        char *saved_account_url; /* as on disk, to know when to save */
        bool ari_unsupported;    /* the directory has no renewalInfo */
} ManagerCa;

typedef struct ManagedCert {
        Manager *manager;
        const CertConfig *config;
        CertState state;          /* persisted in status/<name>.json */

        /* The live certificate, as last read. */
        bool have_cert;
        bool domains_match;
        time_t not_before, not_after;
        char *serial;
        char *cert_id;            /* ARI certID, NULL without AKI */

        sd_event_source *timer;   /* daemon mode: the one timer of this certificate */
        time_t next_renewal;      /* when the timer renews (daemon mode) */
        AcmeRequest *ari_req;     /* renewalInfo in flight */
        bool ari_waiting_ready;

        bool queued;
        bool force;               /* renew even if not due */
        Renewal *renewal;         /* in flight */
        Deployment *deployment;   /* copies, deploy_hook, reloads of the installed version */
} ManagedCert;

struct Manager {
        sd_event *event;
        char *config_path;
        Config *config;
        Config *pending_config;   /* a reload waiting for renewals in flight to finish */
        Store *store;
        HttpClient *http;
        ManagerCa *cas;
        size_t n_cas;

        ManagedCert *certs;
        size_t n_certs;

        ManagedCert **queue;      /* FIFO of certificates waiting for a slot */
        size_t n_queue;
        unsigned n_active;

        bool once;
        bool stopping;            /* SIGTERM: no new work; waiting for DNS records to go */
        bool exiting;             /* being freed: nothing may start any more */
        unsigned n_renewed, n_failed, n_current, n_deploy_failed;

        /* challenge.c: the built-in responders, the http-01 socket from systemd (or -1),
         * and removals of DNS records still under way */
        Http01Server *http01;
        bool http01_activated;    /* http01 serves the socket from systemd */
        TlsAlpnServer *tlsalpn;
        int http_fd;
        ChallengeTask *challenge_tasks;

        /* deploy.c: unit reloads batched across certificates */
        UnitReloader *reloader;
        struct ReloadBatch *reload_pending, *reload_running;
        unsigned n_deploying;     /* deployments that may still join the pending batch */
        unsigned n_deployments;   /* deployments in flight */

        /* report.c: on_failure hooks running; counters for metrics_file */
        struct FailureHook *failure_hooks;
        time_t start_time;
        uint64_t renewals_total, renewal_failures_total, hook_failures_total, reload_failures_total;
        int metrics_error;
        sd_event_source *metrics_timer;

        /* service.c, control.c */
        struct ControlServer *control;
        sd_event_source *reload_timer;
        sd_event_source *certs_watch;
        sd_event_source *live_watch;
        uint64_t started_usec;
};

/* Takes ownership of config. */
int manager_new(const char *config_path, Config *config, bool once, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* The ACME client of a CA, created on first use with its account key (made and saved
 * if missing) and stored account URL. */
int manager_get_ca(Manager *m, const char *name, ManagerCa **ret);
/* Save the account URL after the client became ready, if it changed. */
void manager_ca_account_ready(Manager *m, ManagerCa *ca);

/* (Re)build the ManagedCerts from m->config, reading each live certificate and its
 * persisted state. Existing ones must be idle (no renewal in flight). */
int manager_load_certs(Manager *m);
/* Re-read the live certificate of mc. */
void managed_cert_refresh(ManagedCert *mc);
ManagedCert *manager_find_cert(Manager *m, const char *name);

/* Why mc must be renewed now (missing, names changed, …) or NULL if only its schedule
 * decides. */
const char *managed_cert_urgent_reason(ManagedCert *mc);

/* Queue mc for renewal (no-op if queued or in flight) and start what fits. */
void manager_enqueue(Manager *m, ManagedCert *mc);

/* Hooks between manager.c and the daemon side (schedule.c). */
void schedule_cert(ManagedCert *mc);            /* (re)arm mc's timer from its state */
void schedule_cert_done(ManagedCert *mc);       /* free the timer, cancel ARI */

/* Replace the configuration (nothing may be in flight): certificates and CA clients,
 * which point into the old one, are dropped; call manager_load_certs() next. */
void manager_replace_config(Manager *m, Config *config);
/* Re-read the configuration. A bad one keeps the running configuration: returns the
 * error and, in *ret_error (if not NULL), the FILE:LINE problems. A good one is applied
 * at once, or when the renewals in flight have finished. */
int manager_reload(Manager *m, char **ret_error);
/* A renewal made progress; passed on to the control server. */
void manager_renewal_event(Manager *m, const char *name, const char *event, const char *detail);

/* Tell systemd how things stand (STATUS=). */
void manager_notify_status(Manager *m);

/* Apply m->pending_config (a reload that waited until nothing was in flight). */
void manager_apply_pending_config(Manager *m);

/* --once: renew every certificate that is missing, changed or due; print one summary line
 * per certificate. Returns 0 if all went well, -EIO if any renewal failed. */
int manager_run_once(Manager *m);
/* Flush batched reloads when nothing can join them any more; in --once mode, end the loop
 * when nothing at all is left to do. */
void manager_check_idle(Manager *m);
/* Abandon every renewal in flight or queued (their orders clean up their challenges). */
void manager_abandon_renewals(Manager *m);
/* Deploy mc's live version (copies, deploy_hook, reloads); the outcome is recorded. */
void manager_deploy(ManagedCert *mc);
/* After anything a status reader sees changed: sd_notify STATUS and metrics_file. */
void manager_state_changed(Manager *m);

/* Daemon mode (service.c): returns when stopped by SIGTERM/SIGINT. */
int manager_run_daemon(Manager *m);

/* A random 64-bit value from the kernel (for jitter). */
uint64_t random_u64(void);
/* A stable pseudo-random value for a text (a certificate's identity): the same
 * certificate gets the same point in its window across restarts. */
uint64_t stable_random(const char *text);

void format_time(time_t t, char *buf, size_t size);
