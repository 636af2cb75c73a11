/* SPDX-License-Identifier: MIT */
#pragma once

/* renewd.conf and certs.d/*.conf (DESIGN.md "Configuration"). Strict: unknown keys, bad
 * values, relative paths, duplicates and missing required keys are errors reported as
 * "FILE:LINE: message". */

#include <stdbool.h>
#include <stdint.h>

#include "key.h"
#include "macro.h"

typedef enum ChallengeType {
        CHALLENGE_HTTP01,
        CHALLENGE_DNS01,
        CHALLENGE_TLSALPN01,
        _CHALLENGE_TYPE_MAX,
        _CHALLENGE_TYPE_INVALID = -EINVAL,
} ChallengeType;

const char *challenge_type_to_string(ChallengeType t); /* "http-01", … */
ChallengeType challenge_type_from_string(const char *s);

typedef struct CaConfig {
        char *name;
        char *directory;       /* URL, https:// unless allow_http */
        char **contact;        /* URLs (mailto:…), may be empty */
        bool accept_terms;
        char *trust;           /* CA bundle path or NULL */
        char *eab_kid;         /* both or neither */
        char *eab_hmac_key;    /* base64url, a secret: never printed */
        char *profile;         /* NULL = server default */
        bool allow_http;       /* testing only: permit http:// ACME URLs */
        char *file;            /* where it was defined */
        unsigned line;
} CaConfig;

typedef struct CertConfig {
        char *name;            /* [certificate NAME]: [A-Za-z0-9._-], not starting with '.' */
        char **domains;        /* DNS names and IP literals, lower-cased, no duplicates */
        char *ca;
        KeyType key_type;
        bool reuse_key;
        ChallengeType challenge;
        char *webroot;         /* absolute path or NULL (built-in responder) */
        char **dns_hook;       /* argv or NULL */
        char *dns_update_server;
        char *dns_update_key_file;
        unsigned dns_propagation_timeout; /* seconds */
        char *profile;
        char *preferred_chain;
        char **reload;         /* unit names */
        char **deploy_hook;    /* argv or NULL */
        char **on_failure;     /* argv or NULL */
        char *key_group;
        unsigned keep_versions;
        char *file;
        unsigned line;
} CertConfig;

typedef struct Config {
        /* [daemon] */
        char *state_dir;
        char *certs_dir;
        char *control_socket;
        unsigned max_parallel;
        char *control_group;
        char *http_listen;
        char *tls_alpn_listen;
        char *metrics_file;

        CaConfig *cas;
        size_t n_cas;
        CertConfig *certs;
        size_t n_certs;
} Config;

/* Load path and then every *.conf in certs_dir (in name order; a missing certs_dir is
 * fine). On error returns -EINVAL (or -ENOENT, -ENOMEM, …) and, when ret_error is not
 * NULL, every problem found as "FILE:LINE: message" lines joined by '\n'. */
int config_load(const char *path, Config **ret, char **ret_error);

/* Parse one file's text; used by config_load and by tests and fuzzers. The text is
 * treated as the main file named `filename`; drop-ins are not read. */
int config_parse_string(const char *filename, const char *text, size_t len, Config **ret, char **ret_error);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

const CaConfig *config_find_ca(const Config *c, const char *name);
const CertConfig *config_find_cert(const Config *c, const char *name);

/* The effective configuration as INI text (every key, defaults applied; secrets shown
 * as "(set)"). */
int config_dump(const Config *c, char **ret);
