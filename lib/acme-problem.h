/* SPDX-License-Identifier: MIT */
#pragma once

/* ACME problem documents (RFC 7807, RFC 8555 §6.7) as a typed error. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define ACME_ERROR_PREFIX "urn:ietf:params:acme:error:"

typedef struct AcmeSubproblem {
        char *type;
        char *detail;
        char *identifier; /* "dns:example.com" or NULL */
} AcmeSubproblem;

typedef struct AcmeProblem {
        char *type;       /* full type URI; "about:blank" when absent */
        char *detail;     /* may be NULL */
        int status;       /* HTTP status from the document (or the response), 0 if unknown */
        AcmeSubproblem *subproblems;
        size_t n_subproblems;
} AcmeProblem;

/* Parse a problem document of len bytes. http_status is used when the document has no
 * "status". -EBADMSG when it is not a JSON object or members have wrong types. */
int acme_problem_parse(const char *body, size_t len, int http_status, AcmeProblem **ret);

/* A problem made by the client for errors that came without a document. */
int acme_problem_new(const char *type, const char *detail, int status, AcmeProblem **ret);

AcmeProblem *acme_problem_free(AcmeProblem *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(AcmeProblem *, acme_problem_free);

/* True if the problem's type is ACME error `name` ("badNonce", "rateLimited", …). */
bool acme_problem_is(const AcmeProblem *p, const char *name);

/* The short name for ACME errors ("badNonce"), else the full type. Borrowed. */
const char *acme_problem_short_type(const AcmeProblem *p);

/* The errno a problem maps to: badNonce -EAGAIN, unauthorized/externalAccountRequired/
 * accountDoesNotExist… -EACCES (accountDoesNotExist -ENOENT), rateLimited -EBUSY,
 * malformed/badCSR/… -EINVAL, serverInternal -EIO, alreadyReplaced -EEXIST,
 * caa -EACCES, connection/dns/tls/incorrectResponse -ENOLINK, others -EPROTO. */
int acme_problem_to_errno(const AcmeProblem *p);

/* One line for people: "unauthorized: detail (HTTP 403); dns:a.test: connection: …".
 * Control characters in server text are replaced. NULL on ENOMEM. */
char *acme_problem_format(const AcmeProblem *p);
