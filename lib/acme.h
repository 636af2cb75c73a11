/* SPDX-License-Identifier: MIT */
#pragma once

/* An ACME client for one CA (RFC 8555): the directory, the account, the nonce pool and the
 * one signed-request path every request takes.
 *
 * A signed request takes a nonce from the pool (fetching one from newNonce when the pool is
 * empty), signs with kid (or jwk for newAccount), POSTs application/jose+json, keeps the
 * Replay-Nonce of every response, turns application/problem+json into an AcmeProblem and
 * retries badNonce transparently with the fresh nonce. */

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "acme-directory.h"
#include "acme-problem.h"
#include "http.h"
#include "macro.h"

typedef struct AcmeClient AcmeClient;
typedef struct AcmeRequest AcmeRequest;

typedef struct AcmeClientConfig {
        const char *name;           /* CA name, for messages */
        const char *directory_url;
        const char *ca_file;        /* trust for the CA's HTTPS, NULL = system */
        bool allow_http;
        char *const *contact;       /* may be NULL */
        bool accept_terms;
        const char *eab_kid;        /* External Account Binding, both or neither */
        const char *eab_hmac_key;   /* base64url */
        const char *user_agent;
} AcmeClientConfig;

/* account_key: the account's key (a reference is taken). account_url: the known account
 * URL (kid) or NULL; account_key_is_new: the key was just generated, so no account can
 * exist for it yet (skips the onlyReturnExisting look-up). */
int acme_client_new(sd_event *event, HttpClient *http, const AcmeClientConfig *cfg, EVP_PKEY *account_key,
                    const char *account_url, bool account_key_is_new, AcmeClient **ret);
AcmeClient *acme_client_free(AcmeClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(AcmeClient *, acme_client_free);

typedef void (*AcmeReadyDone)(AcmeClient *c, int error, void *userdata);

/* Make sure the directory is loaded and the account exists (found with
 * onlyReturnExisting, or created with contact, terms agreement and EAB). done runs from
 * the loop (never synchronously), once per call. On failure acme_client_error_text()
 * says why. A later call after a failure tries again. */
int acme_client_ready(AcmeClient *c, AcmeReadyDone done, void *userdata);
/* Forget a pending ready callback (the waiter is going away). */
void acme_client_ready_cancel(AcmeClient *c, AcmeReadyDone done, void *userdata);

const AcmeDirectory *acme_client_directory(const AcmeClient *c);
const char *acme_client_account_url(const AcmeClient *c);
EVP_PKEY *acme_client_account_key(const AcmeClient *c);
sd_event *acme_client_event(const AcmeClient *c);
const char *acme_client_name(const AcmeClient *c);
const char *acme_client_error_text(const AcmeClient *c);
/* Signed requests sent and newNonce fetches made, for tests and benchmarks. */
unsigned acme_client_requests(const AcmeClient *c);
unsigned acme_client_nonce_fetches(const AcmeClient *c);

/* ---- requests ---- */

typedef void (*AcmeRequestDone)(AcmeRequest *req, int error, void *userdata);

enum {
        ACME_REQUEST_JWK = 1 << 0,        /* sign with "jwk" instead of "kid" */
        ACME_REQUEST_ACCEPT_PEM = 1 << 1, /* Accept: application/pem-certificate-chain */
};

/* A signed POST; payload NULL is POST-as-GET. done gets 0 for a 2xx response; otherwise a
 * negative errno: transport failures as from http.h, ACME problems mapped by
 * acme_problem_to_errno() (the problem is then available), other statuses -EPROTO. */
int acme_request_post(AcmeClient *c, const char *url, const char *payload, unsigned flags, AcmeRequestDone done,
                      void *userdata, AcmeRequest **ret);
/* An unauthenticated GET (directory, renewalInfo). */
int acme_request_get(AcmeClient *c, const char *url, AcmeRequestDone done, void *userdata, AcmeRequest **ret);
AcmeRequest *acme_request_free(AcmeRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(AcmeRequest *, acme_request_free);

long acme_request_status(const AcmeRequest *r);
const char *acme_request_body(const AcmeRequest *r, size_t *ret_len);
const char *acme_request_header(const AcmeRequest *r, const char *name);
char *const *acme_request_links(const AcmeRequest *r, const char *rel);
const AcmeProblem *acme_request_problem(const AcmeRequest *r);
/* Take the problem (ownership passes to the caller), NULL if none. */
AcmeProblem *acme_request_take_problem(AcmeRequest *r);
/* Seconds the server asked us to wait (Retry-After), or -ENODATA. */
int acme_request_retry_after(const AcmeRequest *r, uint64_t *ret_seconds);
/* What went wrong, for people: the problem, or the transport error, with the URL. */
const char *acme_request_error_text(const AcmeRequest *r);
const char *acme_request_url(const AcmeRequest *r);
