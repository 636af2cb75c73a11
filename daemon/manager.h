/* SPDX-License-Identifier: MIT */
#pragma once

/* The manager owns the configuration, the state store, the HTTP client and one ACME
 * client per CA, and runs renewals (at most max_parallel at once) on the event loop. */

#include <openssl/evp.h>
#include <systemd/sd-event.h>

#include "acme.h"
#include "config.h"
#include "http.h"
#include "store.h"

typedef struct Renewal Renewal;

typedef struct ManagerCa {
        const CaConfig *config;
        AcmeClient *client;
        char *saved_account_url; /* as on disk, to know when to save */
} ManagerCa;

typedef struct Manager {
        sd_event *event;
        Config *config;
        Store *store;
        HttpClient *http;
        ManagerCa *cas;
        size_t n_cas;

        /* --once bookkeeping */
        const CertConfig **queue;
        size_t n_queue, next_queued;
        unsigned n_active;
        unsigned n_renewed, n_failed, n_current;
        Renewal **active;
} Manager;

int manager_new(Config *config, Manager **ret); /* takes ownership of config */
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* The ACME client of a CA, created on first use with its account key (made and saved
 * if missing) and stored account URL. */
int manager_get_ca(Manager *m, const char *name, ManagerCa **ret);
/* Save the account URL after the client became ready, if it changed. */
void manager_ca_account_ready(Manager *m, ManagerCa *ca);

/* Renew every certificate that is missing, changed or due; print one summary line per
 * certificate. Returns 0 if all went well, -EIO if any renewal failed. */
int manager_run_once(Manager *m);
