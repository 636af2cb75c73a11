/* SPDX-License-Identifier: MIT */
#pragma once

/* Certificate revocation (RFC 8555 §7.6), signed with the account key. */

#include <openssl/x509.h>

/* RFC 5280 §5.3.1 reason codes by name ("unspecified", "keyCompromise",
 * "affiliationChanged", "superseded", "cessationOfOperation", …). Returns the code or
 * -EINVAL. ACME CAs accept 0-5, 9 and 10 at most; Let's Encrypt fewer. */
int acme_revocation_reason_from_string(const char *s);

/* The revokeCert payload: {"certificate": base64url(DER), "reason": N}. */
int acme_revoke_payload(X509 *cert, int reason, char **ret);
