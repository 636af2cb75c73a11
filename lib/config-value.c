/* SPDX-License-Identifier: MIT */
/* What a valid value looks like, one kind at a time: numbers, challenge names, DNS names
 * and IP literals, listen addresses, DNS servers, unit names, groups, URLs and tokens.
 * Pure functions of a string; the key table turns their verdicts into messages. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include "config-internal.h"

/* Decimal digits only, no sign, no blanks; -ERANGE outside min..max. */
int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
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

static int parse_port(const char *s, uint16_t *ret) {
        uint64_t v;

        if (config_parse_uint(s, 1, 65535, &v) < 0)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

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

ChallengeType config_cert_challenge_for(const CertConfig *c, const char *identifier) {
        size_t n = strlen(identifier);

        for (char **o = c->challenge_override; o && *o; o++)
                if (strncmp(*o, identifier, n) == 0 && (*o)[n] == '=')
                        return challenge_type_from_string(*o + n + 1);
        return c->challenge;
}

bool config_cert_uses_challenge(const CertConfig *c, ChallengeType t) {
        for (char **d = c->domains; d && *d; d++)
                if (config_cert_challenge_for(c, *d) == t)
                        return true;
        return false;
}

/* ---- identifiers ---- */

/* Why s is not a valid DNS name (lower case expected), or NULL if it is one. */
static const char *dns_name_problem(const char *s, bool allow_wildcard) {
        const char *label = s;
        size_t len = strlen(s);
        bool all_digits = true;

        if (len == 0)
                return "empty name";
        if (len > 253)
                return "longer than 253 characters";
        if (allow_wildcard && startswith(s, "*."))
                label = s + 2;
        if (strchr(label, '*'))
                return "a wildcard must be the whole first label, as in *.example.com";
        if (s[len - 1] == '.')
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

/* config_identifier_normalize(), and on -EINVAL *ret_problem says why. */
int config_identifier_parse(const char *s, char **ret, const char **ret_problem) {
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
        return config_identifier_parse(s, ret, &problem);
}

/* ---- addresses ---- */

/* Split "[host]:port", "[host]", "host:port" or "host" (the port being what follows the
 * first ':') into host, copied into buf, and port (NULL if there is none). Returns 1 if
 * the host was in brackets, 0 if not, -EINVAL if the host is empty or does not fit or
 * something other than ":port" follows the ']'. */
static int host_port_split(const char *s, char *buf, size_t size, const char **ret_port) {
        const char *h = s, *port = NULL;
        bool bracketed = s[0] == '[';
        size_t hlen;

        if (bracketed) {
                const char *close = strchr(s, ']');
                if (!close || (close[1] && close[1] != ':'))
                        return -EINVAL;
                h = s + 1;
                hlen = (size_t) (close - h);
                if (close[1])
                        port = close + 2;
        } else {
                const char *colon = strchr(s, ':');
                hlen = colon ? (size_t) (colon - s) : strlen(s);
                if (colon)
                        port = colon + 1;
        }
        if (hlen == 0 || hlen >= size)
                return -EINVAL;
        memcpy(buf, h, hlen);
        buf[hlen] = 0;
        *ret_port = port;
        return bracketed;
}

int config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        union {
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        char host[INET6_ADDRSTRLEN];
        const char *port;
        socklen_t len;
        uint16_t p;
        int r;

        if (!s || !ret || !ret_len)
                return -EINVAL;
        r = host_port_split(s, host, sizeof host, &port);
        if (r < 0 || !port || parse_port(port, &p) < 0)
                return -EINVAL;

        if (r > 0) { /* "[IPv6]:PORT" */
                sa.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(p) };
                if (inet_pton(AF_INET6, host, &sa.in6.sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof sa.in6;
        } else {
                sa.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(p) };
                if (inet_pton(AF_INET, host, &sa.in.sin_addr) != 1)
                        return -EINVAL;
                len = sizeof sa.in;
        }
        memset(ret, 0, sizeof *ret);
        memcpy(ret, &sa, len);
        *ret_len = len;
        return 0;
}

/* Split a DNS server into host (into buf, host names lower-cased) and port (53 if none
 * is given). Returns 0 or -EINVAL. */
static int dns_server_split(const char *s, char host[static 256], uint16_t *ret_port) {
        const char *port;
        struct in6_addr a;
        uint16_t p = 53;
        int r;

        if (inet_pton(AF_INET6, s, &a) == 1) {
                if (strlen(s) >= 256)
                        return -EINVAL;
                strcpy(host, s);
                *ret_port = p;
                return 0;
        }
        r = host_port_split(s, host, 256, &port);
        if (r < 0 || (port && parse_port(port, &p) < 0))
                return -EINVAL;
        if (r > 0) {
                if (inet_pton(AF_INET6, host, &a) != 1)
                        return -EINVAL;
        } else {
                for (char *i = host; *i; i++)
                        *i = ascii_tolower(*i);
                if (inet_pton(AF_INET, host, &a) != 1 && dns_name_problem(host, false))
                        return -EINVAL;
        }
        *ret_port = p;
        return 0;
}

int config_parse_dns_server(const char *s, char **ret_host, uint16_t *ret_port) {
        char host[256];
        uint16_t port;
        char *h;

        if (!s || !ret_host || !ret_port)
                return -EINVAL;
        if (dns_server_split(s, host, &port) < 0)
                return -EINVAL;
        h = strdup(host);
        if (!h)
                return -ENOMEM;
        *ret_host = h;
        *ret_port = port;
        return 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
bool config_dns_server_is_valid(const char *s) {
        char host[256];
        uint16_t port;

        return dns_server_split(s, host, &port) >= 0;
}

/* ---- names, URLs and tokens ---- */

/* A systemd unit name that can be reloaded: name.type, optionally a template instance. */
bool config_unit_name_is_valid(const char *s) {
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
bool config_group_is_valid(const char *s) {
        uint64_t gid;
        size_t l = strlen(s);

        if (config_parse_uint(s, 0, 4294967294UL, &gid) == 0)
                return true;
        if (l == 0 || l > 32)
                return false;
        if (!is_alpha(s[0]) && s[0] != '_')
                return false;
        for (size_t i = 1; i < l; i++) {
                char c = ascii_tolower(s[i]);
                if (!is_lower_alnum(c) && c != '_' && c != '-' && c != '.' && !(c == '$' && i == l - 1))
                        return false;
        }
        return true;
}

/* "scheme://host…" with scheme http or https (case-insensitive) and no blanks. */
bool config_url_is_valid(const char *s, bool *ret_https) {
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
bool config_token_is_valid(const char *s) {
        size_t l = strlen(s);

        if (l == 0 || l > 255)
                return false;
        for (const char *i = s; *i; i++)
                if (is_blank(*i) || *i == '"')
                        return false;
        return true;
}
