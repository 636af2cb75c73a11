/* SPDX-License-Identifier: MIT */
#pragma once

/* One renewal of one certificate: wait for the CA's client to be ready, get the key,
 * run the order, install the result. */

#include <stdint.h>

#include "config.h"

typedef struct Manager Manager;
typedef struct Renewal Renewal;

typedef void (*RenewalDone)(Renewal *r, int error, void *userdata);

/* Called once when the renewal ends (never synchronously). The renewal may be freed
 * inside. */
int renewal_start(Manager *m, const CertConfig *cert, RenewalDone done, void *userdata, Renewal **ret);
Renewal *renewal_free(Renewal *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Renewal *, renewal_free);

const CertConfig *renewal_cert(const Renewal *r);
const char *renewal_error_text(const Renewal *r);
/* After success: installed version, serial (hex) and notAfter. */
unsigned renewal_version(const Renewal *r);
const char *renewal_serial(const Renewal *r);
time_t renewal_not_after(const Renewal *r);
/* Wall time the renewal took, in µs. */
uint64_t renewal_duration(const Renewal *r);
