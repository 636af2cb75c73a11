/* SPDX-License-Identifier: MIT */
#pragma once

/* One certificate order as a state machine on the event loop (RFC 8555 §7.4):
 *
 *   newOrder → each authorization (valid ones skipped): deploy the challenge, respond,
 *   poll → all valid → finalize with a CSR → poll the order → download the chain,
 *   choosing among Link rel="alternate" chains by preferred_chain.
 *
 * Polls start soon and back off (ACME_POLL_INITIAL_USEC, doubling up to
 * ACME_POLL_MAX_USEC) unless the server sends Retry-After. Challenge material is removed
 * as soon as its authorization is settled, and on every failure path, and when the order
 * is freed early. */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

#include "acme-problem.h"
#include "acme.h"
#include "macro.h"

#define ACME_POLL_INITIAL_USEC (25 * USEC_PER_MSEC)
#define ACME_POLL_MAX_USEC (5 * USEC_PER_SEC)
#define ACME_RETRY_AFTER_MAX_USEC (10 * 60 * USEC_PER_SEC)
#define ACME_ORDER_TIMEOUT_USEC (10 * 60 * USEC_PER_SEC)

typedef struct AcmeOrder AcmeOrder;

/* One challenge to make answerable. */
typedef struct ChallengeSpec {
        const char *type;              /* "http-01", "dns-01", "tls-alpn-01" */
        const char *identifier;        /* as ordered: "*.example.com", "example.com", "192.0.2.1" */
        const char *id_type;           /* the authorization's identifier: "dns" or "ip" … */
        const char *id_value;          /* … and its value ("example.com" for the wildcard) */
        const char *token;             /* base64url, checked */
        const char *key_authorization; /* token "." thumbprint */
} ChallengeSpec;

/* How challenges are made answerable. Deploying may take time (a DNS update and its
 * propagation, a hook): deploy() returns 0 when the challenge is answerable now, 1 when it
 * will be — the solver then calls acme_order_challenge_deployed() once, from the loop — or a
 * negative errno with *ret_error_text (may stay NULL) saying why. cleanup() undoes deploy(),
 * also one still in progress (which must then not call back); it is called exactly once for
 * every deploy() that did not fail. */
typedef struct ChallengeSolver {
        /* The challenge type to use for an identifier (as ordered), or NULL if none is
         * configured for it. */
        const char *(*choose)(void *userdata, const char *identifier);
        int (*deploy)(void *userdata, AcmeOrder *o, const ChallengeSpec *c, char **ret_error_text);
        void (*cleanup)(void *userdata, const ChallengeSpec *c);
        void *userdata;
} ChallengeSolver;

/* An asynchronous deploy() of the challenge with this token has finished. error < 0 fails
 * the order with error_text (or a generic text). */
void acme_order_challenge_deployed(AcmeOrder *o, const char *token, int error, const char *error_text);

typedef struct AcmeOrderParams {
        char *const *identifiers;      /* DNS names and IP literals */
        const ChallengeSolver *solver; /* copied */
        EVP_PKEY *cert_key;            /* the certificate's key; a reference is taken */
        const char *profile;           /* or NULL */
        const char *preferred_chain;   /* issuer CN of the top of the chain, or NULL */
        const char *replaces;          /* ARI certID of the certificate replaced, or NULL */
} AcmeOrderParams;

/* Progress events: "order-created", "challenge-ready", "validated", "finalized",
 * "downloaded". detail may be NULL. */
typedef void (*AcmeOrderProgress)(AcmeOrder *o, const char *event, const char *detail, void *userdata);
/* Called once when the order ends. The order may be freed inside. */
typedef void (*AcmeOrderDone)(AcmeOrder *o, int error, void *userdata);

/* The client must be ready (acme_client_ready()). */
int acme_order_start(AcmeClient *c, const AcmeOrderParams *p, AcmeOrderProgress progress, AcmeOrderDone done,
                     void *userdata, AcmeOrder **ret);
/* Free; a running order is abandoned (its challenges cleaned up, no callback). */
AcmeOrder *acme_order_free(AcmeOrder *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(AcmeOrder *, acme_order_free);

/* After success: the leaf certificate and the issuer chain as PEM (borrowed). */
const char *acme_order_cert_pem(const AcmeOrder *o);
const char *acme_order_chain_pem(const AcmeOrder *o);
/* After success: the leaf certificate, parsed (borrowed). */
X509 *acme_order_certificate(const AcmeOrder *o);
/* After failure: what went wrong, the ACME problem if any, and Retry-After (-ENODATA). */
const char *acme_order_error_text(const AcmeOrder *o);
const AcmeProblem *acme_order_problem(const AcmeOrder *o);
int acme_order_retry_after(const AcmeOrder *o, uint64_t *ret_seconds);
const char *acme_order_url(const AcmeOrder *o);

/* Pure helpers, exposed for tests. */
/* "ip" for IPv4/IPv6 literals, else "dns". */
const char *acme_identifier_type(const char *identifier);
/* The newOrder payload. */
int acme_order_payload(char *const *identifiers, const char *profile, const char *replaces, char **ret);
/* True if chain_pem's topmost certificate was issued by, or is, a CA whose CN is name. */
bool acme_chain_matches(const char *chain_pem, size_t len, const char *name);
