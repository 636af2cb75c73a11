/* SPDX-License-Identifier: MIT */
/* Checks that need more than one key: a [ca] when its section closes, and every
 * certificate once all files are read and it has inherited from [defaults] what it does
 * not set itself. Values already refused by their parser are not looked at again. */

#include "config-internal.h"
#include "strv.h"

/* Checks of a [ca] that need all of its keys; run when the section ends. */
static int parser_close_ca(Parser *p) {
        const CaConfig *ca = &p->config->cas[p->section_index];
        size_t k_dir = config_key_index(SEC_CA, "directory"), k_kid = config_key_index(SEC_CA, "eab_kid"),
               k_hmac = config_key_index(SEC_CA, "eab_hmac_key");
        unsigned hdr = p->section_line;
        bool https;
        int r = 0;

        if (!p->ca.line[k_dir])
                r = parser_error_at(p, p->file, hdr, "directory: required in %s", p->section_label);
        else if (ca->directory && config_url_is_valid(ca->directory, &https) && !https && !ca->allow_http)
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

/* End the open section, checking it if it needs that. Returns 0, -EINVAL (reported) or
 * -ENOMEM. */
int parser_close_section(Parser *p) {
        int r = 0;

        if (p->section == SEC_CA)
                r = parser_close_ca(p);
        p->section = 0;
        return r;
}

/* Give certificate c what it does not set itself from [defaults]. */
static int cert_apply_defaults(Parser *p, size_t c) {
        CertState *s = &p->certs[c];

        for (size_t i = 0; i < config_n_keys; i++) {
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

static int cert_error(Parser *p, size_t c, const char *key, const char *fmt, ...) _printf_(4, 5);

/* Report a problem of certificate c at the line that sets key in its section, or else at
 * its header: a value inherited from [defaults] may be right for other certificates.
 * Returns 0 or -ENOMEM. */
static int cert_error(Parser *p, size_t c, const char *key, const char *fmt, ...) {
        const CertState *s = &p->certs[c];
        unsigned line = s->keys.line[CERT_KEY_INDEX(key)];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, s->file, line ?: p->config->certs[c].line, fmt, ap);
        va_end(ap);
        return r == -ENOMEM ? r : 0;
}

/* A key no challenge of the certificate uses, set in the certificate's own section, is a
 * mistake; inherited from [defaults] it is not (it is meant for other certificates). */
static int cert_check_unused(Parser *p, size_t c, const char *key, bool set, ChallengeType t) {
        const CertConfig *cert = &p->config->certs[c];

        if (config_cert_uses_challenge(cert, t) || !set || !p->certs[c].keys.line[CERT_KEY_INDEX(key)])
                return 0;
        if (strv_isempty(cert->challenge_override))
                return cert_error(p, c, key, "%s: not used with challenge = %s", key,
                                  challenge_type_to_string(cert->challenge));
        return cert_error(p, c, key, "%s: only used with %s, and no name of [certificate %s] uses it", key,
                          challenge_type_to_string(t), cert->name);
}

/* Which CA certificate c uses: the one it names, or the only one there is. */
static int cert_check_ca(Parser *p, size_t c) {
        CertConfig *cert = &p->config->certs[c];
        const CertState *s = &p->certs[c];

        if (cert->ca) {
                if (config_find_ca(p->config, cert->ca) || !s->keys.line[CERT_KEY_INDEX("ca")])
                        return 0; /* if inherited, it was reported at [defaults] */
                return cert_error(p, c, "ca", "ca: there is no [ca %s]", cert->ca);
        }
        if (p->config->n_cas == 1) {
                cert->ca = strdup(p->config->cas[0].name);
                return cert->ca ? 0 : -ENOMEM;
        }
        if (p->config->n_cas == 0)
                return cert_error(p, c, "ca", "ca: [certificate %s] needs a CA, but there is no [ca NAME] section",
                                  cert->name);
        return cert_error(p, c, "ca", "ca: [certificate %s] must name its CA, as there are several", cert->name);
}

/* Each name against the challenge that validates it, and the dns-01 settings against each
 * other. */
static int cert_check_challenge(Parser *p, size_t c) {
        const CertConfig *cert = &p->config->certs[c];
        bool dns = config_cert_uses_challenge(cert, CHALLENGE_DNS01);
        bool hook = cert->dns_hook, server = cert->dns_update_server, keyfile = cert->dns_update_key_file;
        int r = 0;

        for (char **o = cert->challenge_override; *o && r >= 0; o++) {
                _cleanup_free_ char *name = strndup(*o, strrchr(*o, '=') - *o);
                if (!name)
                        return -ENOMEM;
                if (!strv_contains(cert->domains, name))
                        r = cert_error(p, c, "challenge_override",
                                       "challenge_override: %s is not one of the domains of [certificate %s]", name,
                                       cert->name);
        }
        for (char **d = cert->domains; d && *d && r >= 0; d++) {
                ChallengeType t = config_cert_challenge_for(cert, *d);
                /* Blame the override if the name has one, else the name. */
                bool own = t != cert->challenge;
                const char *key = own ? "challenge_override" : "domains";

                if (startswith(*d, "*.") && t != CHALLENGE_DNS01)
                        r = cert_error(p, c, key, "%s: wildcard %s in [certificate %s] needs %sdns-01, not %s", key, *d,
                                       cert->name, own ? "" : "challenge = ", challenge_type_to_string(t));
                else if (t == CHALLENGE_DNS01 && config_identifier_is_ip(*d))
                        r = cert_error(p, c, key, "%s: IP address %s in [certificate %s] cannot be validated with dns-01",
                                       key, *d, cert->name);
        }
        if (r < 0)
                return r;

        if (!dns)
                return 0;
        if (!hook && !server && !keyfile)
                return cert_error(p, c, "challenge",
                                  "challenge: dns-01 for [certificate %s] needs dns_hook, or dns_update_server and dns_update_key_file",
                                  cert->name);
        if (hook && (server || keyfile))
                return cert_error(p, c, "dns_hook",
                                  "dns_hook: [certificate %s] sets both dns_hook and dns_update_*; use one way", cert->name);
        if (server && !keyfile)
                return cert_error(p, c, "dns_update_server", "dns_update_server: needs dns_update_key_file too");
        if (!server && keyfile)
                return cert_error(p, c, "dns_update_key_file", "dns_update_key_file: needs dns_update_server too");
        return 0;
}

/* Checks of certificate c that need all of its keys, defaults applied. Returns 0
 * (problems are recorded) or -ENOMEM. */
static int cert_check(Parser *p, size_t c) {
        const CertConfig *cert = &p->config->certs[c];
        const CertState *s = &p->certs[c];
        int r;

        if (!s->keys.line[CERT_KEY_INDEX("domains")] && !p->defaults.line[CERT_KEY_INDEX("domains")]) {
                r = cert_error(p, c, "domains", "domains: required in [certificate %s]", cert->name);
                if (r < 0)
                        return r;
        }

        if (!s->keys.bad[CERT_KEY_INDEX("ca")]) {
                r = cert_check_ca(p, c);
                if (r < 0)
                        return r;
        }

        /* The rest looks at several keys at once: if one of them is already wrong, the
         * reader has enough to fix, and we would only guess. */
        for (size_t i = 0; i < config_n_keys; i++)
                if (s->keys.bad[i])
                        return 0;

        r = cert_check_challenge(p, c);
        if (r >= 0)
                r = cert_check_unused(p, c, "webroot", cert->webroot, CHALLENGE_HTTP01);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_hook", cert->dns_hook, CHALLENGE_DNS01);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_update_server", cert->dns_update_server, CHALLENGE_DNS01);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_update_key_file", cert->dns_update_key_file, CHALLENGE_DNS01);
        if (r >= 0)
                r = cert_check_unused(p, c, "dns_resolver", !strv_isempty(cert->dns_resolver), CHALLENGE_DNS01);
        return r;
}

/* After all files: apply [defaults], check every certificate. Returns 0 (problems are
 * recorded) or -ENOMEM. */
int parser_resolve(Parser *p) {
        size_t k_ca = CERT_KEY_INDEX("ca");
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
