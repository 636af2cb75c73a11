/* SPDX-License-Identifier: MIT */
/* The ACME client of one CA: directory, account, nonces, and the signed-request path. */

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "acme.h"
#include "b64url.h"
#include "json.h"
#include "jws.h"
#include "nonce.h"
#include "retry-after.h"
#include "strv.h"

/* A server that keeps rejecting our fresh nonces is broken or hostile; stop eventually. */
#define ACME_BAD_NONCE_RETRIES 10

typedef struct ReadyWaiter {
        AcmeReadyDone done;
        void *userdata;
} ReadyWaiter;

typedef enum ReadyState {
        READY_IDLE,
        READY_RUNNING,
        READY_DONE,
} ReadyState;

struct AcmeClient {
        sd_event *event;
        HttpClient *http;
        char *name;
        char *directory_url;
        char *ca_file;
        bool allow_http;
        char **contact;
        bool accept_terms;
        char *eab_kid;
        char *eab_hmac_key;

        EVP_PKEY *key;
        char *account_url;
        bool key_is_new;

        AcmeDirectory *dir;
        NoncePool nonces;

        ReadyState ready_state;
        ReadyWaiter *waiters;
        size_t n_waiters;
        AcmeRequest *ready_req;
        sd_event_source *ready_defer;
        int ready_error;
        char *error_text;

        unsigned n_requests;
        unsigned n_nonce_fetches;
};

struct AcmeRequest {
        AcmeClient *client;
        char *url;
        char *payload;
        unsigned flags;
        bool is_get;

        HttpRequest *http;
        unsigned bad_nonces;

        AcmeRequestDone done;
        void *userdata;

        AcmeProblem *problem;
        char *error_text;
};

/* ---------------------------------------------------------------- requests */

AcmeRequest *acme_request_free(AcmeRequest *r) {
        if (!r)
                return NULL;
        http_request_free(r->http);
        free(r->url);
        if (r->payload) {
                OPENSSL_cleanse(r->payload, strlen(r->payload));
                free(r->payload);
        }
        acme_problem_free(r->problem);
        free(r->error_text);
        free(r);
        return NULL;
}

static void request_finish(AcmeRequest *r, int error, const char *fmt, ...) _printf_(3, 4);

/* End a request: record the error text (if any) and run the callback, which may free r. */
static void request_finish(AcmeRequest *r, int error, const char *fmt, ...) {
        if (fmt) {
                va_list ap;
                free(r->error_text);
                r->error_text = NULL;
                va_start(ap, fmt);
                if (vasprintf(&r->error_text, fmt, ap) < 0)
                        r->error_text = NULL;
                va_end(ap);
        }
        r->done(r, error, r->userdata);
}

static int request_step(AcmeRequest *r);

static void keep_nonce(AcmeClient *c, HttpRequest *h) {
        const char *nonce = http_request_header(h, "Replay-Nonce");
        if (nonce)
                (void) nonce_pool_push(&c->nonces, nonce); /* a malformed nonce is just not kept */
}

static void on_nonce(HttpRequest *h, int error, void *userdata) {
        AcmeRequest *r = userdata;
        AcmeClient *c = r->client;
        int k;

        if (error < 0) {
                request_finish(r, error, "Failed to get a nonce from %s: %s", c->dir->new_nonce,
                               http_request_error_text(h));
                return;
        }
        if (http_request_status(h) >= 400 || !http_request_header(h, "Replay-Nonce")) {
                request_finish(r, -EPROTO, "newNonce %s answered HTTP %ld without a Replay-Nonce",
                               c->dir->new_nonce, http_request_status(h));
                return;
        }
        keep_nonce(c, h);
        r->http = http_request_free(r->http);

        k = request_step(r);
        if (k < 0)
                request_finish(r, k, "Failed to send request to %s: %s", r->url, strerror(-k));
}

static void on_response(HttpRequest *h, int error, void *userdata) {
        AcmeRequest *r = userdata;
        AcmeClient *c = r->client;
        long status;
        size_t len;
        const char *body;

        if (error < 0) {
                request_finish(r, error, "%s %s: %s", r->is_get ? "GET" : "POST", r->url, http_request_error_text(h));
                return;
        }
        keep_nonce(c, h);
        status = http_request_status(h);
        if (status >= 200 && status < 300) {
                request_finish(r, 0, NULL);
                return;
        }

        body = http_request_body(h, &len);
        acme_problem_free(r->problem);
        r->problem = NULL;
        if (status >= 400 && acme_problem_parse(body, len, (int) status, &r->problem) >= 0) {
                if (!r->is_get && acme_problem_is(r->problem, "badNonce") && r->bad_nonces < ACME_BAD_NONCE_RETRIES) {
                        int k;
                        r->bad_nonces++;
                        r->http = http_request_free(r->http);
                        k = request_step(r);
                        if (k < 0)
                                request_finish(r, k, "Failed to resend request to %s: %s", r->url, strerror(-k));
                        return;
                }
                _cleanup_free_ char *text = acme_problem_format(r->problem);
                request_finish(r, acme_problem_to_errno(r->problem), "%s %s: %s", r->is_get ? "GET" : "POST",
                               r->url, text ? text : "(out of memory)");
                return;
        }
        request_finish(r, -EPROTO, "%s %s: unexpected HTTP status %ld", r->is_get ? "GET" : "POST", r->url, status);
}

/* Send (or resend) the request: sign with a pooled nonce, or fetch a nonce first. */
static int request_step(AcmeRequest *r) {
        AcmeClient *c = r->client;
        _cleanup_free_ char *nonce = NULL, *jws = NULL;
        HttpRequestSpec spec = {
                .ca_file = c->ca_file,
                .allow_http = c->allow_http,
        };
        int k;

        if (r->is_get) {
                spec.method = "GET";
                spec.url = r->url;
                return http_request_start(c->http, &spec, on_response, r, &r->http);
        }

        if (nonce_pool_pop(&c->nonces, &nonce) < 0) {
                spec.method = "HEAD";
                spec.url = c->dir->new_nonce;
                c->n_nonce_fetches++;
                return http_request_start(c->http, &spec, on_nonce, r, &r->http);
        }

        k = jws_sign(c->key, (r->flags & ACME_REQUEST_JWK) ? NULL : c->account_url, nonce, r->url, r->payload, &jws);
        if (k < 0)
                return k;

        spec.method = "POST";
        spec.url = r->url;
        spec.content_type = "application/jose+json";
        spec.body = jws;
        spec.body_len = strlen(jws);
        spec.accept = (r->flags & ACME_REQUEST_ACCEPT_PEM) ? "application/pem-certificate-chain" : NULL;
        c->n_requests++;
        return http_request_start(c->http, &spec, on_response, r, &r->http);
}

static int request_new(AcmeClient *c, const char *url, AcmeRequestDone done, void *userdata, AcmeRequest **ret) {
        _cleanup_(acme_request_freep) AcmeRequest *r = NULL;

        if (!acme_url_is_valid(url, c->allow_http))
                return -EINVAL;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->client = c;
        r->done = done;
        r->userdata = userdata;
        r->url = strdup(url);
        if (!r->url)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}

int acme_request_post(AcmeClient *c, const char *url, const char *payload, unsigned flags, AcmeRequestDone done,
                      void *userdata, AcmeRequest **ret) {
        _cleanup_(acme_request_freep) AcmeRequest *r = NULL;
        int k;

        if (!c->dir)
                return -ESTALE; /* acme_client_ready() first */
        if (!(flags & ACME_REQUEST_JWK) && !c->account_url)
                return -ENOKEY;

        k = request_new(c, url, done, userdata, &r);
        if (k < 0)
                return k;
        r->flags = flags;
        if (payload) {
                r->payload = strdup(payload);
                if (!r->payload)
                        return -ENOMEM;
        }
        k = request_step(r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

int acme_request_get(AcmeClient *c, const char *url, AcmeRequestDone done, void *userdata, AcmeRequest **ret) {
        _cleanup_(acme_request_freep) AcmeRequest *r = NULL;
        int k;

        k = request_new(c, url, done, userdata, &r);
        if (k < 0)
                return k;
        r->is_get = true;
        k = request_step(r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

long acme_request_status(const AcmeRequest *r) {
        return r->http ? http_request_status(r->http) : 0;
}

const char *acme_request_body(const AcmeRequest *r, size_t *ret_len) {
        if (!r->http) {
                if (ret_len)
                        *ret_len = 0;
                return "";
        }
        return http_request_body(r->http, ret_len);
}

const char *acme_request_header(const AcmeRequest *r, const char *name) {
        return r->http ? http_request_header(r->http, name) : NULL;
}

char *const *acme_request_links(const AcmeRequest *r, const char *rel) {
        return r->http ? http_request_links(r->http, rel) : NULL;
}

const AcmeProblem *acme_request_problem(const AcmeRequest *r) {
        return r->problem;
}

AcmeProblem *acme_request_take_problem(AcmeRequest *r) {
        return TAKE_PTR(r->problem);
}

int acme_request_retry_after(const AcmeRequest *r, uint64_t *ret_seconds) {
        const char *v = acme_request_header(r, "Retry-After");
        if (!v)
                return -ENODATA;
        return retry_after_parse(v, time(NULL), ret_seconds);
}

const char *acme_request_error_text(const AcmeRequest *r) {
        return r->error_text ? r->error_text : "no error";
}

const char *acme_request_url(const AcmeRequest *r) {
        return r->url;
}

/* ---------------------------------------------------------------- client */

int acme_client_new(sd_event *event, HttpClient *http, const AcmeClientConfig *cfg, EVP_PKEY *account_key,
                    const char *account_url, bool account_key_is_new, AcmeClient **ret) {
        _cleanup_(acme_client_freep) AcmeClient *c = NULL;

        if (!acme_url_is_valid(cfg->directory_url, cfg->allow_http))
                return -EINVAL;
        if (!!cfg->eab_kid != !!cfg->eab_hmac_key)
                return -EINVAL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->http = http;
        c->allow_http = cfg->allow_http;
        c->accept_terms = cfg->accept_terms;
        c->key_is_new = account_key_is_new;
        if (!(c->name = strdup(cfg->name ? cfg->name : cfg->directory_url)) ||
            !(c->directory_url = strdup(cfg->directory_url)) ||
            (cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file))) ||
            !(c->contact = strv_copy(cfg->contact)) ||
            (cfg->eab_kid && !(c->eab_kid = strdup(cfg->eab_kid))) ||
            (cfg->eab_hmac_key && !(c->eab_hmac_key = strdup(cfg->eab_hmac_key))) ||
            (account_url && !(c->account_url = strdup(account_url))))
                return -ENOMEM;
        if (EVP_PKEY_up_ref(account_key) != 1)
                return -EIO;
        c->key = account_key;

        *ret = TAKE_PTR(c);
        return 0;
}

AcmeClient *acme_client_free(AcmeClient *c) {
        if (!c)
                return NULL;
        acme_request_free(c->ready_req);
        sd_event_source_disable_unref(c->ready_defer);
        free(c->waiters);
        nonce_pool_clear(&c->nonces);
        acme_directory_free(c->dir);
        EVP_PKEY_free(c->key);
        free(c->account_url);
        free(c->name);
        free(c->directory_url);
        free(c->ca_file);
        strv_free(c->contact);
        free(c->eab_kid);
        if (c->eab_hmac_key) {
                OPENSSL_cleanse(c->eab_hmac_key, strlen(c->eab_hmac_key));
                free(c->eab_hmac_key);
        }
        free(c->error_text);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

const AcmeDirectory *acme_client_directory(const AcmeClient *c) {
        return c->dir;
}
const char *acme_client_account_url(const AcmeClient *c) {
        return c->account_url;
}
EVP_PKEY *acme_client_account_key(const AcmeClient *c) {
        return c->key;
}
sd_event *acme_client_event(const AcmeClient *c) {
        return c->event;
}
const char *acme_client_name(const AcmeClient *c) {
        return c->name;
}
const char *acme_client_error_text(const AcmeClient *c) {
        return c->error_text ? c->error_text : "no error";
}
unsigned acme_client_requests(const AcmeClient *c) {
        return c->n_requests;
}
unsigned acme_client_nonce_fetches(const AcmeClient *c) {
        return c->n_nonce_fetches;
}

/* Run every waiting ready callback. Callbacks may add new waiters or free nothing of
 * ours (the client outlives its waiters), so work on a detached copy of the list. */
static void ready_flush(AcmeClient *c) {
        ReadyWaiter *w = TAKE_PTR(c->waiters);
        size_t n = c->n_waiters;

        c->n_waiters = 0;
        for (size_t i = 0; i < n; i++)
                w[i].done(c, c->ready_error, w[i].userdata);
        free(w);
}

static int on_ready_defer(sd_event_source *s, void *userdata) {
        ready_flush(userdata);
        return 0;
}

static void ready_end(AcmeClient *c, int error, const char *fmt, ...) _printf_(3, 4);

static void ready_end(AcmeClient *c, int error, const char *fmt, ...) {
        /* Format first: the arguments may point into the request freed below. */
        if (fmt) {
                va_list ap;
                c->error_text = mfree(c->error_text);
                va_start(ap, fmt);
                if (vasprintf(&c->error_text, fmt, ap) < 0)
                        c->error_text = NULL;
                va_end(ap);
        }
        c->ready_req = acme_request_free(c->ready_req);
        c->ready_error = error;
        c->ready_state = error < 0 ? READY_IDLE : READY_DONE;
        ready_flush(c);
}

static void account_create(AcmeClient *c);

/* Common handling of a newAccount answer: the account URL is the Location header. */
static int account_take_location(AcmeClient *c, AcmeRequest *r) {
        const char *loc = acme_request_header(r, "Location");
        _cleanup_json_ cJSON *j = NULL;
        const char *status;
        size_t len;
        const char *body = acme_request_body(r, &len);

        if (!loc || !acme_url_is_valid(loc, c->allow_http))
                return -EBADMSG;
        if (json_parse_object(body, len, &j) >= 0 && json_get_string(j, "status", &status) >= 0 &&
            !streq(status, "valid"))
                return -EKEYREVOKED;
        free(c->account_url);
        c->account_url = strdup(loc);
        return c->account_url ? 0 : -ENOMEM;
}

static void on_account_created(AcmeRequest *r, int error, void *userdata) {
        AcmeClient *c = userdata;

        if (error < 0) {
                ready_end(c, error, "Failed to create an account at CA %s: %s", c->name, acme_request_error_text(r));
                return;
        }
        error = account_take_location(c, r);
        if (error < 0) {
                ready_end(c, error, "CA %s answered newAccount without a usable account URL or with an account that is not valid",
                          c->name);
                return;
        }
        ready_end(c, 0, NULL);
}

static void on_account_lookup(AcmeRequest *r, int error, void *userdata) {
        AcmeClient *c = userdata;

        if (error < 0) {
                if (acme_problem_is(acme_request_problem(r), "accountDoesNotExist")) {
                        c->ready_req = acme_request_free(c->ready_req);
                        account_create(c);
                        return;
                }
                ready_end(c, error, "Failed to look up the account at CA %s: %s", c->name, acme_request_error_text(r));
                return;
        }
        error = account_take_location(c, r);
        if (error < 0) {
                ready_end(c, error, "CA %s answered the account look-up without a usable account URL or with an account that is not valid",
                          c->name);
                return;
        }
        ready_end(c, 0, NULL);
}

static int account_payload(AcmeClient *c, char **ret) {
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        cJSON *contact;

        if (!p)
                return -ENOMEM;
        if (c->accept_terms && !cJSON_AddTrueToObject(p, "termsOfServiceAgreed"))
                return -ENOMEM;
        if (!strv_isempty(c->contact)) {
                contact = cJSON_AddArrayToObject(p, "contact");
                if (!contact)
                        return -ENOMEM;
                for (char **s = c->contact; *s; s++) {
                        cJSON *item = cJSON_CreateString(*s);
                        if (!item || !cJSON_AddItemToArray(contact, item)) {
                                cJSON_Delete(item);
                                return -ENOMEM;
                        }
                }
        }
        if (c->eab_kid) {
                _cleanup_free_ uint8_t *hmac = NULL;
                size_t hmac_len;
                cJSON *eab;
                int k = b64url_decode(c->eab_hmac_key, strlen(c->eab_hmac_key), &hmac, &hmac_len);
                if (k < 0)
                        return k;
                k = jws_eab(c->key, c->eab_kid, hmac, hmac_len, c->dir->new_account, &eab);
                OPENSSL_cleanse(hmac, hmac_len);
                if (k < 0)
                        return k;
                if (!cJSON_AddItemToObject(p, "externalAccountBinding", eab)) {
                        cJSON_Delete(eab);
                        return -ENOMEM;
                }
        }
        char *text = json_print(p);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

static void account_create(AcmeClient *c) {
        _cleanup_free_ char *payload = NULL;
        int k;

        if (c->dir->terms_of_service && !c->accept_terms) {
                ready_end(c, -EACCES,
                          "CA %s requires agreeing to its terms of service (%s): set accept_terms = yes in [ca %s]",
                          c->name, c->dir->terms_of_service, c->name);
                return;
        }
        if (c->dir->external_account_required && !c->eab_kid) {
                ready_end(c, -EACCES,
                          "CA %s requires External Account Binding: set eab_kid and eab_hmac_key in [ca %s]", c->name,
                          c->name);
                return;
        }
        k = account_payload(c, &payload);
        if (k < 0) {
                ready_end(c, k, "Failed to build the newAccount request for CA %s: %s", c->name,
                          k == -EINVAL ? "eab_hmac_key is not valid base64url" : strerror(-k));
                return;
        }
        k = acme_request_post(c, c->dir->new_account, payload, ACME_REQUEST_JWK, on_account_created, c, &c->ready_req);
        if (k < 0)
                ready_end(c, k, "Failed to send newAccount to CA %s: %s", c->name, strerror(-k));
}

static void account_step(AcmeClient *c) {
        int k;

        if (c->account_url) {
                ready_end(c, 0, NULL);
                return;
        }
        if (c->key_is_new) {
                account_create(c);
                return;
        }
        k = acme_request_post(c, c->dir->new_account, "{\"onlyReturnExisting\":true}", ACME_REQUEST_JWK,
                              on_account_lookup, c, &c->ready_req);
        if (k < 0)
                ready_end(c, k, "Failed to send the account look-up to CA %s: %s", c->name, strerror(-k));
}

static void on_directory(AcmeRequest *r, int error, void *userdata) {
        AcmeClient *c = userdata;
        const char *body;
        size_t len;

        if (error < 0) {
                ready_end(c, error, "Failed to fetch the directory of CA %s: %s", c->name, acme_request_error_text(r));
                return;
        }
        AcmeDirectory *dir;
        body = acme_request_body(r, &len);
        error = acme_directory_parse(body, len, c->allow_http, &dir);
        if (error >= 0) {
                acme_directory_free(c->dir);
                c->dir = dir;
        }
        if (error < 0) {
                ready_end(c, error, "The directory of CA %s at %s is not a valid ACME directory", c->name,
                          c->directory_url);
                return;
        }
        c->ready_req = acme_request_free(c->ready_req);
        account_step(c);
}

int acme_client_ready(AcmeClient *c, AcmeReadyDone done, void *userdata) {
        ReadyWaiter *w;
        int k;

        w = realloc(c->waiters, sizeof(ReadyWaiter) * (c->n_waiters + 1));
        if (!w)
                return -ENOMEM;
        c->waiters = w;
        c->waiters[c->n_waiters++] = (ReadyWaiter) { done, userdata };

        switch (c->ready_state) {
        case READY_RUNNING:
                return 0;
        case READY_DONE:
                /* Answer from the loop, never from inside the caller. */
                if (!c->ready_defer) {
                        k = sd_event_add_defer(c->event, &c->ready_defer, on_ready_defer, c);
                        if (k < 0)
                                goto fail;
                        (void) sd_event_source_set_description(c->ready_defer, "acme-ready");
                }
                k = sd_event_source_set_enabled(c->ready_defer, SD_EVENT_ONESHOT);
                if (k < 0)
                        goto fail;
                return 0;
        case READY_IDLE:
                c->ready_state = READY_RUNNING;
                c->error_text = mfree(c->error_text);
                /* After a failure the directory is fetched again too: it may have changed. */
                k = acme_request_get(c, c->directory_url, on_directory, c, &c->ready_req);
                if (k < 0) {
                        c->ready_state = READY_IDLE;
                        goto fail;
                }
                return 0;
        }
        return -EINVAL;

fail:
        c->n_waiters--;
        return k;
}

void acme_client_ready_cancel(AcmeClient *c, AcmeReadyDone done, void *userdata) {
        for (size_t i = 0; i < c->n_waiters; i++)
                if (c->waiters[i].done == done && c->waiters[i].userdata == userdata) {
                        memmove(c->waiters + i, c->waiters + i + 1, sizeof(ReadyWaiter) * (c->n_waiters - i - 1));
                        c->n_waiters--;
                        return;
                }
}
