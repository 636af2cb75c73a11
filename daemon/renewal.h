/* SPDX-License-Identifier: MIT */
#pragma once

/* One renewal of one certificate: wait for the CA's client to be ready, get the key,
 * run the order, install the result. */

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

typedef struct Manager Manager;
typedef struct Renewal Renewal;

typedef void (*RenewalDone)(Renewal *r, int error, void *userdata);

/* Called once when the renewal ends (never synchronously). The renewal may be freed
 * inside. replaces: the ARI certID of the certificate being replaced, or NULL; it is sent
 * only when the CA offers ARI, and dropped once if the CA refuses it. */
int renewal_start(Manager *m, const CertConfig *cert, const char *replaces, RenewalDone done, void *userdata,
                  Renewal **ret);
Renewal *renewal_free(Renewal *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Renewal *, renewal_free);

const CertConfig *renewal_cert(const Renewal *r);
const char *renewal_error_text(const Renewal *r);
/* After success: installed version, serial (hex) and notAfter. */
unsigned renewal_version(const Renewal *r);
const char *renewal_serial(const Renewal *r);
time_t renewal_not_after(const Renewal *r);
/* After failure: the server's Retry-After (-ENODATA without), and whether the CA said
 * rateLimited. */
int renewal_retry_after(const Renewal *r, uint64_t *ret_seconds);
bool renewal_rate_limited(const Renewal *r);
/* Wall time the renewal took, in µs. */
uint64_t renewal_duration(const Renewal *r);
