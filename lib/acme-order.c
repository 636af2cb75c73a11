/* SPDX-License-Identifier: MIT */
/* The order state machine. Each step starts one request; its completion (or a poll timer)
 * advances the order. Authorizations proceed in parallel, each with its own request and
 * poll timer. */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "acme-order.h"
#include "b64url.h"
#include "csr.h"
#include "json.h"
#include "jws.h"
#include "strv.h"
#include "x509.h"

typedef struct AcmeAuthz {
        AcmeOrder *order;
        char *url;
        char *id_type;
        char *id_value;
        char *identifier;      /* as ordered: "*." kept for a wildcard */
        const char *type;      /* the challenge type chosen (the solver's string) */
        char *token;
        char *key_authorization;
        char *challenge_url;
        bool deployed;         /* deploy() succeeded or is in progress: cleanup() is owed */
        bool deploying;        /* deploy() returned 1 and has not called back yet */
        bool responded;
        bool settled;
        uint64_t delay;
        AcmeRequest *req;
        sd_event_source *timer;
} AcmeAuthz;

struct AcmeOrder {
        AcmeClient *client;
        char **identifiers;
        ChallengeSolver solver;
        EVP_PKEY *cert_key;
        char *profile;
        char *preferred_chain;
        char *replaces;

        AcmeOrderProgress progress;
        AcmeOrderDone done;
        void *userdata;
        bool finished;
        int result;
        sd_event_source *done_event;

        char *order_url;
        char *finalize_url;
        char *certificate_url;
        bool finalize_sent;
        unsigned not_ready_retries;

        AcmeAuthz *authzs;
        size_t n_authzs;
        size_t n_unsettled;

        AcmeRequest *req;
        sd_event_source *timer;
        uint64_t poll_delay;
        uint64_t deadline;

        char *default_pem;
        char **alternates;
        size_t next_alternate;

        char *cert_pem;
        char *chain_pem;
        X509 **chain;

        char *error_text;
        AcmeProblem *problem;
        bool have_retry_after;
        uint64_t retry_after;
};

/* ---------------------------------------------------------------- helpers */

const char *acme_identifier_type(const char *identifier) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (inet_pton(AF_INET, identifier, buf) == 1 || inet_pton(AF_INET6, identifier, buf) == 1)
                return "ip";
        return "dns";
}

int acme_order_payload(char *const *identifiers, const char *profile, const char *replaces, char **ret) {
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        cJSON *ids;

        if (!p)
                return -ENOMEM;
        if (strv_isempty(identifiers))
                return -EINVAL;
        ids = cJSON_AddArrayToObject(p, "identifiers");
        if (!ids)
                return -ENOMEM;
        for (char *const *i = identifiers; *i; i++) {
                cJSON *id = cJSON_CreateObject();
                if (!id || !cJSON_AddItemToArray(ids, id)) {
                        cJSON_Delete(id);
                        return -ENOMEM;
                }
                if (!cJSON_AddStringToObject(id, "type", acme_identifier_type(*i)) ||
                    !cJSON_AddStringToObject(id, "value", *i))
                        return -ENOMEM;
        }
        if (profile && !cJSON_AddStringToObject(p, "profile", profile))
                return -ENOMEM;
        if (replaces && !cJSON_AddStringToObject(p, "replaces", replaces))
                return -ENOMEM;
        char *text = json_print(p);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

bool acme_chain_matches(const char *chain_pem, size_t len, const char *name) {
        X509 **chain = NULL;
        bool match = false;
        int n;

        n = x509_chain_from_pem(chain_pem, len, &chain);
        if (n <= 0)
                return false;
        X509 *top = chain[n - 1];
        _cleanup_free_ char *issuer = NULL, *subject = NULL;
        if (x509_issuer_cn(top, &issuer) >= 0 && streq(issuer, name))
                match = true;
        else if (n > 1 && x509_subject_cn(top, &subject) >= 0 && streq(subject, name))
                match = true;
        x509_chain_free(chain);
        return match;
}

static uint64_t now_usec(AcmeOrder *o) {
        uint64_t t = 0;
        (void) sd_event_now(acme_client_event(o->client), CLOCK_MONOTONIC, &t);
        return t;
}

static ChallengeSpec authz_spec(const AcmeAuthz *a) {
        return (ChallengeSpec) {
                .type = a->type,
                .identifier = a->identifier,
                .id_type = a->id_type,
                .id_value = a->id_value,
                .token = a->token,
                .key_authorization = a->key_authorization,
        };
}

/* Undo the deploy of a's challenge, if one is owed. */
static void authz_cleanup_challenge(AcmeAuthz *a) {
        AcmeOrder *o = a->order;

        if (!a->deployed)
                return;
        a->deployed = a->deploying = false;
        ChallengeSpec spec = authz_spec(a);
        o->solver.cleanup(o->solver.userdata, &spec);
}

/* Remove every challenge we deployed and that is not yet cleaned up. */
static void order_cleanup_challenges(AcmeOrder *o) {
        for (size_t i = 0; i < o->n_authzs; i++)
                authz_cleanup_challenge(&o->authzs[i]);
}

static void order_stop(AcmeOrder *o) {
        o->req = acme_request_free(o->req);
        o->timer = sd_event_source_disable_unref(o->timer);
        for (size_t i = 0; i < o->n_authzs; i++) {
                o->authzs[i].req = acme_request_free(o->authzs[i].req);
                o->authzs[i].timer = sd_event_source_disable_unref(o->authzs[i].timer);
        }
        order_cleanup_challenges(o);
}

static int on_done_event(sd_event_source *s, void *userdata) {
        AcmeOrder *o = userdata;

        o->done(o, o->result, o->userdata); /* may free o */
        return 0;
}

/* End the order: stop all work, clean up challenges and report from the loop, so that
 * code on the way out of a handler never touches a freed order. */
static void order_finish(AcmeOrder *o, int result) {
        int k;

        o->finished = true;
        o->result = result;
        order_stop(o);
        k = sd_event_add_defer(acme_client_event(o->client), &o->done_event, on_done_event, o);
        if (k < 0) {
                /* Cannot defer: report now; callers return right after finishing anyway. */
                o->done(o, result, o->userdata);
                return;
        }
        (void) sd_event_source_set_description(o->done_event, "acme-order-done");
        (void) sd_event_source_set_enabled(o->done_event, SD_EVENT_ONESHOT);
}

static void order_fail(AcmeOrder *o, int error, AcmeRequest *from, const char *fmt, ...) _printf_(4, 5);

/* End the order with an error. from: the request that failed (its problem and Retry-After
 * are kept). */
static void order_fail(AcmeOrder *o, int error, AcmeRequest *from, const char *fmt, ...) {
        va_list ap;

        if (o->finished)
                return;
        o->finished = true;

        free(o->error_text);
        va_start(ap, fmt);
        if (vasprintf(&o->error_text, fmt, ap) < 0)
                o->error_text = NULL;
        va_end(ap);

        if (from) {
                uint64_t s;
                acme_problem_free(o->problem);
                o->problem = acme_request_take_problem(from);
                if (acme_request_retry_after(from, &s) >= 0) {
                        o->have_retry_after = true;
                        o->retry_after = s;
                }
        }
        order_finish(o, error < 0 ? error : -EPROTO);
}

static void order_progress(AcmeOrder *o, const char *event, const char *detail) {
        if (o->progress)
                o->progress(o, event, detail, o->userdata);
}

/* Poll delay: Retry-After when the server gives one (bounded), else our backoff. */
static uint64_t next_delay(AcmeRequest *r, uint64_t *backoff) {
        uint64_t s, d = *backoff;

        if (r && acme_request_retry_after(r, &s) >= 0 && s > 0) {
                d = s * USEC_PER_SEC;
                if (d > ACME_RETRY_AFTER_MAX_USEC)
                        d = ACME_RETRY_AFTER_MAX_USEC;
        }
        *backoff = *backoff * 2 > ACME_POLL_MAX_USEC ? ACME_POLL_MAX_USEC : *backoff * 2;
        return d;
}

static int arm_timer(AcmeOrder *o, sd_event_source **t, uint64_t delay, sd_event_time_handler_t cb, void *userdata,
                     const char *description) {
        uint64_t when = now_usec(o) + delay;
        int r;

        if (when > o->deadline)
                return -ETIME;
        if (*t) {
                r = sd_event_source_set_time(*t, when);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(*t, SD_EVENT_ONESHOT);
        }
        r = sd_event_add_time(acme_client_event(o->client), t, CLOCK_MONOTONIC, when, USEC_PER_MSEC, cb, userdata);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(*t, description);
        return 0;
}

/* Parse a response body that must be a JSON object. */
static int body_json(AcmeRequest *r, cJSON **ret) {
        size_t len;
        const char *body = acme_request_body(r, &len);
        return json_parse_object(body, len, ret);
}

/* ---------------------------------------------------------------- certificate */

static void certificate_fetch(AcmeOrder *o, const char *url);

static void x509_chain_freep(X509 ***c) {
        x509_chain_free(*c);
}

/* Check the chain we chose and split it into leaf and issuers; the parsed chain is kept
 * for the caller (acme_order_certificate()), so nobody parses it again. */
static void order_complete(AcmeOrder *o, const char *pem) {
        _cleanup_(x509_chain_freep) X509 **chain = NULL;
        _cleanup_strv_free_ char **sans = NULL;
        int n, k;

        n = x509_chain_from_pem(pem, strlen(pem), &chain);
        if (n < 0) {
                order_fail(o, n, NULL, "The certificate downloaded from %s is not a valid PEM chain",
                           strna(o->certificate_url));
                return;
        }
        k = x509_matches_key(chain[0], o->cert_key);
        if (k <= 0) {
                order_fail(o, -EBADMSG, NULL, "The certificate downloaded from %s does not match our key",
                           strna(o->certificate_url));
                return;
        }
        k = x509_sans(chain[0], &sans);
        for (char **i = o->identifiers; k >= 0 && *i; i++)
                if (!strv_contains(sans, *i))
                        k = -EBADMSG;
        if (k < 0) {
                order_fail(o, -EBADMSG, NULL, "The certificate downloaded from %s does not name every requested identifier",
                           strna(o->certificate_url));
                return;
        }
        k = x509_to_pem(chain[0], &o->cert_pem);
        if (k >= 0) {
                /* A CA may send the leaf alone: the chain is then empty. */
                if (n > 1)
                        k = x509_chain_to_pem(chain + 1, &o->chain_pem);
                else if (!(o->chain_pem = strdup("")))
                        k = -ENOMEM;
        }
        if (k < 0) {
                order_fail(o, k, NULL, "Failed to encode the certificate: %s", strerror(-k));
                return;
        }
        o->chain = TAKE_PTR(chain);
        order_progress(o, "downloaded", o->certificate_url);
        order_finish(o, 0);
}

/* Try the next alternate chain, or settle for the default one. */
static void certificate_next_alternate(AcmeOrder *o) {
        if (o->alternates && o->alternates[o->next_alternate]) {
                certificate_fetch(o, o->alternates[o->next_alternate++]);
                return;
        }
        _cleanup_free_ char *pem = TAKE_PTR(o->default_pem);
        order_complete(o, pem);
}

static void on_certificate(AcmeRequest *r, int error, void *userdata) {
        AcmeOrder *o = userdata;
        size_t len;
        const char *body;

        if (error < 0) {
                if (o->default_pem) {
                        /* An alternate that can't be fetched is not fatal. */
                        o->req = acme_request_free(o->req);
                        certificate_next_alternate(o);
                        return;
                }
                order_fail(o, error, r, "Failed to download the certificate: %s", acme_request_error_text(r));
                return;
        }
        body = acme_request_body(r, &len);
        if (memchr(body, 0, len)) {
                order_fail(o, -EBADMSG, NULL, "The certificate from %s contains a NUL byte", acme_request_url(r));
                return;
        }

        if (!o->default_pem) {
                /* The default chain: remember its alternates. */
                o->default_pem = strndup(body, len);
                if (!o->default_pem) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
                if (o->preferred_chain) {
                        char *const *alts = acme_request_links(r, "alternate");
                        o->alternates = strv_copy(alts);
                        if (!o->alternates) {
                                order_fail(o, -ENOMEM, NULL, "Out of memory");
                                return;
                        }
                }
                if (!o->preferred_chain || acme_chain_matches(body, len, o->preferred_chain)) {
                        _cleanup_free_ char *pem = TAKE_PTR(o->default_pem);
                        o->req = acme_request_free(o->req);
                        order_complete(o, pem);
                        return;
                }
                o->req = acme_request_free(o->req);
                certificate_next_alternate(o);
                return;
        }

        if (acme_chain_matches(body, len, o->preferred_chain)) {
                _cleanup_free_ char *pem = strndup(body, len);
                o->req = acme_request_free(o->req);
                if (!pem) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
                order_complete(o, pem);
                return;
        }
        o->req = acme_request_free(o->req);
        certificate_next_alternate(o);
}

static void certificate_fetch(AcmeOrder *o, const char *url) {
        int k = acme_request_post(o->client, url, NULL, ACME_REQUEST_ACCEPT_PEM, on_certificate, o, &o->req);
        if (k < 0)
                order_fail(o, k, NULL, "Failed to request the certificate %s: %s", url, strerror(-k));
}

/* ---------------------------------------------------------------- order object */

static void order_poll_schedule(AcmeOrder *o, AcmeRequest *from);
static void order_finalize(AcmeOrder *o);
static void authzs_start(AcmeOrder *o, const cJSON *authorizations);

/* Act on an order object (from newOrder, finalize or a poll). r is the request it came in
 * on and is freed here. */
static void order_handle(AcmeOrder *o, AcmeRequest *r) {
        _cleanup_json_ cJSON *j = NULL;
        const char *status, *s;
        int k;

        k = body_json(r, &j);
        if (k >= 0)
                k = json_get_string(j, "status", &status);
        if (k < 0) {
                order_fail(o, -EBADMSG, NULL, "The order from %s is not a valid ACME order object", acme_request_url(r));
                return;
        }
        if (!o->finalize_url) {
                if (json_get_string(j, "finalize", &s) < 0 || !acme_url_is_valid(s, true)) {
                        order_fail(o, -EBADMSG, NULL, "The order from %s has no valid finalize URL", acme_request_url(r));
                        return;
                }
                o->finalize_url = strdup(s);
                if (!o->finalize_url) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
        }

        if (streq(status, "pending")) {
                const cJSON *authzs;
                if (o->authzs) {
                        /* Still pending while we already work on authorizations: wait for them. */
                        o->req = acme_request_free(o->req);
                        return;
                }
                if (json_get_array(j, "authorizations", &authzs) < 0 || cJSON_GetArraySize(authzs) == 0) {
                        order_fail(o, -EBADMSG, NULL, "The pending order %s lists no authorizations", strna(o->order_url));
                        return;
                }
                o->req = acme_request_free(o->req); /* j stays valid: it is our own parse */
                authzs_start(o, authzs);
                return;
        }
        if (streq(status, "ready")) {
                o->req = acme_request_free(o->req);
                if (o->finalize_sent) {
                        /* Ready after finalize means the CA dropped it; say so. */
                        order_fail(o, -EPROTO, NULL, "The order %s went back to \"ready\" after finalize",
                                   strna(o->order_url));
                        return;
                }
                order_finalize(o);
                return;
        }
        if (streq(status, "processing")) {
                order_poll_schedule(o, r);
                o->req = acme_request_free(o->req);
                return;
        }
        if (streq(status, "valid")) {
                if (json_get_string(j, "certificate", &s) < 0 || !acme_url_is_valid(s, true)) {
                        order_fail(o, -EBADMSG, NULL, "The valid order %s has no certificate URL", strna(o->order_url));
                        return;
                }
                free(o->certificate_url);
                o->certificate_url = strdup(s);
                o->req = acme_request_free(o->req);
                if (!o->certificate_url) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
                order_progress(o, "finalized", o->certificate_url);
                certificate_fetch(o, o->certificate_url);
                return;
        }

        /* invalid (or anything unknown): report the order's error. */
        const cJSON *err;
        _cleanup_free_ char *text = NULL;
        if (json_get_object(j, "error", &err) >= 0) {
                _cleanup_free_ char *errjson = json_print(err);
                AcmeProblem *p = NULL;
                if (errjson && acme_problem_parse(errjson, strlen(errjson), 0, &p) >= 0) {
                        acme_problem_free(o->problem);
                        o->problem = p;
                        text = acme_problem_format(p);
                }
        }
        order_fail(o, o->problem ? acme_problem_to_errno(o->problem) : -EPROTO, NULL, "The order %s is %s%s%s",
                   strna(o->order_url), status, text ? ": " : "", strempty(text));
}

static int on_order_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void on_order_poll(AcmeRequest *r, int error, void *userdata) {
        AcmeOrder *o = userdata;

        if (error < 0) {
                order_fail(o, error, r, "Failed to poll the order: %s", acme_request_error_text(r));
                return;
        }
        order_handle(o, r);
}

static int on_order_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AcmeOrder *o = userdata;
        int k;

        k = acme_request_post(o->client, o->order_url, NULL, 0, on_order_poll, o, &o->req);
        if (k < 0)
                order_fail(o, k, NULL, "Failed to poll the order %s: %s", o->order_url, strerror(-k));
        return 0;
}

static void order_poll_schedule(AcmeOrder *o, AcmeRequest *from) {
        int k = arm_timer(o, &o->timer, next_delay(from, &o->poll_delay), on_order_timer, o, "acme-order-poll");
        if (k < 0)
                order_fail(o, k, NULL, k == -ETIME ? "Timed out waiting for the CA to issue the order %s"
                                                   : "Failed to schedule a poll of the order %s",
                           strna(o->order_url));
}

static void on_finalize(AcmeRequest *r, int error, void *userdata) {
        AcmeOrder *o = userdata;

        if (error < 0) {
                if (acme_problem_is(acme_request_problem(r), "orderNotReady") && o->not_ready_retries < 3) {
                        /* Authorizations are valid but the order has not noticed yet. */
                        o->not_ready_retries++;
                        o->finalize_sent = false;
                        order_poll_schedule(o, r);
                        o->req = acme_request_free(o->req);
                        return;
                }
                order_fail(o, error, r, "Failed to finalize the order: %s", acme_request_error_text(r));
                return;
        }
        order_handle(o, r);
}

static void order_finalize(AcmeOrder *o) {
        _cleanup_free_ char *csr = NULL, *payload = NULL;
        int k;

        k = csr_generate(o->cert_key, o->identifiers, &csr);
        if (k < 0) {
                order_fail(o, k, NULL, "Failed to make the certificate signing request: %s", strerror(-k));
                return;
        }
        if (asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) {
                order_fail(o, -ENOMEM, NULL, "Out of memory");
                return;
        }
        o->finalize_sent = true;
        o->poll_delay = ACME_POLL_INITIAL_USEC;
        k = acme_request_post(o->client, o->finalize_url, payload, 0, on_finalize, o, &o->req);
        if (k < 0)
                order_fail(o, k, NULL, "Failed to send finalize to %s: %s", o->finalize_url, strerror(-k));
}

/* ---------------------------------------------------------------- authorizations */

static void authz_fetch(AcmeAuthz *a);

/* An authorization is valid (or was found valid): clean up its challenge; when the last
 * one settles, finalize. */
static void authz_settled(AcmeAuthz *a) {
        AcmeOrder *o = a->order;

        a->settled = true;
        a->req = acme_request_free(a->req);
        authz_cleanup_challenge(a);
        if (--o->n_unsettled > 0)
                return;
        order_progress(o, "validated", NULL);
        order_finalize(o);
}

static int on_authz_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        authz_fetch(userdata);
        return 0;
}

static void authz_poll_schedule(AcmeAuthz *a, AcmeRequest *from) {
        AcmeOrder *o = a->order;
        int k = arm_timer(o, &a->timer, next_delay(from, &a->delay), on_authz_timer, a, "acme-authz-poll");
        if (k < 0)
                order_fail(o, k, NULL, k == -ETIME ? "Timed out waiting for the CA to validate %s"
                                                   : "Failed to schedule a poll of the authorization for %s",
                           a->identifier);
}

static void on_challenge_response(AcmeRequest *r, int error, void *userdata) {
        AcmeAuthz *a = userdata;

        if (error < 0) {
                order_fail(a->order, error, r, "The CA refused our %s response for %s: %s", a->type,
                           a->identifier, acme_request_error_text(r));
                return;
        }
        a->responded = true;
        order_progress(a->order, "challenge-ready", a->identifier);
        authz_poll_schedule(a, r);
        a->req = acme_request_free(a->req);
}

/* The error of a failed challenge, as text, kept as the order's problem. */
static char *authz_failure_text(AcmeOrder *o, const cJSON *challenges) {
        const cJSON *ch, *err;

        cJSON_ArrayForEach(ch, challenges) {
                if (json_get_object(ch, "error", &err) < 0)
                        continue;
                _cleanup_free_ char *errjson = json_print(err);
                AcmeProblem *p = NULL;
                if (!errjson || acme_problem_parse(errjson, strlen(errjson), 0, &p) < 0)
                        continue;
                acme_problem_free(o->problem);
                o->problem = p;
                return acme_problem_format(p);
        }
        return NULL;
}

/* Tell the CA that a's challenge is ready to be validated. */
static void authz_post_response(AcmeAuthz *a) {
        int k = acme_request_post(a->order->client, a->challenge_url, "{}", 0, on_challenge_response, a, &a->req);
        if (k < 0)
                order_fail(a->order, k, NULL, "Failed to respond to the challenge for %s: %s", a->identifier,
                           strerror(-k));
}

void acme_order_challenge_deployed(AcmeOrder *o, const char *token, int error, const char *error_text) {
        AcmeAuthz *a = NULL;

        for (size_t i = 0; i < o->n_authzs; i++)
                if (o->authzs[i].deploying && streq_ptr(o->authzs[i].token, token))
                        a = &o->authzs[i];
        if (!a || o->finished)
                return;
        a->deploying = false;
        if (error < 0) {
                order_fail(o, error, NULL, "Failed to set up the %s challenge for %s: %s", a->type, a->identifier,
                           error_text ? error_text : strerror(-error));
                return;
        }
        authz_post_response(a);
}

/* Pick the challenge the solver chose for a's identifier among those the CA offers. */
static const cJSON *authz_pick(AcmeAuthz *a, const cJSON *challenges) {
        AcmeOrder *o = a->order;
        const cJSON *ch, *found = NULL;
        const char *type;
        _cleanup_strv_free_ char **offered = NULL;

        a->type = o->solver.choose(o->solver.userdata, a->identifier);
        cJSON_ArrayForEach(ch, challenges) {
                if (json_get_string(ch, "type", &type) < 0)
                        continue;
                (void) strv_extend(&offered, type);
                if (a->type && streq(type, a->type) && !found)
                        found = ch;
        }
        if (found)
                return found;

        _cleanup_free_ char *list = strv_join(offered, ", ");
        if (!a->type)
                order_fail(o, -EOPNOTSUPP, NULL, "No challenge is configured for %s (the CA offers: %s)", a->identifier,
                           isempty(list) ? "none" : list);
        else
                order_fail(o, -EOPNOTSUPP, NULL, "The CA offers no %s challenge for %s (offered: %s)", a->type,
                           a->identifier, isempty(list) ? "none" : list);
        return NULL;
}

/* Pick our challenge from a pending authorization, deploy it and tell the CA. */
static void authz_respond(AcmeAuthz *a, const cJSON *challenges) {
        AcmeOrder *o = a->order;
        const cJSON *found;
        const char *url, *token, *status = NULL;
        _cleanup_free_ char *error_text = NULL;
        int k;

        found = authz_pick(a, challenges);
        if (!found)
                return;
        if (json_get_string(found, "url", &url) < 0 || !acme_url_is_valid(url, true) ||
            json_get_string(found, "token", &token) < 0) {
                order_fail(o, -EBADMSG, NULL, "The %s challenge for %s lacks a valid url or token", a->type,
                           a->identifier);
                return;
        }
        if (!b64url_is_valid(token, 256)) {
                order_fail(o, -EBADMSG, NULL, "The CA sent a %s token for %s that is not base64url; refusing to use it",
                           a->type, a->identifier);
                return;
        }
        (void) json_get_string(found, "status", &status);
        if (status && (streq(status, "processing") || streq(status, "valid"))) {
                /* Already answered (by an earlier run, say): just wait for the result. */
                a->responded = true;
                authz_poll_schedule(a, NULL);
                return;
        }

        free(a->token);
        free(a->challenge_url);
        a->key_authorization = mfree(a->key_authorization);
        a->token = strdup(token);
        a->challenge_url = strdup(url);
        if (!a->token || !a->challenge_url) {
                order_fail(o, -ENOMEM, NULL, "Out of memory");
                return;
        }
        k = jws_key_authorization(acme_client_account_key(o->client), token, &a->key_authorization);
        if (k < 0) {
                order_fail(o, k, NULL, "Failed to compute the key authorization: %s", strerror(-k));
                return;
        }
        ChallengeSpec spec = authz_spec(a);
        k = o->solver.deploy(o->solver.userdata, o, &spec, &error_text);
        if (k < 0) {
                order_fail(o, k, NULL, "Failed to set up the %s challenge for %s: %s", a->type, a->identifier,
                           error_text ? error_text : strerror(-k));
                return;
        }
        a->deployed = true;
        if (k > 0) {
                a->deploying = true; /* acme_order_challenge_deployed() continues */
                return;
        }
        authz_post_response(a);
}

static void on_authz(AcmeRequest *r, int error, void *userdata) {
        AcmeAuthz *a = userdata;
        AcmeOrder *o = a->order;
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *id, *challenges = NULL;
        const char *status, *type, *value;

        if (error < 0) {
                order_fail(o, error, r, "Failed to fetch the authorization %s: %s", a->url, acme_request_error_text(r));
                return;
        }
        if (body_json(r, &j) < 0 || json_get_string(j, "status", &status) < 0 ||
            json_get_object(j, "identifier", &id) < 0 || json_get_string(id, "type", &type) < 0 ||
            json_get_string(id, "value", &value) < 0) {
                order_fail(o, -EBADMSG, NULL, "The authorization %s is not a valid ACME authorization object", a->url);
                return;
        }
        (void) json_get_array(j, "challenges", &challenges);

        if (!a->id_value) {
                /* RFC 8555 §7.1.4: a wildcard's authorization names the base domain. */
                bool wildcard = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "wildcard"));
                a->id_type = strdup(type);
                a->id_value = strdup(value);
                if (wildcard ? asprintf(&a->identifier, "*.%s", value) < 0 : !(a->identifier = strdup(value)))
                        a->identifier = NULL;
                if (!a->id_type || !a->id_value || !a->identifier) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
        }

        if (streq(status, "valid")) {
                authz_settled(a);
                return;
        }
        if (streq(status, "pending")) {
                if (a->responded) {
                        authz_poll_schedule(a, r);
                        a->req = acme_request_free(a->req);
                        return;
                }
                if (!challenges) {
                        order_fail(o, -EBADMSG, NULL, "The pending authorization for %s lists no challenges", value);
                        return;
                }
                a->req = acme_request_free(a->req);
                /* j keeps the challenge strings alive while we respond. */
                authz_respond(a, challenges);
                return;
        }

        _cleanup_free_ char *text = challenges ? authz_failure_text(o, challenges) : NULL;
        order_fail(o, o->problem ? acme_problem_to_errno(o->problem) : -EPROTO, NULL,
                   "The authorization for %s is %s%s%s", value, status, text ? ": " : "", strempty(text));
}

static void authz_fetch(AcmeAuthz *a) {
        int k = acme_request_post(a->order->client, a->url, NULL, 0, on_authz, a, &a->req);
        if (k < 0)
                order_fail(a->order, k, NULL, "Failed to fetch the authorization %s: %s", a->url, strerror(-k));
}

static void authzs_start(AcmeOrder *o, const cJSON *authorizations) {
        int n = cJSON_GetArraySize(authorizations);
        const cJSON *item;
        size_t i = 0;

        if (n > 1000) {
                order_fail(o, -EBADMSG, NULL, "The order lists %d authorizations; refusing", n);
                return;
        }
        o->authzs = calloc((size_t) n, sizeof(AcmeAuthz));
        if (!o->authzs) {
                order_fail(o, -ENOMEM, NULL, "Out of memory");
                return;
        }
        cJSON_ArrayForEach(item, authorizations) {
                AcmeAuthz *a = &o->authzs[i++];
                a->order = o;
                a->delay = ACME_POLL_INITIAL_USEC;
                o->n_authzs++;
                if (!cJSON_IsString(item) || !acme_url_is_valid(item->valuestring, true)) {
                        order_fail(o, -EBADMSG, NULL, "The order lists an authorization that is not a valid URL");
                        return;
                }
                a->url = strdup(item->valuestring);
                if (!a->url) {
                        order_fail(o, -ENOMEM, NULL, "Out of memory");
                        return;
                }
        }
        o->n_unsettled = o->n_authzs;
        for (i = 0; i < o->n_authzs && !o->finished; i++)
                authz_fetch(&o->authzs[i]);
}

/* ---------------------------------------------------------------- start and results */

static void on_new_order(AcmeRequest *r, int error, void *userdata) {
        AcmeOrder *o = userdata;
        const char *loc;

        if (error < 0) {
                order_fail(o, error, r, "Failed to create the order: %s", acme_request_error_text(r));
                return;
        }
        loc = acme_request_header(r, "Location");
        if (!loc || !acme_url_is_valid(loc, true)) {
                order_fail(o, -EBADMSG, NULL, "newOrder answered without a valid Location");
                return;
        }
        o->order_url = strdup(loc);
        if (!o->order_url) {
                order_fail(o, -ENOMEM, NULL, "Out of memory");
                return;
        }
        order_progress(o, "order-created", o->order_url);
        order_handle(o, r);
}

int acme_order_start(AcmeClient *c, const AcmeOrderParams *p, AcmeOrderProgress progress, AcmeOrderDone done,
                     void *userdata, AcmeOrder **ret) {
        _cleanup_(acme_order_freep) AcmeOrder *o = NULL;
        _cleanup_free_ char *payload = NULL;
        const AcmeDirectory *dir = acme_client_directory(c);
        int k;

        if (!dir || !p->solver || !p->cert_key || !done)
                return -EINVAL;
        k = acme_order_payload(p->identifiers, p->profile, p->replaces, &payload);
        if (k < 0)
                return k;

        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        o->client = c;
        o->solver = *p->solver;
        o->progress = progress;
        o->done = done;
        o->userdata = userdata;
        o->poll_delay = ACME_POLL_INITIAL_USEC;
        if (!(o->identifiers = strv_copy(p->identifiers)) ||
            (p->profile && !(o->profile = strdup(p->profile))) ||
            (p->preferred_chain && !(o->preferred_chain = strdup(p->preferred_chain))) ||
            (p->replaces && !(o->replaces = strdup(p->replaces))))
                return -ENOMEM;
        if (EVP_PKEY_up_ref(p->cert_key) != 1)
                return -EIO;
        o->cert_key = p->cert_key;
        o->deadline = now_usec(o) + ACME_ORDER_TIMEOUT_USEC;

        k = acme_request_post(c, dir->new_order, payload, 0, on_new_order, o, &o->req);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(o);
        return 0;
}

AcmeOrder *acme_order_free(AcmeOrder *o) {
        if (!o)
                return NULL;
        order_stop(o);
        sd_event_source_disable_unref(o->done_event);
        for (size_t i = 0; i < o->n_authzs; i++) {
                free(o->authzs[i].url);
                free(o->authzs[i].id_type);
                free(o->authzs[i].id_value);
                free(o->authzs[i].token);
                free(o->authzs[i].identifier);
                free(o->authzs[i].key_authorization);
                free(o->authzs[i].challenge_url);
        }
        free(o->authzs);
        strv_free(o->identifiers);
        EVP_PKEY_free(o->cert_key);
        free(o->profile);
        free(o->preferred_chain);
        free(o->replaces);
        free(o->order_url);
        free(o->finalize_url);
        free(o->certificate_url);
        free(o->default_pem);
        strv_free(o->alternates);
        free(o->cert_pem);
        free(o->chain_pem);
        x509_chain_free(o->chain);
        free(o->error_text);
        acme_problem_free(o->problem);
        free(o);
        return NULL;
}

const char *acme_order_cert_pem(const AcmeOrder *o) {
        return o->cert_pem;
}
X509 *acme_order_certificate(const AcmeOrder *o) {
        return o->chain ? o->chain[0] : NULL;
}
const char *acme_order_chain_pem(const AcmeOrder *o) {
        return o->chain_pem;
}
const char *acme_order_error_text(const AcmeOrder *o) {
        return o->error_text ? o->error_text : "no error";
}
const AcmeProblem *acme_order_problem(const AcmeOrder *o) {
        return o->problem;
}
int acme_order_retry_after(const AcmeOrder *o, uint64_t *ret_seconds) {
        if (!o->have_retry_after)
                return -ENODATA;
        *ret_seconds = o->retry_after;
        return 0;
}
const char *acme_order_url(const AcmeOrder *o) {
        return o->order_url;
}
