/* SPDX-License-Identifier: MIT */
#pragma once

/* ACME Renewal Information (RFC 9773): the certificate identifier, the renewalInfo URL,
 * and the server's suggested renewal window. Scheduling from the window is policy.c's. */

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rfc3339.h"

/* How long to wait before polling renewalInfo again when the response had no Retry-After:
 * four times a day, often enough to notice a window moved earlier (e.g. for a revocation). */
#define ARI_DEFAULT_POLL_SEC ((uint64_t) 6 * 3600)

/* The range a server's Retry-After on renewalInfo is clamped to: not more often than once
 * a minute, not less often than once a day. */
#define ARI_POLL_MIN_SEC ((uint64_t) 60)
#define ARI_POLL_MAX_SEC ((uint64_t) 24 * 3600)

/* The certificate's ARI identifier (RFC 9773 §4.1): base64url(AKI keyIdentifier) "."
 * base64url(content bytes of the DER serial INTEGER, a leading 0x00 kept), both without
 * padding. The same string goes in newOrder's "replaces". Returns 0 and a malloc()ed
 * string; -ENODATA if the certificate has no Authority Key Identifier keyIdentifier (it
 * then has no ARI identity), -EBADMSG for an undecodable extension, -ENOMEM. */
int ari_cert_id(X509 *cert, char **ret);

/* The URL to GET for a certificate: renewal_info_url "/" cert_id, without doubling the
 * slash when renewal_info_url already ends in one. -EINVAL if either is empty or cert_id
 * is not two non-empty base64url parts joined by one '.' (so nothing can be smuggled into
 * the path), -ENOMEM. */
int ari_url(const char *renewal_info_url, const char *cert_id, char **ret);

/* A suggested window: renew at a random moment in [start, end). */
typedef struct AriWindow {
        time_t start, end;
        char *explanation_url; /* https URL to show to people, or NULL */
} AriWindow;

/* Free what w owns and reset it to all zeros; safe on a zeroed or already-done window. */
void ari_window_done(AriWindow *w);

/* Parse a RenewalInfo object (RFC 9773):
 *   {"suggestedWindow": {"start": RFC3339, "end": RFC3339}, "explanationURL": "https://…"}
 * Other members are ignored. A missing or malformed window, a time that is not RFC 3339,
 * or an end that is not after the start is -EBADMSG (as is text that is not a JSON
 * object). explanationURL is optional, and ignored (left NULL) unless it is a string that
 * is a valid https URL. -E2BIG for a body over the JSON size limit, -ENOMEM. *ret is
 * untouched on failure; on success it is overwritten without freeing what it held (call
 * ari_window_done() on a window before reusing it). */
int ari_parse(const char *body, size_t len, AriWindow *ret);

/* The next poll interval for a Retry-After of seconds on a renewalInfo response, clamped
 * to [ARI_POLL_MIN_SEC, ARI_POLL_MAX_SEC]. Without a Retry-After, poll again after
 * ARI_DEFAULT_POLL_SEC. */
uint64_t ari_clamp_retry_after(uint64_t seconds);
