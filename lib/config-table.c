/* SPDX-License-Identifier: MIT */
/* The key table: every key is one line of config_keys[], naming the sections it may stand
 * in, a parser, a printer, the offset of its field and its default. The parsers below
 * check a value, report what is wrong with it at the line being read and store it. */

#include <strings.h>
#include <sys/un.h>

#include "b64url.h"
#include "config-internal.h"
#include "store.h"
#include "strv.h"

#define DEFAULT_STATE_DIR "/var/lib/renewd"
#define DEFAULT_CERTS_DIR "/etc/renewd/certs.d"
#define DEFAULT_CONTROL_SOCKET "/run/renewd/control"

/* ---- scalars ---- */

static int parse_string(Parser *p, const ConfigKey *k, char *v, void *field) {
        char **s = field, *c = NULL;

        if (*v && !(c = strdup(v)))
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

static bool path_is_absolute(const char *s) {
        return s[0] == '/';
}

static bool listen_is_valid(const char *s) {
        struct sockaddr_storage sa;
        socklen_t len;

        return config_parse_listen(s, &sa, &len) >= 0;
}

/* Whether http:// is allowed depends on allow_http, checked when the section ends. */
static bool url_is_valid(const char *s) {
        bool https;

        return config_url_is_valid(s, &https);
}

/* A string key whose value, unless empty, must pass is_valid; fmt gets the key name and
 * the value. */
#define DEFINE_STRING_PARSER(func, is_valid, fmt)                                    \
        static int func(Parser *p, const ConfigKey *k, char *v, void *field) {      \
                if (*v && !is_valid(v))                                              \
                        return parser_error(p, fmt, k->name, v);                     \
                return parse_string(p, k, v, field);                                 \
        }

DEFINE_STRING_PARSER(parse_path, path_is_absolute, "%s: must be an absolute path, not \"%s\"");
DEFINE_STRING_PARSER(parse_token, config_token_is_valid, "%s: \"%s\" must be one word of at most 255 characters");
DEFINE_STRING_PARSER(parse_name, store_name_is_valid,
                     "%s: \"%s\" is not a valid name ([A-Za-z0-9._-], not starting with '.', at most 64)");
DEFINE_STRING_PARSER(parse_group, config_group_is_valid, "%s: \"%s\" is not a valid group name or GID");
DEFINE_STRING_PARSER(parse_listen, listen_is_valid,
                     "%s: \"%s\" is not an address and port like [::]:80 or 0.0.0.0:80");
DEFINE_STRING_PARSER(parse_url, url_is_valid, "%s: \"%s\" is not an https:// URL");
DEFINE_STRING_PARSER(parse_user, config_group_is_valid, "%s: \"%s\" is not a valid user name or UID");
DEFINE_STRING_PARSER(parse_dns_server, config_dns_server_is_valid,
                     "%s: \"%s\" is not a host name or IP address with an optional :port");

static int parse_socket_path(Parser *p, const ConfigKey *k, char *v, void *field) {
        if (strlen(v) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return parser_error(p, "%s: longer than a socket path may be (%zu bytes)", k->name,
                                    sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);
        return parse_path(p, k, v, field);
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

        r = config_parse_uint(v, k->min, k->max, &n);
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

static int parse_mode(Parser *p, const ConfigKey *k, char *v, void *field) {
        char *end = NULL;
        unsigned long m;

        errno = 0;
        m = strtoul(v, &end, 8);
        if (errno || !end || *end || end == v || v[0] == '-' || m > 0777)
                return parser_error(p, "%s: \"%s\" is not an octal file mode like 0644", k->name, v);
        *(unsigned *) field = (unsigned) m;
        return 0;
}

/* ---- lists ---- */

/* Split a list value; reports unterminated quotes. */
static int words(Parser *p, const ConfigKey *k, const char *v, char ***ret) {
        int r = config_split_words(v, ret);

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
                _cleanup_free_ char *n = NULL;
                const char *problem = NULL;

                r = config_identifier_parse(*i, &n, &problem);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        r = parser_error(p, "%s: \"%s\" is not a DNS name or IP address: %s", k->name, *i, problem);
                else if (strv_contains(out, n))
                        r = parser_error(p, "%s: \"%s\" is listed twice", k->name, n);
                else if (strv_consume(&out, TAKE_PTR(n)) < 0)
                        return -ENOMEM;
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = true; /* go on: report every bad name at once */
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
                bool ok = colon && colon > s && colon[1] && !strpbrk(s, " \t") && is_alpha(s[0]);

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

static bool day_count_is_valid(const char *s) {
        uint64_t n;
        return config_parse_uint(s, 1, 3650, &n) >= 0;
}

/* A list key each of whose words must pass is_valid; fmt gets the key name and the word. */
#define DEFINE_WORDS_PARSER(func, is_valid, fmt)                                     \
        static int func(Parser *p, const ConfigKey *k, char *v, void *field) {      \
                _cleanup_strv_free_ char **l = NULL;                                 \
                int r = words(p, k, v, &l);                                          \
                if (r < 0)                                                           \
                        return r;                                                    \
                for (char **i = l; *i; i++)                                          \
                        if (!is_valid(*i))                                           \
                                return parser_error(p, fmt, k->name, *i);            \
                strv_replace(field, TAKE_PTR(l));                                    \
                return 0;                                                            \
        }

DEFINE_WORDS_PARSER(parse_units, config_unit_name_is_valid, "%s: \"%s\" is not a unit name like nginx.service");
DEFINE_WORDS_PARSER(parse_dns_servers, config_dns_server_is_valid,
                    "%s: \"%s\" is not a host name or IP address with an optional :port");
DEFINE_WORDS_PARSER(parse_days, day_count_is_valid, "%s: \"%s\" is not a number of days in 1..3650");

/* challenge_override: NAME=TYPE words; that NAME is one of domains is checked later. */
static int parse_overrides(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL, **out = calloc(1, sizeof(char *));
        int r;

        if (!out)
                return -ENOMEM;
        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                _cleanup_free_ char *name = NULL, *n = NULL, *w = NULL;
                const char *eq = strrchr(*i, '='), *problem = NULL;

                if (!eq || eq == *i)
                        return parser_error(p, "%s: \"%s\" is not NAME=TYPE, as in *.example.com=dns-01", k->name, *i);
                if (challenge_type_from_string(eq + 1) < 0)
                        return parser_error(p, "%s: \"%s\" is not one of http-01, dns-01, tls-alpn-01", k->name, eq + 1);
                name = strndup(*i, (size_t) (eq - *i));
                if (!name)
                        return -ENOMEM;
                r = config_identifier_parse(name, &n, &problem);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return parser_error(p, "%s: \"%s\" is not a DNS name or IP address: %s", k->name, name, problem);
                if (asprintf(&w, "%s=%s", n, eq + 1) < 0)
                        return -ENOMEM;
                for (char **o = out; *o; o++)
                        if (strncmp(*o, w, strlen(n) + 1) == 0)
                                return parser_error(p, "%s: %s is listed twice", k->name, n);
                if (strv_consume(&out, TAKE_PTR(w)) < 0)
                        return -ENOMEM;
        }
        strv_replace(field, TAKE_PTR(out));
        return 0;
}

static int parse_argv(Parser *p, const ConfigKey *k, char *v, void *field) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = words(p, k, v, &l);
        if (r < 0)
                return r;
        if (!l[0]) /* empty: no command */
                l = strv_free(l);
        else if (l[0][0] != '/')
                return parser_error(p, "%s: the program must be an absolute path, not \"%s\"", k->name, l[0]);
        strv_replace(field, TAKE_PTR(l));
        return 0;
}

/* ---- the table ---- */

#define DAEMON_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_DAEMON, .name = #field_, .parse = parse_, .dump = config_dump_##dump_, \
          .offset = offsetof(Config, field_), .def = def_, __VA_ARGS__ }
#define CA_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_CA, .name = #field_, .parse = parse_, .dump = config_dump_##dump_, \
          .offset = offsetof(CaConfig, field_), .def = def_, __VA_ARGS__ }
#define CERT_KEY(field_, parse_, dump_, def_, ...) \
        { .sections = SEC_CERTLIKE, .name = #field_, .parse = parse_, .dump = config_dump_##dump_, \
          .offset = offsetof(CertConfig, field_), .def = def_, __VA_ARGS__ }

/* Adding a key: one line here, a field in config.h, a paragraph in conf/renewd.conf. */
const ConfigKey config_keys[] = {
        DAEMON_KEY(state_dir,               parse_path,        string,    DEFAULT_STATE_DIR),
        DAEMON_KEY(certs_dir,               parse_path,        string,    DEFAULT_CERTS_DIR),
        DAEMON_KEY(control_socket,          parse_socket_path, string,    DEFAULT_CONTROL_SOCKET),
        DAEMON_KEY(max_parallel,            parse_unsigned,    unsigned,  "4", .min = 1, .max = 64),
        DAEMON_KEY(control_group,           parse_group,       string,    NULL),
        DAEMON_KEY(http_listen,             parse_listen,      string,    "[::]:80"),
        DAEMON_KEY(tls_alpn_listen,         parse_listen,      string,    "[::]:443"),
        DAEMON_KEY(http_keep_open,          parse_bool,        bool,      "no"),
        DAEMON_KEY(metrics_file,            parse_path,        string,    NULL),

        CA_KEY(directory,                   parse_url,         string,    NULL, .flags = KEY_REQUIRED),
        CA_KEY(contact,                     parse_contact,     words,     "", .flags = KEY_WORDS),
        CA_KEY(accept_terms,                parse_bool,        bool,      "no"),
        CA_KEY(trust,                       parse_path,        string,    NULL),
        CA_KEY(eab_kid,                     parse_token,       string,    NULL),
        CA_KEY(eab_hmac_key,                parse_hmac_key,    secret,    NULL),
        CA_KEY(profile,                     parse_token,       string,    NULL),
        CA_KEY(allow_http,                  parse_bool,        bool,      "no"),

        CERT_KEY(domains,                   parse_domains,     words,     NULL, .flags = KEY_REQUIRED | KEY_WORDS),
        CERT_KEY(ca,                        parse_name,        string,    NULL),
        CERT_KEY(key_type,                  parse_key_type,    key_type,  "ec-256"),
        CERT_KEY(reuse_key,                 parse_bool,        bool,      "no"),
        CERT_KEY(challenge,                 parse_challenge,   challenge, "http-01"),
        CERT_KEY(challenge_override,        parse_overrides,   words,     "", .flags = KEY_WORDS),
        CERT_KEY(webroot,                   parse_path,        string,    NULL),
        CERT_KEY(dns_hook,                  parse_argv,        words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(dns_update_server,         parse_dns_server,  string,    NULL),
        CERT_KEY(dns_update_key_file,       parse_path,        string,    NULL),
        CERT_KEY(dns_propagation_timeout,   parse_unsigned,    unsigned,  "120", .max = 86400),
        CERT_KEY(dns_resolver,              parse_dns_servers, words,     "", .flags = KEY_WORDS),
        CERT_KEY(profile,                   parse_token,       string,    NULL),
        CERT_KEY(preferred_chain,           parse_string,      string,    NULL),
        CERT_KEY(reload,                    parse_units,       words,     "", .flags = KEY_WORDS),
        CERT_KEY(deploy_hook,               parse_argv,        words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(on_failure,                parse_argv,        words,     NULL, .flags = KEY_WORDS),
        CERT_KEY(on_failure_days,           parse_days,        words,     "14 7 3 1", .flags = KEY_WORDS),
        CERT_KEY(hook_timeout,              parse_unsigned,    unsigned,  "300", .min = 1, .max = 86400),
        CERT_KEY(install_fullchain,         parse_path,        string,    NULL),
        CERT_KEY(install_key,               parse_path,        string,    NULL),
        CERT_KEY(install_combined,          parse_path,        string,    NULL),
        CERT_KEY(install_owner,             parse_user,        string,    NULL),
        CERT_KEY(install_group,             parse_group,       string,    NULL),
        CERT_KEY(install_mode,              parse_mode,        mode,      "0644"),
        CERT_KEY(key_group,                 parse_group,       string,    NULL),
        CERT_KEY(keep_versions,             parse_unsigned,    unsigned,  "5", .max = 1000),
};

const size_t config_n_keys = ELEMENTSOF(config_keys);

_Static_assert(ELEMENTSOF(config_keys) <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX in config-internal.h");

size_t config_key_index(unsigned section, const char *name) {
        for (size_t i = 0; i < config_n_keys; i++)
                if ((config_keys[i].sections & section) && streq(config_keys[i].name, name))
                        return i;
        return SIZE_MAX;
}

/* Parse the default of key k (NULL: "") into the object at base. */
static int key_parse_default(Parser *p, const ConfigKey *k, void *base) {
        _cleanup_free_ char *v = strdup(k->def ?: "");

        if (!v)
                return -ENOMEM;
        return k->parse(p, k, v, (uint8_t *) base + k->offset);
}

/* Give every key of `section` in the object at base its default. Returns 0, -ENOMEM, or
 * -EIO if a built-in default does not parse. */
int config_section_init(Parser *p, unsigned section, void *base) {
        for (size_t i = 0; i < config_n_keys; i++) {
                const ConfigKey *k = &config_keys[i];
                int r;

                if (!(k->sections & section) || !k->def)
                        continue;
                r = key_parse_default(p, k, base);
                if (r < 0)
                        return r == -EINVAL ? -EIO : r; /* a broken default is a bug, not the user's */
        }
        return 0;
}

/* Parse value v of key i into base. Empty means the key's default. Returns 0, -EINVAL
 * (reported at the parser's line) or -ENOMEM. */
int parser_assign(Parser *p, size_t i, char *v, void *base) {
        const ConfigKey *k = &config_keys[i];

        if (!(k->flags & KEY_WORDS) && config_value_unquote(v, &v) < 0)
                return parser_error(p, "%s: text after the closing double quote", k->name);
        if (!*v) {
                if (k->flags & KEY_REQUIRED)
                        return parser_error(p, "%s: must not be empty", k->name);
                return key_parse_default(p, k, base);
        }
        return k->parse(p, k, v, (uint8_t *) base + k->offset);
}
