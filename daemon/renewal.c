/* SPDX-License-Identifier: MIT */
/* One renewal: client ready → key → order → install. */

#include <stdarg.h>
#include <stdio.h>

#include "acme-order.h"
#include "challenge.h"
#include "key.h"
#include "log.h"
#include "manager.h"
#include "renewal.h"
#include "ssl-util.h"
#include "strv.h"
#include "user-group.h"
#include "x509.h"

struct Renewal {
        Manager *manager;
        const CertConfig *cert;
        ManagerCa *ca;
        EVP_PKEY *key;
        gid_t key_gid;
        Challenges *challenges;
        AcmeOrder *order;
        bool waiting_ready;

        RenewalDone done;
        void *userdata;
        sd_event_source *done_event;
        int result;
        char *error_text;

        char *replaces;          /* ARI certID for newOrder, until the CA refuses it */
        bool have_retry_after;
        uint64_t retry_after;
        bool rate_limited;

        unsigned version;
        char *serial;
        time_t not_after;
        uint64_t started, ended;
};

static void on_ready(AcmeClient *client, int error, void *userdata);
static void renewal_order(Renewal *r);

static uint64_t now_usec(Manager *m) {
        uint64_t t = 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

static int on_done_event(sd_event_source *s, void *userdata) {
        Renewal *r = userdata;
        r->done(r, r->result, r->userdata); /* may free r */
        return 0;
}

/* End the renewal and report from the loop. */
static void renewal_finish(Renewal *r, int result) {
        int k;

        r->result = result;
        r->ended = now_usec(r->manager);
        r->order = acme_order_free(r->order);
        if (r->waiting_ready) {
                acme_client_ready_cancel(r->ca->client, on_ready, r);
                r->waiting_ready = false;
        }
        k = sd_event_add_defer(r->manager->event, &r->done_event, on_done_event, r);
        if (k < 0) {
                r->done(r, result, r->userdata);
                return;
        }
        (void) sd_event_source_set_description(r->done_event, "renewal-done");
        (void) sd_event_source_set_enabled(r->done_event, SD_EVENT_ONESHOT);
}

static void renewal_fail(Renewal *r, int error, const char *fmt, ...) _printf_(3, 4);

static void renewal_fail(Renewal *r, int error, const char *fmt, ...) {
        va_list ap;

        free(r->error_text);
        va_start(ap, fmt);
        if (vasprintf(&r->error_text, fmt, ap) < 0)
                r->error_text = NULL;
        va_end(ap);
        renewal_finish(r, error < 0 ? error : -EIO);
}

static void on_order_progress(AcmeOrder *o, const char *event, const char *detail, void *userdata) {
        Renewal *r = userdata;
        log_debug("%s: %s%s%s", r->cert->name, event, detail ? " " : "", strempty(detail));
        manager_renewal_event(r->manager, r->cert->name, event, detail);
}

static void on_order_done(AcmeOrder *o, int error, void *userdata) {
        Renewal *r = userdata;
        int k;

        if (error < 0) {
                const AcmeProblem *p = acme_order_problem(o);

                if (r->replaces && p &&
                    (acme_problem_is(p, "alreadyReplaced") ||
                     (acme_problem_is(p, "malformed") && p->detail && strstr(p->detail, "replaces")))) {
                        /* RFC 9773 §5: the CA will not take this replacement (another order
                         * replaced it, or it does not know it); order without it, once. */
                        log_cert_errno(LOG_NOTICE, 0, r->cert->name, NULL,
                                       "The CA refused \"replaces\" (%s); ordering again without it.",
                                       acme_order_error_text(o));
                        r->replaces = mfree(r->replaces);
                        r->order = acme_order_free(r->order);
                        renewal_order(r);
                        return;
                }
                r->have_retry_after = acme_order_retry_after(o, &r->retry_after) >= 0;
                r->rate_limited = acme_problem_is(p, "rateLimited");
                renewal_fail(r, error, "%s", acme_order_error_text(o));
                return;
        }

        k = store_install(r->manager->store, r->cert->name, r->key, acme_order_cert_pem(o), acme_order_chain_pem(o),
                          r->key_gid, r->cert->keep_versions);
        if (k < 0) {
                renewal_fail(r, k, "Failed to install the new certificate under %s: %s", r->manager->config->state_dir,
                             strerror(-k));
                return;
        }
        r->version = (unsigned) k;

        X509 *cert = acme_order_certificate(o);
        (void) x509_serial_hex(cert, &r->serial);
        (void) x509_not_after(cert, &r->not_after);
        renewal_finish(r, 0);
}

static int renewal_get_key(Renewal *r) {
        const CertConfig *c = r->cert;
        int k;

        if (c->reuse_key) {
                k = store_load_live(r->manager->store, c->name, NULL, &r->key, NULL);
                if (k >= 0) {
                        KeyType t;
                        if (key_get_type(r->key, &t) >= 0 && t == c->key_type)
                                return 0;
                        /* The key type changed in the config: a new key is due. */
                        EVP_PKEY_free(r->key);
                        r->key = NULL;
                } else if (k != -ENOENT)
                        log_warning_errno(k, "%s: cannot load the current key to reuse it, making a new one: %m", c->name);
        }
        return key_generate(c->key_type, &r->key);
}

static void on_ready(AcmeClient *client, int error, void *userdata) {
        Renewal *r = userdata;
        int k;

        r->waiting_ready = false;
        if (error < 0) {
                renewal_fail(r, error, "%s", acme_client_error_text(client));
                return;
        }
        manager_ca_account_ready(r->manager, r->ca);

        k = renewal_get_key(r);
        if (k < 0) {
                renewal_fail(r, k, "Failed to make a %s key: %s", key_type_to_string(r->cert->key_type), strerror(-k));
                return;
        }

        renewal_order(r);
}

/* Start the order (again, after a refused "replaces"). */
static void renewal_order(Renewal *r) {
        const AcmeDirectory *dir = acme_client_directory(r->ca->client);
        const char *profile = r->cert->profile ? r->cert->profile : r->ca->config->profile;
        int k;

        if (profile && !strv_contains(dir->profiles, profile)) {
                _cleanup_free_ char *offered = strv_join(dir->profiles, ", ");
                renewal_fail(r, -EINVAL, "CA %s does not offer the profile \"%s\" (offered: %s)", r->ca->config->name,
                             profile, isempty(offered) ? "none" : offered);
                return;
        }

        AcmeOrderParams p = {
                .identifiers = r->cert->domains,
                .solver = challenges_solver(r->challenges),
                .cert_key = r->key,
                .profile = profile,
                .preferred_chain = r->cert->preferred_chain,
                .replaces = dir->renewal_info ? r->replaces : NULL,
        };
        k = acme_order_start(r->ca->client, &p, on_order_progress, on_order_done, r, &r->order);
        if (k < 0)
                renewal_fail(r, k, "Failed to start an order at CA %s: %s", r->ca->config->name, strerror(-k));
}


int renewal_start(Manager *m, const CertConfig *cert, const char *replaces, RenewalDone done, void *userdata,
                  Renewal **ret) {
        _cleanup_(renewal_freep) Renewal *r = NULL;
        int k;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->manager = m;
        r->cert = cert;
        r->done = done;
        r->userdata = userdata;
        r->started = now_usec(m);
        if (replaces && !(r->replaces = strdup(replaces)))
                return -ENOMEM;
        k = challenges_new(m, cert, &r->challenges);
        if (k < 0)
                return k;

        /* What can be checked before any network traffic. */
        r->key_gid = (gid_t) -1;
        k = cert->key_group ? group_to_gid(cert->key_group, &r->key_gid) : 0;
        if (k == -ESRCH)
                renewal_fail(r, k, "key_group %s does not exist", cert->key_group);
        else if (k < 0)
                renewal_fail(r, k, "Failed to look up key_group %s: %s", cert->key_group, strerror(-k));
        else {
                k = manager_get_ca(m, cert->ca, &r->ca);
                if (k < 0)
                        renewal_fail(r, k, "Failed to set up CA %s: %s", cert->ca, strerror(-k));
                else {
                        k = acme_client_ready(r->ca->client, on_ready, r);
                        if (k < 0)
                                renewal_fail(r, k, "Failed to contact CA %s: %s", cert->ca, strerror(-k));
                        else
                                r->waiting_ready = true;
                }
        }
        *ret = TAKE_PTR(r);
        return 0;
}

Renewal *renewal_free(Renewal *r) {
        if (!r)
                return NULL;
        if (r->waiting_ready)
                acme_client_ready_cancel(r->ca->client, on_ready, r);
        acme_order_free(r->order); /* first: it cleans up its challenges */
        challenges_free(r->challenges);
        sd_event_source_disable_unref(r->done_event);
        EVP_PKEY_free(r->key);
        free(r->error_text);
        free(r->serial);
        free(r->replaces);
        free(r);
        return NULL;
}

const CertConfig *renewal_cert(const Renewal *r) {
        return r->cert;
}
const char *renewal_error_text(const Renewal *r) {
        return r->error_text ? r->error_text : "no error";
}
unsigned renewal_version(const Renewal *r) {
        return r->version;
}
const char *renewal_serial(const Renewal *r) {
        return r->serial;
}
time_t renewal_not_after(const Renewal *r) {
        return r->not_after;
}
int renewal_retry_after(const Renewal *r, uint64_t *ret_seconds) {
        if (!r->have_retry_after)
                return -ENODATA;
        *ret_seconds = r->retry_after;
        return 0;
}
bool renewal_rate_limited(const Renewal *r) {
        return r->rate_limited;
}
uint64_t renewal_duration(const Renewal *r) {
        return r->ended - r->started;
}
