/* SPDX-License-Identifier: MIT */
/* renewd.conf and certs.d/NAME.conf: a strict INI reader driven by one table of keys.
 *
 * Every key is one line of config_keys[]: the sections it may stand in, a parser, a
 * printer, the offset of its field and its default. Reading happens in three steps:
 * each file is read line by line into a Parser (value errors are reported as they are
 * met, a [ca] is checked when its section closes); then, once every file is in, each
 * certificate inherits what it does not set from [defaults] and is checked as a whole.
 * All problems are collected, sorted by file and line, and handed back as one text. */

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "b64url.h"
#include "config.h"
#include "fileio.h"
#include "store.h"
#include "strv.h"

#define DEFAULT_STATE_DIR "/var/lib/renewd"
#define DEFAULT_CERTS_DIR "/etc/renewd/certs.d"
#define DEFAULT_CONTROL_SOCKET "/run/renewd/control"

/* Beyond this many problems the rest are only counted: nobody reads ten thousand. */
#define ERRORS_MAX 1000U

static const char *const challenge_types[_CHALLENGE_TYPE_MAX] = {
        [CHALLENGE_HTTP01] = "http-01",
        [CHALLENGE_DNS01] = "dns-01",
        [CHALLENGE_TLSALPN01] = "tls-alpn-01",
};

const char *challenge_type_to_string(ChallengeType t) {
        if (t < 0 || t >= _CHALLENGE_TYPE_MAX)
                return NULL;
        return challenge_types[t];
}

ChallengeType challenge_type_from_string(const char *s) {
        if (!s)
                return _CHALLENGE_TYPE_INVALID;
        for (ChallengeType t = 0; t < _CHALLENGE_TYPE_MAX; t++)
                if (streq(challenge_types[t], s))
                        return t;
        return _CHALLENGE_TYPE_INVALID;
}

/* ---- small text helpers ---- */

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char ascii_tolower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool endswith(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && streq(s + l - k, suffix);
}

/* Trim blanks at both ends, in place. */
static char *strip(char *s) {
        size_t n;

        while (is_blank(*s))
                s++;
        n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = 0;
        return s;
}

/* Cut a comment — '#' at the start of the value or after a blank, outside double
 * quotes — and the blanks around what is left, in place. -EINVAL on an unterminated
 * double quote. */
static int value_lex(char *s, char **ret) {
        bool quoted = false;

        for (char *i = s; *i; i++) {
                if (*i == '"')
                        quoted = !quoted;
                else if (*i == '#' && !quoted && (i == s || is_blank(i[-1]))) {
                        *i = 0;
                        break;
                }
        }
        if (quoted)
                return -EINVAL;
        *ret = strip(s);
        return 0;
}

/* A scalar value in double quotes is the exact text between them; there are no escapes,
 * so a quoted value cannot itself contain a quote. */
static int value_unquote(char *s, char **ret) {
        char *end;

        if (s[0] != '"') {
                *ret = s;
                return 0;
        }
        end = strchr(s + 1, '"');
        if (!end || end[1] != 0)
                return -EINVAL;
        *end = 0;
        *ret = s + 1;
        return 0;
}

/* Whether a scalar can be written bare and read back unchanged. */
static bool value_is_bare(const char *v) {
        _cleanup_free_ char *copy = strdup(v);
        char *lexed;

        if (!copy)
                return false; /* quoting is always safe for values that needed no quoting */
        if (value_lex(copy, &lexed) < 0)
                return false;
        return lexed[0] != '"' && streq(lexed, v);
}

/* Split on blanks; double quotes group (and are removed). An empty string gives an empty
 * list. -EINVAL on an unterminated quote. */
static int split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *w = NULL;
                bool quoted = false;
                size_t n = 0;

                while (is_blank(*s))
                        s++;
                if (!*s)
                        break;
                w = malloc(strlen(s) + 1);
                if (!w)
                        return -ENOMEM;
                for (; *s && (quoted || !is_blank(*s)); s++) {
                        if (*s == '"')
                                quoted = !quoted;
                        else
                                w[n++] = *s;
                }
                if (quoted)
                        return -EINVAL;
                w[n] = 0;
                if (strv_consume(&l, TAKE_PTR(w)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Decimal digits only, no sign, no blanks; -ERANGE outside min..max. */
static int parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s || strlen(s) > 10)
                return -EINVAL;
        for (const char *i = s; *i; i++) {
                if (*i < '0' || *i > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*i - '0');
        }
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* ---- identifiers, names and addresses ---- */

/* Why s is not a valid DNS name (lower case expected), or NULL if it is one. */
static const char *dns_name_problem(const char *s, bool allow_wildcard) {
        const char *label = s;
        bool all_digits = true;

        if (!*s)
                return "empty name";
        if (strlen(s) > 253)
                return "longer than 253 characters";
        if (allow_wildcard && startswith(s, "*."))
                label = s + 2;
        if (strchr(label, '*'))
                return "a wildcard must be the whole first label, as in *.example.com";
        if (endswith(s, "."))
                return "must not end with a dot";

        for (;;) {
                size_t n = 0;

                all_digits = true;
                for (; label[n] && label[n] != '.'; n++) {
                        char c = label[n];
                        if (!is_lower_alnum(c) && c != '-')
                                return (unsigned char) c >= 0x80 ? "non-ASCII characters (write IDNs in xn-- form)"
                                                                 : "characters other than a-z 0-9 - . in a label";
                        if (c < '0' || c > '9')
                                all_digits = false;
                }
                if (n == 0)
                        return "empty label";
                if (n > 63)
                        return "label longer than 63 characters";
                if (label[0] == '-' || label[n - 1] == '-')
                        return "label starting or ending with '-'";
                if (!label[n])
                        break;
                label += n + 1;
        }
        if (all_digits)
                return "not an IP address, and a DNS name cannot end in an all-numeric label";
        return NULL;
}

bool config_identifier_is_ip(const char *s) {
        struct in6_addr a;

        return s && (inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1);
}

/* Normalise; on -EINVAL *ret_problem says why. */
static int identifier_normalize(const char *s, char **ret, const char **ret_problem) {
        _cleanup_free_ char *l = strdup(s);
        struct in6_addr a6;
        struct in_addr a4;
        const char *problem;

        if (!l)
                return -ENOMEM;
        for (char *i = l; *i; i++)
                *i = ascii_tolower(*i);

        if (inet_pton(AF_INET6, l, &a6) == 1 || inet_pton(AF_INET, l, &a4) == 1) {
                char buf[INET6_ADDRSTRLEN];
                bool v6 = strchr(l, ':');

                if (!inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *) &a6 : (const void *) &a4, buf,
                               sizeof buf))
                        return -EINVAL;
                free(l);
                l = strdup(buf);
                if (!l)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }

        problem = dns_name_problem(l, true);
        if (problem) {
                *ret_problem = problem;
                return -EINVAL;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int config_identifier_normalize(const char *s, char **ret) {
        const char *problem;

        if (!s || !ret)
                return -EINVAL;
        return identifier_normalize(s, ret, &problem);
}

static int parse_port(const char *s, uint16_t *ret) {
        uint64_t v;

        if (parse_uint_range(s, 1, 65535, &v) < 0)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        char host[INET6_ADDRSTRLEN];
        const char *h, *port;
        size_t hlen;
        uint16_t p;

        if (!s || !ret || !ret_len)
                return -EINVAL;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                h = s + 1;
                hlen = (size_t) (close - h);
                port = close + 2;
        } else {
                const char *colon = strchr(s, ':');
                if (!colon || strchr(colon + 1, ':'))
                        return -EINVAL;
                h = s;
                hlen = (size_t) (colon - s);
                port = colon + 1;
        }
        if (hlen == 0 || hlen >= sizeof host || parse_port(port, &p) < 0)
                return -EINVAL;
        memcpy(host, h, hlen);
        host[hlen] = 0;

        if (s[0] == '[') {
                struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(p) };
                if (inet_pton(AF_INET6, host, &sa.sin6_addr) != 1)
                        return -EINVAL;
                memset(ret, 0, sizeof *ret);
                memcpy(ret, &sa, sizeof sa);
                *ret_len = sizeof sa;
        } else {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p) };
                if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                        return -EINVAL;
                memset(ret, 0, sizeof *ret);
                memcpy(ret, &sa, sizeof sa);
                *ret_len = sizeof sa;
        }
        return 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
static bool dns_server_is_valid(const char *s) {
        char host[256];
        const char *port = NULL;
        struct in6_addr a;
        size_t hlen;
        uint16_t p;

        if (inet_pton(AF_INET6, s, &a) == 1)
                return true;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || (close[1] && close[1] != ':'))
                        return false;
                hlen = (size_t) (close - s - 1);
                if (hlen == 0 || hlen >= sizeof host)
                        return false;
                memcpy(host, s + 1, hlen);
                host[hlen] = 0;
                if (close[1] == ':' && parse_port(close + 2, &p) < 0)
                        return false;
                return inet_pton(AF_INET6, host, &a) == 1;
        }
        const char *colon = strchr(s, ':');
        hlen = colon ? (size_t) (colon - s) : strlen(s);
        if (colon)
                port = colon + 1;
        if (hlen == 0 || hlen >= sizeof host)
                return false;
        memcpy(host, s, hlen);
        host[hlen] = 0;
        for (char *i = host; *i; i++)
                *i = ascii_tolower(*i);
        if (port && parse_port(port, &p) < 0)
                return false;
        return inet_pton(AF_INET, host, &a) == 1 || !dns_name_problem(host, false);
}

/* A systemd unit name that can be reloaded: name.type, optionally a template instance. */
static bool unit_name_is_valid(const char *s) {
        static const char *const suffixes[] = {
                ".service", ".socket", ".target", ".mount", ".automount", ".swap",
                ".path", ".timer", ".slice", ".scope", ".device",
        };
        const char *suffix = NULL, *at;
        size_t l = strlen(s);

        if (l == 0 || l > 255)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(s, suffixes[i]))
                        suffix = s + l - strlen(suffixes[i]);
        if (!suffix || suffix == s)
                return false;
        for (const char *i = s; i < suffix; i++)
                if (!is_lower_alnum(ascii_tolower(*i)) && !strchr(":-_.\\@", *i))
                        return false;
        /* "name@instance.type"; a bare template "name@.type" cannot be reloaded. */
        at = strchr(s, '@');
        if (at && (at == s || at + 1 == suffix || memchr(at + 1, '@', (size_t) (suffix - at - 1))))
                return false;
        return true;
}

/* A group name (letter or '_' first, then [A-Za-z0-9_.-], at most 32, an optional
 * trailing '$') or a numeric GID. */
static bool group_is_valid(const char *s) {
        uint64_t gid;
        size_t l = strlen(s);

        if (parse_uint_range(s, 0, 4294967294UL, &gid) == 0)
                return true;
        if (l == 0 || l > 32)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < l; i++) {
                char c = ascii_tolower(s[i]);
                if (!is_lower_alnum(c) && c != '_' && c != '-' && c != '.' && !(c == '$' && i == l - 1))
                        return false;
        }
        return true;
}

/* "scheme://host…" with scheme http or https (case-insensitive) and no blanks. */
static bool url_is_valid(const char *s, bool *ret_https) {
        const char *rest;

        if (strncasecmp(s, "https://", 8) == 0) {
                *ret_https = true;
                rest = s + 8;
        } else if (strncasecmp(s, "http://", 7) == 0) {
                *ret_https = false;
                rest = s + 7;
        } else
                return false;
        if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
                return false;
        for (const char *i = s; *i; i++)
                if (is_blank(*i))
                        return false;
        return true;
}

/* Text without blanks, at most 255 characters: ACME profile names, EAB key IDs. */
static bool token_is_valid(const char *s) {
        size_t l = strlen(s);

        if (l == 0 || l > 255)
                return false;
        for (const char *i = s; *i; i++)
                if (is_blank(*i) || *i == '"')
                        return false;
        return true;
}

/* ---- the key table ---- */

enum {
        SEC_DAEMON = 1 << 0,
        SEC_CA = 1 << 1,
        SEC_DEFAULTS = 1 << 2,
        SEC_CERT = 1 << 3,
        SEC_CERTLIKE = SEC_DEFAULTS | SEC_CERT,
        SEC_SKIP = 1 << 4, /* the body of a refused section: ignored */
};

enum {
        KEY_REQUIRED = 1 << 0, /* must be set, and not empty */
        KEY_WORDS = 1 << 1,    /* a list: the parser splits it, quotes and all */
};

typedef struct Parser Parser;
typedef struct ConfigKey ConfigKey;

/* Parse v (for scalars already unquoted; "" = unset) into *field, replacing what is
 * there. Returns 0, -EINVAL after reporting the problem, or -ENOMEM. */
typedef int (*ConfigParseFunc)(Parser *p, const ConfigKey *k, char *v, void *field);
/* Print the value of *field as parseable text. */
typedef void (*ConfigDumpFunc)(FILE *f, const ConfigKey *k, const void *field);

struct ConfigKey {
        unsigned sections;
        const char *name;
        ConfigParseFunc parse;
        ConfigDumpFunc dump;
        size_t offset;
        const char *def; /* parsed to initialise the field, and for "key ="; NULL: zero */
        unsigned flags;
        unsigned min, max; /* parse_unsigned */
};

static int parser_error(Parser *p, const char *fmt, ...) _printf_(2, 3);

static int parse_string(Parser *p, const ConfigKey *k, char *v, void *field) {
        char **s = field, *c = NULL;

        if (*v && !(c = strdup(v)))
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

static int parse_path(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (*v && v[0] != '/')
                return parser_error(p, "%s: must be an absolute path, not \"%s\"", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_socket_path(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (strlen(v) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return parser_error(p, "%s: longer than a socket path may be (%zu bytes)", k->name,
                                    sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);
        return parse_path(p, k, v, field);
}

static int parse_token(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (*v && !token_is_valid(v))
                return parser_error(p, "%s: \"%s\" must be one word of at most 255 characters", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_name(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (*v && !store_name_is_valid(v))
                return parser_error(p, "%s: \"%s\" is not a valid name ([A-Za-z0-9._-], not starting with '.', at most 64)",
                                    k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_group(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (*v && !group_is_valid(v))
                return parser_error(p, "%s: \"%s\" is not a valid group name or GID", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_listen(Parser *p, const ConfigKey *k, char *v, void *field) {
        struct sockaddr_storage sa;
        socklen_t len;

        if (*v && config_parse_listen(v, &sa, &len) < 0)
                return parser_error(p, "%s: \"%s\" is not an address and port like [::]:80 or 0.0.0.0:80", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_url(Parser *p, const ConfigKey *k, char *v, void *field) {
        bool https;

        /* Whether http:// is allowed depends on allow_http, checked when the section ends. */
        if (*v && !url_is_valid(v, &https))
                return parser_error(p, "%s: \"%s\" is not an https:// URL", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_dns_server(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (*v && !dns_server_is_valid(v))
                return parser_error(p, "%s: \"%s\" is not a host name or IP address with an optional :port", k->name, v);
        return parse_string(p, k, v, field);
}

static int parse_hmac_key(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_free_ uint8_t *raw = NULL;
        size_t len = 0;
        int r;

        if (*v) {
                r = b64url_decode(v, strlen(v), &raw, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || len == 0)
                        return parser_error(p, "%s: not a valid base64url key (RFC 4648 §5, without '=' padding)",
                                            k->name);
                explicit_bzero(raw, len);
        }
        return parse_string(p, k, v, field);
}

static int parse_unsigned(Parser *p, const ConfigKey *k, char *v, void *field) {
        uint64_t n;
        int r;

        r = parse_uint_range(v, k->min, k->max, &n);
        if (r < 0)
                return parser_error(p, "%s: \"%s\" is not a number in %u..%u", k->name, v, k->min, k->max);
        *(unsigned *) field = (unsigned) n;
        return 0;
}

static int parse_bool(Parser *p, const ConfigKey *k, char *v, void *field) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *(bool *) field = true;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *(bool *) field = false;
                        return 0;
                }
        }
        return parser_error(p, "%s: \"%s\" is not yes or no", k->name, v);
}

static int parse_key_type(Parser *p, const ConfigKey *k, char *v, void *field) {
        KeyType t = key_type_from_string(v);

        if (t < 0)
                return parser_error(p, "%s: \"%s\" is not one of ec-256, ec-384, rsa-2048, rsa-3072, rsa-4096",
                                    k->name, v);
        *(KeyType *) field = t;
        return 0;
}

static int parse_challenge(Parser *p, const ConfigKey *k, char *v, void *field) {
        ChallengeType t = challenge_type_from_string(v);

        if (t < 0)
                return parser_error(p, "%s: \"%s\" is not one of http-01, dns-01, tls-alpn-01", k->name, v);
        *(ChallengeType *) field = t;
        return 0;
}

/* Split a list value; reports unterminated quotes. */
static int words(Parser *p, const ConfigKey *k, const char *v, char ***ret) {
        int r = split_words(v, ret);

        if (r == -EINVAL)
                return parser_error(p, "%s: unterminated double quote", k->name);
        return r;
}

static void strv_replace(char ***field, char **l) {
        strv_free(*field);
        *field = l;
}

static int parse_domains(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL, **out = calloc(1, sizeof(char *));
        bool bad = false;
        int r;

        if (!out)
                return -ENOMEM;
        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                const char *problem = NULL;
                char *n = NULL;

                r = identifier_normalize(*i, &n, &problem);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = parser_error(p, "%s: \"%s\" is not a DNS name or IP address: %s", k->name, *i, problem);
                        if (r == -ENOMEM)
                                return r;
                        bad = true;
                        continue;
                }
                if (strv_contains(out, n)) {
                        r = parser_error(p, "%s: \"%s\" is listed twice", k->name, n);
                        free(n);
                        if (r == -ENOMEM)
                                return r;
                        bad = true;
                        continue;
                }
                if (strv_consume(&out, n) < 0)
                        return -ENOMEM;
        }
        if (bad)
                return -EINVAL;
        if (!out[0])
                return parser_error(p, "%s: must not be empty", k->name);
        strv_replace(field, TAKE_PTR(out));
        return 0;
}

static int parse_contact(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                const char *s = *i, *colon = strchr(s, ':');
                bool ok = colon && colon > s && colon[1] && !strpbrk(s, " \t") &&
                          ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));

                for (const char *c = s; ok && c < colon; c++)
                        ok = is_lower_alnum(ascii_tolower(*c)) || strchr("+.-", *c);
                if (!ok)
                        return parser_error(p, "%s: \"%s\" is not a URL (write mailto:%s)", k->name, s, s);
                if (strncasecmp(s, "mailto:", 7) == 0 && (!strchr(s + 7, '@') || strchr(s + 7, ',')))
                        return parser_error(p, "%s: \"%s\" is not one mailto:user@host address", k->name, s);
        }
        strv_replace(field, TAKE_PTR(l));
        return 0;
}

static int parse_units(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++)
                if (!unit_name_is_valid(*i))
                        return parser_error(p, "%s: \"%s\" is not a unit name like nginx.service", k->name, *i);
        strv_replace(field, TAKE_PTR(l));
        return 0;
}

static int parse_argv(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        if (!l[0]) { /* empty: no command */
                strv_free(l);
                l = NULL;
        } else if (l[0][0] != '/')
                return parser_error(p, "%s: the program must be an absolute path, not \"%s\"", k->name, l[0]);
        strv_replace(field, TAKE_PTR(l));
        return 0;
}

/* Printers. Scalars are quoted only when they could not be read back bare. */
static void dump_text(FILE *f, const char *s) {
        if (isempty(s))
                return;
        if (value_is_bare(s))
                fprintf(f, " %s", s);
        else
                fprintf(f, " \"%s\"", s);
}

static void dump_string(FILE *f, const ConfigKey *k, const void *field) {
        dump_text(f, *(char *const *) field);
}

static void dump_secret(FILE *f, const ConfigKey *k, const void *field) {
        if (*(char *const *) field)
                fputs(" (set)", f);
}

static void dump_words(FILE *f, const ConfigKey *k, const void *field) {
        char *const *l = *(char **const *) field;

        for (char *const *i = l; i && *i; i++) {
                bool quote = !**i || **i == '#' || strpbrk(*i, " \t");
                fprintf(f, quote ? " \"%s\"" : " %s", *i);
        }
}

static void dump_unsigned(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %u", *(const unsigned *) field);
}

static void dump_bool(FILE *f, const ConfigKey *k, const void *field) {
        fputs(*(const bool *) field ? " yes" : " no", f);
}

static void dump_key_type(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %s", strna(key_type_to_string(*(const KeyType *) field)));
}

static void dump_challenge(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %s", strna(challenge_type_to_string(*(const ChallengeType *) field)));
}

#define DAEMON_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_DAEMON, .name = #field_, .parse = parse_, .dump = dump_, .offset = offsetof(Config, field_), \
          .def = def_, __VA_ARGS__ }
#define CA_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_CA, .name = #field_, .parse = parse_, .dump = dump_, .offset = offsetof(CaConfig, field_), \
          .def = def_, __VA_ARGS__ }
#define CERT_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_CERTLIKE, .name = #field_, .parse = parse_, .dump = dump_, .offset = offsetof(CertConfig, field_), \
          .def = def_, __VA_ARGS__ }

/* Adding a key: one line here, a field in config.h, a paragraph in conf/renewd.conf. */
static const ConfigKey config_keys[] = {
        DAEMON_KEY(state_dir,               parse_path,        dump_string,    DEFAULT_STATE_DIR),
        DAEMON_KEY(certs_dir,               parse_path,        dump_string,    DEFAULT_CERTS_DIR),
        DAEMON_KEY(control_socket,          parse_socket_path, dump_string,    DEFAULT_CONTROL_SOCKET),
        DAEMON_KEY(max_parallel,            parse_unsigned,    dump_unsigned,  "4", .min = 1, .max = 64),
        DAEMON_KEY(control_group,           parse_group,       dump_string,    NULL),
        DAEMON_KEY(http_listen,             parse_listen,      dump_string,    "[::]:80"),
        DAEMON_KEY(tls_alpn_listen,         parse_listen,      dump_string,    "[::]:443"),
        DAEMON_KEY(metrics_file,            parse_path,        dump_string,    NULL),

        CA_KEY(directory,                   parse_url,         dump_string,    NULL, .flags = KEY_REQUIRED),
        CA_KEY(contact,                     parse_contact,     dump_words,     "", .flags = KEY_WORDS),
        CA_KEY(accept_terms,                parse_bool,        dump_bool,      "no"),
        CA_KEY(trust,                       parse_path,        dump_string,    NULL),
        CA_KEY(eab_kid,                     parse_token,       dump_string,    NULL),
        CA_KEY(eab_hmac_key,                parse_hmac_key,    dump_secret,    NULL),
        CA_KEY(profile,                     parse_token,       dump_string,    NULL),
        CA_KEY(allow_http,                  parse_bool,        dump_bool,      "no"),

        CERT_KEY(domains,                   parse_domains,     dump_words,     NULL, .flags = KEY_REQUIRED | KEY_WORDS),
        CERT_KEY(ca,                        parse_name,        dump_string,    NULL),
        CERT_KEY(key_type,                  parse_key_type,    dump_key_type,  "ec-256"),
        CERT_KEY(reuse_key,                 parse_bool,        dump_bool,      "no"),
        CERT_KEY(challenge,                 parse_challenge,   dump_challenge, "http-01"),
        CERT_KEY(webroot,                   parse_path,        dump_string,    NULL),
        CERT_KEY(dns_hook,                  parse_argv,        dump_words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(dns_update_server,         parse_dns_server,  dump_string,    NULL),
        CERT_KEY(dns_update_key_file,       parse_path,        dump_string,    NULL),
        CERT_KEY(dns_propagation_timeout,   parse_unsigned,    dump_unsigned,  "120", .max = 86400),
        CERT_KEY(profile,                   parse_token,       dump_string,    NULL),
        CERT_KEY(preferred_chain,           parse_string,      dump_string,    NULL),
        CERT_KEY(reload,                    parse_units,       dump_words,     "", .flags = KEY_WORDS),
        CERT_KEY(deploy_hook,               parse_argv,        dump_words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(on_failure,                parse_argv,        dump_words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(key_group,                 parse_group,       dump_string,    NULL),
        CERT_KEY(keep_versions,             parse_unsigned,    dump_unsigned,  "5", .max = 1000),
};

#define N_KEYS ELEMENTSOF(config_keys)

static size_t key_index(unsigned section, const char *name) {
        for (size_t i = 0; i < N_KEYS; i++)
                if ((config_keys[i].sections & section) && streq(config_keys[i].name, name))
                        return i;
        return SIZE_MAX;
}

/* ---- the parser ---- */

/* Where each key of one section was set (0: not set), and whether its value was refused. */
typedef struct KeyLines {
        unsigned line[N_KEYS];
        bool bad[N_KEYS];
} KeyLines;

typedef struct CertState {
        size_t file;
        KeyLines keys;
} CertState;

typedef struct ConfigError {
        size_t file;
        unsigned line;
        size_t seq;
        char *text;
} ConfigError;

struct Parser {
        Config *config;
        char **files;           /* every file read, for messages */
        size_t file;            /* the one being read */
        unsigned line;
        bool dropin;

        unsigned section;       /* SEC_*, or 0 before the first header */
        unsigned section_line;
        size_t section_index;   /* which CA or certificate */
        char section_label[96]; /* "[ca NAME]" */

        KeyLines daemon;
        unsigned daemon_line;
        KeyLines ca;            /* of the open [ca] */
        KeyLines defaults;
        unsigned defaults_line;
        CertConfig defaults_cert; /* [defaults] parsed, to check values */
        char *defaults_raw[N_KEYS]; /* and as written, to apply to certificates */
        CertState *certs;       /* parallel to config->certs */

        ConfigError *errors;
        size_t n_errors;
        size_t n_dropped;
        int io_error;           /* first error reading a file */
};

_printf_(4, 0) static int parser_error_atv(Parser *p, size_t file, unsigned line, const char *fmt, va_list ap) {
        ConfigError *n;
        char *text;

        if (p->n_errors >= ERRORS_MAX) {
                p->n_dropped++;
                return -EINVAL;
        }
        if (vasprintf(&text, fmt, ap) < 0)
                return -ENOMEM;
        n = realloc(p->errors, (p->n_errors + 1) * sizeof *n);
        if (!n) {
                free(text);
                return -ENOMEM;
        }
        p->errors = n;
        p->errors[p->n_errors] = (ConfigError) { file, line, p->n_errors, text };
        p->n_errors++;
        return -EINVAL;
}

/* Record a problem at file:line. Returns -EINVAL, so that "return parser_error_at(…)"
 * reports and fails in one go, or -ENOMEM. */
_printf_(4, 5) static int parser_error_at(Parser *p, size_t file, unsigned line, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, file, line, fmt, ap);
        va_end(ap);
        return r;
}

/* Record a problem at the line being read. */
static int parser_error(Parser *p, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, p->file, p->line, fmt, ap);
        va_end(ap);
        return r;
}

static void ca_config_done(CaConfig *c) {
        free(c->name);
        free(c->directory);
        strv_free(c->contact);
        free(c->trust);
        free(c->eab_kid);
        if (c->eab_hmac_key)
                explicit_bzero(c->eab_hmac_key, strlen(c->eab_hmac_key));
        free(c->eab_hmac_key);
        free(c->profile);
        free(c->file);
}

static void cert_config_done(CertConfig *c) {
        free(c->name);
        strv_free(c->domains);
        free(c->ca);
        free(c->webroot);
        strv_free(c->dns_hook);
        free(c->dns_update_server);
        free(c->dns_update_key_file);
        free(c->profile);
        free(c->preferred_chain);
        strv_free(c->reload);
        strv_free(c->deploy_hook);
        strv_free(c->on_failure);
        free(c->key_group);
        free(c->file);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->state_dir);
        free(c->certs_dir);
        free(c->control_socket);
        free(c->control_group);
        free(c->http_listen);
        free(c->tls_alpn_listen);
        free(c->metrics_file);
        for (size_t i = 0; i < c->n_cas; i++)
                ca_config_done(&c->cas[i]);
        free(c->cas);
        for (size_t i = 0; i < c->n_certs; i++)
                cert_config_done(&c->certs[i]);
        free(c->certs);
        free(c);
        return NULL;
}

static void parser_done(Parser *p) {
        config_free(p->config);
        strv_free(p->files);
        cert_config_done(&p->defaults_cert);
        for (size_t i = 0; i < N_KEYS; i++)
                free(p->defaults_raw[i]);
        free(p->certs);
        for (size_t i = 0; i < p->n_errors; i++)
                free(p->errors[i].text);
        free(p->errors);
}

/* Give every key of `section` in the object at base its default. */
static int section_init(Parser *p, unsigned section, void *base) {
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                _cleanup_free_ char *v = NULL;
                int r;

                if (!(k->sections & section) || !k->def)
                        continue;
                v = strdup(k->def);
                if (!v)
                        return -ENOMEM;
                r = k->parse(p, k, v, (uint8_t *) base + k->offset);
                if (r < 0)
                        return r == -EINVAL ? -EIO : r; /* a broken default is a bug, not the user's */
        }
        return 0;
}

static int parser_init(Parser *p) {
        p->config = calloc(1, sizeof(Config));
        if (!p->config)
                return -ENOMEM;
        p->files = calloc(1, sizeof(char *));
        if (!p->files)
                return -ENOMEM;
        int r = section_init(p, SEC_DAEMON, p->config);
        if (r < 0)
                return r;
        return section_init(p, SEC_CERT, &p->defaults_cert);
}

/* Checks of a [ca] that need all of its keys; run when the section ends. */
static int parser_close_ca(Parser *p) {
        const CaConfig *ca = &p->config->cas[p->section_index];
        size_t k_dir = key_index(SEC_CA, "directory"), k_kid = key_index(SEC_CA, "eab_kid"),
               k_hmac = key_index(SEC_CA, "eab_hmac_key");
        unsigned hdr = p->section_line;
        bool https;
        int r = 0;

        if (!p->ca.line[k_dir])
                r = parser_error_at(p, p->file, hdr, "directory: required in %s", p->section_label);
        else if (ca->directory && url_is_valid(ca->directory, &https) && !https && !ca->allow_http)
                r = parser_error_at(p, p->file, p->ca.line[k_dir],
                                    "directory: \"%s\" is not https:// (http:// only with allow_http = yes, for tests)",
                                    ca->directory);
        if (r == -ENOMEM)
                return r;

        if (!p->ca.bad[k_kid] && !p->ca.bad[k_hmac] && !ca->eab_kid != !ca->eab_hmac_key) {
                const char *set = ca->eab_kid ? "eab_kid" : "eab_hmac_key",
                           *unset = ca->eab_kid ? "eab_hmac_key" : "eab_kid";
                r = parser_error_at(p, p->file, p->ca.line[ca->eab_kid ? k_kid : k_hmac],
                                    "%s: set without %s (External Account Binding needs both)", set, unset);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int parser_close_section(Parser *p) {
        int r = 0;

        if (p->section == SEC_CA)
                r = parser_close_ca(p);
        p->section = 0;
        return r;
}

static int parser_open_unnamed(Parser *p, unsigned section, unsigned *seen_line, const char *label) {
        if (p->dropin)
                return parser_error(p, "%s: not allowed in a drop-in file, only [certificate NAME] sections are", label);
        if (*seen_line)
                return parser_error(p, "%s: duplicate section, first at line %u", label, *seen_line);
        *seen_line = p->line;
        p->section = section;
        return 0;
}

static int parser_open_ca(Parser *p, const char *name) {
        const CaConfig *old = config_find_ca(p->config, name);
        CaConfig *n;
        int r;

        if (p->dropin)
                return parser_error(p, "[ca %s]: not allowed in a drop-in file, only [certificate NAME] sections are", name);
        if (old)
                return parser_error(p, "[ca %s]: duplicate section, first at %s:%u", name, old->file, old->line);

        n = realloc(p->config->cas, (p->config->n_cas + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->config->cas = n;
        n = &p->config->cas[p->config->n_cas++];
        *n = (CaConfig) { .line = p->line };
        if (!(n->name = strdup(name)) || !(n->file = strdup(p->files[p->file])))
                return -ENOMEM;
        r = section_init(p, SEC_CA, n);
        if (r < 0)
                return r;

        p->ca = (KeyLines) {};
        p->section = SEC_CA;
        p->section_index = p->config->n_cas - 1;
        return 0;
}

static int parser_open_cert(Parser *p, const char *name) {
        const CertConfig *old = config_find_cert(p->config, name);
        CertConfig *n;
        CertState *s;
        size_t count = p->config->n_certs;
        int r;

        if (old)
                return parser_error(p, "[certificate %s]: duplicate section, first at %s:%u", name, old->file, old->line);

        s = realloc(p->certs, (count + 1) * sizeof *s);
        if (!s)
                return -ENOMEM;
        p->certs = s;
        p->certs[count] = (CertState) { .file = p->file };

        n = realloc(p->config->certs, (count + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->config->certs = n;
        n = &p->config->certs[p->config->n_certs++];
        *n = (CertConfig) { .line = p->line };
        if (!(n->name = strdup(name)) || !(n->file = strdup(p->files[p->file])))
                return -ENOMEM;
        r = section_init(p, SEC_CERT, n);
        if (r < 0)
                return r;

        p->section = SEC_CERT;
        p->section_index = count;
        return 0;
}

/* "[name]" or "[type NAME]" (s starts at '['). Whatever goes wrong, the section's body
 * is skipped so that one mistake in a header does not bring an error for every key. */
static int parser_section(Parser *p, char *s) {
        char *end = strchr(s, ']'), *rest, *type, *name;
        int r;

        r = parser_close_section(p);
        if (r < 0)
                return r;
        p->section = SEC_SKIP;
        p->section_line = p->line;

        if (!end)
                return parser_error(p, "section header without closing ']'");
        *end = 0;
        if (value_lex(end + 1, &rest) < 0 || *rest)
                return parser_error(p, "unexpected text after section header [%s]", s + 1);

        type = strip(s + 1);
        name = type + strcspn(type, " \t");
        if (*name) {
                *name++ = 0;
                name = strip(name);
        }

        if (streq(type, "daemon") || streq(type, "defaults")) {
                bool daemon = streq(type, "daemon");
                if (*name)
                        return parser_error(p, "[%s %s]: [%s] takes no name", type, name, type);
                snprintf(p->section_label, sizeof p->section_label, "[%s]", type);
                return parser_open_unnamed(p, daemon ? SEC_DAEMON : SEC_DEFAULTS,
                                           daemon ? &p->daemon_line : &p->defaults_line, p->section_label);
        }
        if (streq(type, "ca") || streq(type, "certificate")) {
                if (!*name)
                        return parser_error(p, "[%s]: needs a name, as in [%s NAME]", type, type);
                if (!store_name_is_valid(name))
                        return parser_error(p,
                                            "[%s %.64s]: invalid name ([A-Za-z0-9._-], not starting with '.', at most 64)",
                                            type, name);
                snprintf(p->section_label, sizeof p->section_label, "[%s %s]", type, name);
                return streq(type, "ca") ? parser_open_ca(p, name) : parser_open_cert(p, name);
        }
        return parser_error(p, "unknown section [%.64s%s%.64s] (known: daemon, ca NAME, defaults, certificate NAME)",
                            type, *name ? " " : "", name);
}

/* The key table of the open section, and the object its offsets apply to. */
static KeyLines *parser_current(Parser *p, void **ret_base) {
        switch (p->section) {
        case SEC_DAEMON:
                *ret_base = p->config;
                return &p->daemon;
        case SEC_CA:
                *ret_base = &p->config->cas[p->section_index];
                return &p->ca;
        case SEC_DEFAULTS:
                *ret_base = &p->defaults_cert;
                return &p->defaults;
        case SEC_CERT:
                *ret_base = &p->config->certs[p->section_index];
                return &p->certs[p->section_index].keys;
        default:
                return NULL;
        }
}

/* Parse value v of key i into base. Empty means the key's default. */
static int parser_assign(Parser *p, size_t i, char *v, void *base) {
        const ConfigKey *k = &config_keys[i];
        _cleanup_free_ char *def = NULL;

        if (!(k->flags & KEY_WORDS) && value_unquote(v, &v) < 0)
                return parser_error(p, "%s: text after the closing double quote", k->name);
        if (!*v) {
                if (k->flags & KEY_REQUIRED)
                        return parser_error(p, "%s: must not be empty", k->name);
                def = strdup(k->def ?: "");
                if (!def)
                        return -ENOMEM;
                v = def;
        }
        return k->parse(p, k, v, (uint8_t *) base + k->offset);
}

static bool key_name_is_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!is_lower_alnum(*s) && *s != '_')
                        return false;
        return true;
}

static int parser_line(Parser *p, char *line) {
        char *s = strip(line), *eq, *key, *value;
        _cleanup_free_ char *raw = NULL;
        KeyLines *keys;
        void *base;
        size_t i;
        int r;

        if (!*s || *s == '#')
                return 0;
        if (*s == '[')
                return parser_section(p, s);

        eq = strchr(s, '=');
        if (!eq)
                return parser_error(p, "expected \"key = value\" or \"[section]\", not \"%.64s\"", s);
        *eq = 0;
        key = strip(s);
        if (!key_name_is_valid(key))
                return parser_error(p, "\"%.64s\" is not a key name", key);
        if (p->section == 0)
                return parser_error(p, "%s: outside of a section (put it under [daemon], [ca NAME], [defaults] or [certificate NAME])",
                                    key);
        if (p->section == SEC_SKIP)
                return 0;

        i = key_index(p->section, key);
        if (i == SIZE_MAX)
                return parser_error(p, "%s: unknown key in %s", key, p->section_label);
        keys = parser_current(p, &base);
        if (keys->line[i])
                return parser_error(p, "%s: set twice in %s, first at line %u", key, p->section_label, keys->line[i]);
        keys->line[i] = p->line;

        if (value_lex(eq + 1, &value) < 0) {
                keys->bad[i] = true;
                return parser_error(p, "%s: unterminated double quote", key);
        }
        if (p->section == SEC_DEFAULTS && !(raw = strdup(value)))
                return -ENOMEM;

        r = parser_assign(p, i, value, base);
        if (r == -EINVAL)
                keys->bad[i] = true;
        if (r < 0)
                return r;
        if (raw)
                p->defaults_raw[i] = TAKE_PTR(raw);
        return 0;
}

static bool has_control_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return true;
        return false;
}

/* Read one file's text into the parser. Returns 0 (problems are recorded) or -ENOMEM. */
static int parser_feed(Parser *p, const char *filename, const char *text, size_t len, bool dropin) {
        char buf[CONFIG_LINE_MAX + 1];
        size_t pos = 0;
        int r;

        if (strv_extend(&p->files, filename) < 0)
                return -ENOMEM;
        p->file = strv_length(p->files) - 1;
        p->line = 0;
        p->dropin = dropin;
        p->section = 0;

        if (len > CONFIG_FILE_SIZE_MAX) {
                r = parser_error_at(p, p->file, 0, "larger than %u bytes", CONFIG_FILE_SIZE_MAX);
                return r == -ENOMEM ? r : 0;
        }
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
                pos = 3;

        while (pos < len) {
                const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - start) : len - pos;

                pos += n + 1;
                p->line++;
                if (n > 0 && start[n - 1] == '\r')
                        n--;
                if (n > CONFIG_LINE_MAX)
                        r = parser_error(p, "line longer than %u bytes", CONFIG_LINE_MAX);
                else if (has_control_chars(start, n))
                        r = parser_error(p, "line contains control characters or a NUL byte");
                else {
                        memcpy(buf, start, n);
                        buf[n] = 0;
                        r = parser_line(p, buf);
                        explicit_bzero(buf, n); /* eab_hmac_key */
                }
                if (r == -ENOMEM)
                        return r;
        }

        r = parser_close_section(p);
        return r == -ENOMEM ? r : 0;
}


/* Give certificate c what it does not set itself from [defaults]. */
static int cert_apply_defaults(Parser *p, size_t c) {
        CertState *s = &p->certs[c];

        for (size_t i = 0; i < N_KEYS; i++) {
                _cleanup_free_ char *v = NULL;
                int r;

                if (!(config_keys[i].sections & SEC_CERT) || s->keys.line[i] || !p->defaults.line[i])
                        continue;
                if (p->defaults.bad[i] || !p->defaults_raw[i]) {
                        s->keys.bad[i] = true; /* reported at [defaults] already */
                        continue;
                }
                v = strdup(p->defaults_raw[i]);
                if (!v)
                        return -ENOMEM;
                p->file = 0;
                p->line = p->defaults.line[i];
                r = parser_assign(p, i, v, &p->config->certs[c]);
                if (r == -EINVAL)
                        s->keys.bad[i] = true;
                else if (r < 0)
                        return r;
        }
        return 0;
}

#define KEY(name) key_index(SEC_CERT, name)

static int cert_error(Parser *p, size_t c, const char *key, const char *fmt, ...) _printf_(4, 5);

/* Report a problem of certificate c at the line that sets key in its section, or else at
 * its header: a value inherited from [defaults] may be right for other certificates. */
static int cert_error(Parser *p, size_t c, const char *key, const char *fmt, ...) {
        const CertState *s = &p->certs[c];
        unsigned line = s->keys.line[KEY(key)];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, s->file, line ?: p->config->certs[c].line, fmt, ap);
        va_end(ap);
        return r == -ENOMEM ? r : 0;
}

/* A key the chosen challenge does not use, set in the certificate's own section, is a
 * mistake; inherited from [defaults] it is not (it is meant for other certificates). */
static int cert_check_unused(Parser *p, size_t c, const char *key, bool set, bool used) {
        const CertConfig *cert = &p->config->certs[c];

        if (used || !set || !p->certs[c].keys.line[KEY(key)])
                return 0;
        return cert_error(p, c, key, "%s: not used with challenge = %s", key,
                          challenge_type_to_string(cert->challenge));
}

/* Checks of certificate c that need all of its keys, defaults applied. */
static int cert_check(Parser *p, size_t c) {
        CertConfig *cert = &p->config->certs[c];
        const CertState *s = &p->certs[c];
        const char *label_name = cert->name;
        bool dns = cert->challenge == CHALLENGE_DNS01, http = cert->challenge == CHALLENGE_HTTP01;
        int r;

        if (!s->keys.line[KEY("domains")] && !p->defaults.line[KEY("domains")]) {
                r = cert_error(p, c, "domains", "domains: required in [certificate %s]", label_name);
                if (r < 0)
                        return r;
        }

        if (!s->keys.bad[KEY("ca")]) {
                if (cert->ca && !config_find_ca(p->config, cert->ca))
                        /* inherited, it was reported at [defaults] */
                        r = s->keys.line[KEY("ca")] ? cert_error(p, c, "ca", "ca: there is no [ca %s]", cert->ca) : 0;
                else if (!cert->ca && p->config->n_cas == 1) {
                        cert->ca = strdup(p->config->cas[0].name);
                        r = cert->ca ? 0 : -ENOMEM;
                } else if (!cert->ca && p->config->n_cas == 0)
                        r = cert_error(p, c, "ca", "ca: [certificate %s] needs a CA, but there is no [ca NAME] section",
                                       label_name);
                else if (!cert->ca)
                        r = cert_error(p, c, "ca", "ca: [certificate %s] must name its CA, as there are several",
                                       label_name);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        /* The rest looks at several keys at once: if one of them is already wrong, the
         * reader has enough to fix, and we would only guess. */
        for (size_t i = 0; i < N_KEYS; i++)
                if (s->keys.bad[i])
                        return 0;

        for (char **d = cert->domains; d && *d; d++) {
                if (startswith(*d, "*.") && !dns)
                        r = cert_error(p, c, "domains", "domains: wildcard %s in [certificate %s] needs challenge = dns-01, not %s",
                                       *d, label_name, challenge_type_to_string(cert->challenge));
                else if (dns && config_identifier_is_ip(*d))
                        r = cert_error(p, c, "domains", "domains: IP address %s in [certificate %s] cannot be validated with dns-01",
                                       *d, label_name);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        if (dns) {
                bool hook = cert->dns_hook, server = cert->dns_update_server, keyfile = cert->dns_update_key_file;

                if (!hook && !server && !keyfile)
                        r = cert_error(p, c, "challenge",
                                       "challenge: dns-01 for [certificate %s] needs dns_hook, or dns_update_server and dns_update_key_file",
                                       label_name);
                else if (hook && (server || keyfile))
                        r = cert_error(p, c, "dns_hook",
                                       "dns_hook: [certificate %s] sets both dns_hook and dns_update_*; use one way",
                                       label_name);
                else if (server && !keyfile)
                        r = cert_error(p, c, "dns_update_server", "dns_update_server: needs dns_update_key_file too");
                else if (!server && keyfile)
                        r = cert_error(p, c, "dns_update_key_file", "dns_update_key_file: needs dns_update_server too");
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        r = cert_check_unused(p, c, "webroot", cert->webroot, http);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_hook", cert->dns_hook, dns);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_update_server", cert->dns_update_server, dns);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_update_key_file", cert->dns_update_key_file, dns);
        return r;
}

/* After all files: apply [defaults], check every certificate. */
static int parser_resolve(Parser *p) {
        size_t k_ca = KEY("ca");
        int r;

        /* A [defaults] ca that names no CA is reported once, there. */
        if (p->defaults.line[k_ca] && !p->defaults.bad[k_ca] && p->defaults_cert.ca &&
            !config_find_ca(p->config, p->defaults_cert.ca)) {
                r = parser_error_at(p, 0, p->defaults.line[k_ca], "ca: there is no [ca %s]", p->defaults_cert.ca);
                if (r == -ENOMEM)
                        return r;
        }

        for (size_t c = 0; c < p->config->n_certs; c++) {
                r = cert_apply_defaults(p, c);
                if (r < 0)
                        return r;
                r = cert_check(p, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int error_compare(const void *a, const void *b) {
        const ConfigError *x = a, *y = b;

        if (x->file != y->file)
                return x->file < y->file ? -1 : 1;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All problems, sorted by file and line, as one text. */
static int parser_error_text(Parser *p, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        qsort(p->errors, p->n_errors, sizeof *p->errors, error_compare);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_errors; i++) {
                const ConfigError *e = &p->errors[i];
                if (i > 0)
                        fputc('\n', f);
                if (e->line > 0)
                        fprintf(f, "%s:%u: %s", p->files[e->file], e->line, e->text);
                else
                        fprintf(f, "%s: %s", p->files[e->file], e->text);
        }
        if (p->n_dropped > 0)
                fprintf(f, "\n(and %zu more problems)", p->n_dropped);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Hand out the result: the config if there was no problem, else the error text. */
static int parser_finish(Parser *p, Config **ret, char **ret_error) {
        int r;

        r = parser_resolve(p);
        if (r < 0)
                return r;

        if (p->n_errors > 0 || p->n_dropped > 0 || p->io_error < 0) {
                if (ret_error) {
                        _cleanup_free_ char *text = NULL;
                        r = parser_error_text(p, &text);
                        if (r < 0)
                                return r;
                        *ret_error = TAKE_PTR(text);
                }
                return p->io_error < 0 ? p->io_error : -EINVAL;
        }

        *ret = TAKE_PTR(p->config);
        if (ret_error)
                *ret_error = NULL;
        return 0;
}

int config_parse_string(const char *filename, const char *text, size_t len, Config **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = {};
        int r;

        if (!filename || (!text && len > 0) || !ret)
                return -EINVAL;
        r = parser_init(&p);
        if (r < 0)
                return r;
        r = parser_feed(&p, filename, text ?: "", len, false);
        if (r < 0)
                return r;
        return parser_finish(&p, ret, ret_error);
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Record that a file or directory could not be read (r, a negative errno): a problem
 * like any other, and the errno config_load() returns. Returns 0 or -ENOMEM. */
static int parser_io_error(Parser *p, const char *display, int r, const char *what) {
        if (strv_extend(&p->files, display) < 0)
                return -ENOMEM;
        if (p->io_error == 0)
                p->io_error = r;
        if (r == -EFBIG)
                r = parser_error_at(p, strv_length(p->files) - 1, 0, "larger than %u bytes", CONFIG_FILE_SIZE_MAX);
        else
                r = parser_error_at(p, strv_length(p->files) - 1, 0, "cannot %s: %s", what, strerror(-r));
        return r == -ENOMEM ? r : 0;
}

/* Read and feed one file. Returns 0 (problems, reading included, are recorded) or
 * -ENOMEM. */
static int parser_feed_file(Parser *p, int dir_fd, const char *name, const char *display, bool dropin) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(dir_fd, name, CONFIG_FILE_SIZE_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parser_io_error(p, display, r, "read");
        r = parser_feed(p, display, text, len, dropin);
        explicit_bzero(text, len); /* eab_hmac_key */
        return r;
}

/* Every *.conf of dir, by name. A missing directory is no problem. */
static int parser_feed_dropins(Parser *p, const char *dir) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        struct dirent *de;
        int r;

        if (!names)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : parser_io_error(p, dir, negative_errno(), "open directory");

        for (;;) {
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno > 0)
                                return parser_io_error(p, dir, -errno, "read directory");
                        break;
                }
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                /* Regular files only, following symlinks; editors' leftovers like
                 * "x.conf~" do not end in .conf and are skipped above. */
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        qsort(names, strv_length(names), sizeof(char *), compare_strings);

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *display = NULL;
                if (asprintf(&display, "%s%s%s", dir, endswith(dir, "/") ? "" : "/", *n) < 0)
                        return -ENOMEM;
                r = parser_feed_file(p, dirfd(d), *n, display, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_load_full(const char *path, const char *certs_dir, Config **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = {};
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = parser_init(&p);
        if (r < 0)
                return r;

        r = parser_feed_file(&p, AT_FDCWD, path, path, false);
        if (r < 0)
                return r;
        if (p.io_error < 0) /* no main file: nothing more to say */
                return parser_finish(&p, ret, ret_error);

        if (certs_dir) {
                char *c = strdup(certs_dir);
                if (!c)
                        return -ENOMEM;
                free(p.config->certs_dir);
                p.config->certs_dir = c;
        }
        /* With a broken certs_dir setting, reading some other directory would only add
         * confusing problems. */
        if (certs_dir || !p.daemon.bad[key_index(SEC_DAEMON, "certs_dir")]) {
                r = parser_feed_dropins(&p, p.config->certs_dir);
                if (r < 0)
                        return r;
        }
        return parser_finish(&p, ret, ret_error);
}

int config_load(const char *path, Config **ret, char **ret_error) {
        return config_load_full(path, NULL, ret, ret_error);
}

const CaConfig *config_find_ca(const Config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_cas; i++)
                if (streq(c->cas[i].name, name))
                        return &c->cas[i];
        return NULL;
}

const CertConfig *config_find_cert(const Config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_certs; i++)
                if (streq(c->certs[i].name, name))
                        return &c->certs[i];
        return NULL;
}

/* Print every key of `section` of the object at base, in table order. */
static void dump_section(FILE *f, unsigned section, const void *base) {
        for (size_t i = 0; i < N_KEYS; i++) {
                const ConfigKey *k = &config_keys[i];
                if (!(k->sections & section))
                        continue;
                fprintf(f, "%s =", k->name);
                k->dump(f, k, (const uint8_t *) base + k->offset);
                fputc('\n', f);
        }
}

/* "# from FILE:LINE", with anything that would end the comment line made harmless. */
static void dump_origin(FILE *f, const char *file, unsigned line) {
        fputs("# from ", f);
        for (const char *s = file; s && *s; s++)
                fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, f);
        fprintf(f, ":%u\n", line);
}

int config_dump(const Config *c, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!c || !ret)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs("[daemon]\n", f);
        dump_section(f, SEC_DAEMON, c);
        for (size_t i = 0; i < c->n_cas; i++) {
                fputc('\n', f);
                dump_origin(f, c->cas[i].file, c->cas[i].line);
                fprintf(f, "[ca %s]\n", c->cas[i].name);
                dump_section(f, SEC_CA, &c->cas[i]);
        }
        for (size_t i = 0; i < c->n_certs; i++) {
                fputc('\n', f);
                dump_origin(f, c->certs[i].file, c->certs[i].line);
                fprintf(f, "[certificate %s]\n", c->certs[i].name);
                dump_section(f, SEC_CERT, &c->certs[i]);
        }

        if (ferror(f)) {
                fclose(f);
                return -ENOMEM;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
