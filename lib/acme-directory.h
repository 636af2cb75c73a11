/* SPDX-License-Identifier: MIT */
#pragma once

/* The ACME directory object (RFC 8555 §7.1.1, RFC 9773 renewalInfo, profiles). */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct AcmeDirectory {
        char *new_nonce;        /* required */
        char *new_account;      /* required */
        char *new_order;        /* required */
        char *revoke_cert;
        char *key_change;
        char *renewal_info;     /* RFC 9773, NULL when the CA has no ARI */
        char *terms_of_service; /* meta.termsOfService */
        bool external_account_required;
        char **profiles;        /* names from meta.profiles, NULL-terminated (may be empty) */
} AcmeDirectory;

/* Parse a directory document. Required URLs missing or not strings are -EBADMSG; every URL
 * must be https:// unless allow_http. */
int acme_directory_parse(const char *body, size_t len, bool allow_http, AcmeDirectory **ret);
AcmeDirectory *acme_directory_free(AcmeDirectory *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(AcmeDirectory *, acme_directory_free);

/* True if url is an acceptable ACME URL: https:// (or http:// with allow_http), no
 * whitespace or control characters. */
bool acme_url_is_valid(const char *url, bool allow_http);
