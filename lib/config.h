/* SPDX-License-Identifier: MIT */
#pragma once

/* renewd.conf and certs.d/NAME.conf (DESIGN.md "Configuration"). Strict: unknown keys, bad
 * values, relative paths, duplicates and missing required keys are errors reported as
 * "FILE:LINE: message".
 *
 * Syntax: "[section]" headers, "key = value" lines, comments from '#' at the start of a
 * line or after whitespace to the end of the line, blank lines. A value may be written in
 * double quotes to keep leading/trailing blanks or a " #" as text. In lists and command
 * lines (domains, contact, reload, *_hook, on_failure) double quotes group words that
 * contain blanks. An empty value ("key =") sets the key back to its built-in default; in a
 * [certificate] it also stops the key being inherited from [defaults]. Lines are at most
 * CONFIG_LINE_MAX bytes, files at most CONFIG_FILE_SIZE_MAX. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "key.h"
#include "macro.h"

#define CONFIG_LINE_MAX 4096U
#define CONFIG_FILE_SIZE_MAX (1024U * 1024U)

typedef enum ChallengeType {
        CHALLENGE_HTTP01,
        CHALLENGE_DNS01,
        CHALLENGE_TLSALPN01,
        _CHALLENGE_TYPE_MAX,
        _CHALLENGE_TYPE_INVALID = -EINVAL,
} ChallengeType;

const char *challenge_type_to_string(ChallengeType t); /* "http-01", …; NULL if invalid */
ChallengeType challenge_type_from_string(const char *s); /* or -EINVAL */

typedef struct CaConfig {
        char *name;
        char *directory;       /* URL, https:// unless allow_http */
        char **contact;        /* URLs (mailto:…), never NULL, may be empty */
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
        char *ca;              /* always names one of Config.cas once loaded */
        KeyType key_type;
        bool reuse_key;
        ChallengeType challenge;
        char **challenge_override; /* "NAME=TYPE" for names of domains, never NULL */
        char *webroot;         /* absolute path or NULL (built-in responder) */
        char **dns_hook;       /* argv or NULL */
        char *dns_update_server; /* host, host:port, [v6]:port; with dns_update_key_file */
        char *dns_update_key_file;
        unsigned dns_propagation_timeout; /* seconds; 0 = do not wait */
        char **dns_resolver;   /* servers asked in the propagation check (host[:port]),
                                  never NULL; empty = the zone's authoritative servers */
        char *profile;         /* NULL = the CA's profile */
        char *preferred_chain;
        char **reload;         /* unit names, never NULL, may be empty */
        char **deploy_hook;    /* argv or NULL */
        char **on_failure;     /* argv or NULL */
        char **on_failure_days; /* days before expiry at which on_failure runs again, never NULL */
        unsigned hook_timeout; /* seconds a hook may run before its process group is killed */
        char *install_fullchain; /* extra copies, absolute paths or NULL */
        char *install_key;
        char *install_combined;
        char *install_owner;   /* user name or UID, or NULL */
        char *install_group;   /* group name or GID, or NULL */
        unsigned install_mode; /* of the fullchain copy; key copies never exceed 0640 */
        char *key_group;       /* group name or numeric GID, or NULL */
        unsigned keep_versions; /* versions kept, the live one included; 0 = keep all */
        char *file;
        unsigned line;
} CertConfig;

typedef struct Config {
        /* [daemon]; the char * fields are never NULL except control_group and
         * metrics_file, which are NULL when unset. */
        char *state_dir;
        char *certs_dir;
        char *control_socket;
        unsigned max_parallel;
        char *control_group;
        char *http_listen;     /* see config_parse_listen() */
        char *tls_alpn_listen;
        bool http_keep_open;   /* listen on http_listen all the time, not only while needed */
        char *metrics_file;

        CaConfig *cas;
        size_t n_cas;
        CertConfig *certs;     /* in the order read: main file, then drop-ins by name */
        size_t n_certs;
} Config;

/* Load path and then every *.conf in certs_dir (in name order; a missing certs_dir is
 * fine). On error returns -EINVAL (or -ENOENT, -ENOMEM, …) and, when ret_error is not
 * NULL, every problem found as "FILE:LINE: message" lines joined by '\n' (file-level
 * problems, such as a file that cannot be read, have no line: "FILE: message"). On
 * success *ret_error is set to NULL. */
int config_load(const char *path, Config **ret, char **ret_error);

/* As config_load(), but with drop-ins read from certs_dir instead of the configured
 * directory (NULL: the configured one); Config.certs_dir is then certs_dir. */
int config_load_full(const char *path, const char *certs_dir, Config **ret, char **ret_error);

/* Parse one file's text; used by config_load and by tests and fuzzers. The text is
 * treated as the main file named `filename`; drop-ins are not read. */
int config_parse_string(const char *filename, const char *text, size_t len, Config **ret, char **ret_error);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

const CaConfig *config_find_ca(const Config *c, const char *name);
const CertConfig *config_find_cert(const Config *c, const char *name);

/* The effective configuration as INI text (every key, defaults applied; secrets shown
 * as "(set)"). Parsing the text again gives the same configuration, the secret aside. */
int config_dump(const Config *c, char **ret);

/* The challenge type used for identifier (one of c->domains): its challenge_override, or
 * the certificate's challenge. */
ChallengeType config_cert_challenge_for(const CertConfig *c, const char *identifier);

/* Whether any of c's identifiers is validated with t. */
bool config_cert_uses_challenge(const CertConfig *c, ChallengeType t);

/* Check and normalise one certificate identifier as the "domains" key does: a DNS name
 * (lower-cased; labels of [a-z0-9-], optionally "*." in front) or an IPv4/IPv6 literal
 * (in canonical form). Returns 0 with a new string, -EINVAL, or -ENOMEM. */
int config_identifier_normalize(const char *s, char **ret);
/* True if s (normalised) is an IP address rather than a DNS name. */
bool config_identifier_is_ip(const char *s);

/* Split a DNS server as dns_update_server and dns_resolver take it: "host", "host:port",
 * "IPv4", "IPv4:port", "[IPv6]", "[IPv6]:port" or a bare IPv6 address. *ret_host gets
 * the host name (lower-cased) or the address without brackets, *ret_port the port (53
 * when none is given). Returns 0, -EINVAL or -ENOMEM. */
int config_parse_dns_server(const char *s, char **ret_host, uint16_t *ret_port);

/* Parse a listen address as http_listen and tls_alpn_listen take it: "[IPv6]:PORT" or
 * "IPv4:PORT". Returns 0 or -EINVAL. */
int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);

/* Whether s is a systemd unit name as the reload key takes it ("nginx.service",
 * "php8.2-fpm.service", "getty@tty1.service"). */
bool config_unit_name_is_valid(const char *s);
