/* SPDX-License-Identifier: MIT */
/* The import plan of one certbot lineage (see certbot-import.h): each part of renewd's
 * [certificate] worked out from its source in turn, then written as drop-in text. */

#include <stdarg.h>
#include <stdio.h>

#include "certbot-import.h"
#include "store.h"
#include "strv.h"
#include "x509.h"

#define RENEWALPARAMS "renewalparams"
#define WEBROOT_MAP "renewalparams/webroot_map"

typedef enum Authenticator {
        AUTH_WEBROOT,
        AUTH_STANDALONE,
        AUTH_WEB_SERVER,        /* nginx, apache: certbot answered inside the web server */
        AUTH_DNS,               /* manual, dns-*: dns-01 */
        _AUTH_INVALID = -EOPNOTSUPP,
} Authenticator;

/* The hooks certbot keeps in [renewalparams]; none is converted. */
static const char *const hook_keys[] = { "pre_hook", "post_hook", "renew_hook", "deploy_hook" };

/* Set *ret_error (when wanted) to the reason and return r; -ENOMEM if even that fails. */
_printf_(3, 4) static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int n;

        if (!ret_error)
                return r;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        *ret_error = s;
        return r;
}

/* Append a formatted sentence to a list. Returns 0 or -ENOMEM. */
_printf_(2, 3) static int add_sentence(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* Whether renewd's configuration can hold s as a value: it has no escapes, so no double
 * quote, and lines take no control characters. */
static bool value_is_writable(const char *s) {
        return !strchr(s, '"') && !has_control(s);
}

static Authenticator authenticator_from_string(const char *s) {
        /* Third-party plugins are named "distribution:plugin". */
        const char *plugin = strrchr(s, ':');

        plugin = plugin ? plugin + 1 : s;
        if (streq(plugin, "webroot"))
                return AUTH_WEBROOT;
        if (streq(plugin, "standalone"))
                return AUTH_STANDALONE;
        if (streq(plugin, "nginx") || streq(plugin, "apache"))
                return AUTH_WEB_SERVER;
        if (streq(plugin, "manual") || (startswith(plugin, "dns-") && plugin[4]))
                return AUTH_DNS;
        return _AUTH_INVALID;
}

/* The certificate's names, its CN first when it is one of them, normalised and without
 * duplicates. A name normalisation changes is noted: renewd compares the configured names
 * with the certificate's as they are. */
static int plan_domains(const CertbotImportInput *in, CertbotImportPlan *plan, char **ret_error) {
        _cleanup_strv_free_ char **sans = NULL, **domains = calloc(1, sizeof(char *));
        _cleanup_free_ char *cn = NULL;
        int r;

        if (!domains)
                return -ENOMEM;
        r = x509_sans(in->cert, &sans);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(ret_error, -EINVAL, "the certificate's subjectAltName cannot be read");
        if (r == 0)
                return fail(ret_error, -EINVAL, "the certificate names no DNS name or IP address");

        r = x509_subject_cn(in->cert, &cn);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && strv_contains(sans, cn)) {
                /* Move the CN to the front, keeping the order of the rest. */
                _cleanup_strv_free_ char **ordered = NULL;

                if (strv_extend(&ordered, cn) < 0)
                        return -ENOMEM;
                for (char **s = sans; *s; s++)
                        if (!streq(*s, cn) && strv_extend(&ordered, *s) < 0)
                                return -ENOMEM;
                strv_free(sans);
                sans = TAKE_PTR(ordered);
        }

        for (char **s = sans; *s; s++) {
                _cleanup_free_ char *n = NULL;

                r = config_identifier_normalize(*s, &n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !value_is_writable(*s))
                        return fail(ret_error, -EINVAL, "the certificate's name '%s' is not one renewd accepts",
                                    value_is_writable(*s) ? *s : "(with control characters)");
                if (!streq(n, *s) &&
                    add_sentence(&plan->notes, "the certificate's name %s is %s in renewd's configuration: renewd "
                                 "sees the names as changed and issues a new certificate", *s, n) < 0)
                        return -ENOMEM;
                if (!strv_contains(domains, n) && strv_consume(&domains, TAKE_PTR(n)) < 0)
                        return -ENOMEM;
        }
        plan->domains = TAKE_PTR(domains);
        return 0;
}

/* Compare directory URLs, ignoring a trailing slash. */
static bool directory_equal(const char *a, const char *b) {
        size_t m = strlen(a), n = strlen(b);

        if (m > 0 && a[m - 1] == '/')
                m--;
        if (n > 0 && b[n - 1] == '/')
                n--;
        return m == n && memcmp(a, b, m) == 0;
}

/* The [ca] whose directory is certbot's server. */
static int plan_ca(const CertbotImportInput *in, CertbotImportPlan *plan, char **ret_error) {
        const char *server = NULL;
        const CaConfig *found = NULL;
        int r;

        r = certbot_conf_get_string(in->conf, RENEWALPARAMS, "server", &server);
        if (r == -ENOENT)
                server = CERTBOT_DEFAULT_SERVER;
        else if (r < 0 || isempty(server) || !value_is_writable(server))
                return fail(ret_error, -EINVAL, "[renewalparams] server is not a URL");

        for (size_t i = 0; i < in->config->n_cas; i++) {
                if (!directory_equal(in->config->cas[i].directory, server))
                        continue;
                if (!found)
                        found = &in->config->cas[i];
                else if (add_sentence(&plan->notes, "[ca %s] has the same directory as [ca %s]; the certificate "
                                      "uses [ca %s]", in->config->cas[i].name, found->name, found->name) < 0)
                        return -ENOMEM;
        }
        if (!found)
                return fail(ret_error, -ENOENT,
                            "no [ca] in renewd's configuration has directory = %s: add a [ca NAME] section with it",
                            server);
        plan->ca = strdup(found->name);
        return plan->ca ? 0 : -ENOMEM;
}

/* The one webroot of all names: each name's [[webroot_map]] entry, else the last
 * webroot_path (certbot's rule for names without an entry). */
static int plan_webroot(const CertbotImportInput *in, CertbotImportPlan *plan, char **ret_error) {
        const CertbotEntry *paths = certbot_conf_find(in->conf, RENEWALPARAMS, "webroot_path");
        const char *fallback =
                paths && !strv_isempty(paths->values) ? paths->values[strv_length(paths->values) - 1] : NULL;
        _cleanup_free_ char *chosen = NULL;
        const char *chosen_for = NULL;

        for (char **d = plan->domains; *d; d++) {
                _cleanup_free_ char *w = NULL;
                const char *v = NULL;
                size_t n;
                int r;

                r = certbot_conf_get_string(in->conf, WEBROOT_MAP, *d, &v);
                if (r == -EINVAL)
                        return fail(ret_error, -EINVAL, "[[webroot_map]] gives %s more than one webroot", *d);
                if (r < 0)
                        v = fallback;
                if (isempty(v))
                        return fail(ret_error, -EINVAL, "no webroot for %s in [[webroot_map]] or webroot_path", *d);
                if (v[0] != '/' || !value_is_writable(v))
                        return fail(ret_error, -EINVAL, "the webroot of %s is not an absolute path", *d);

                w = strdup(v);
                if (!w)
                        return -ENOMEM;
                n = strlen(w);
                while (n > 1 && w[n - 1] == '/')
                        w[--n] = 0;

                if (!chosen) {
                        chosen = TAKE_PTR(w);
                        chosen_for = *d;
                } else if (!streq(chosen, w))
                        return fail(ret_error, -EINVAL,
                                    "the names use different webroots (%s: %s, %s: %s), and renewd uses one webroot "
                                    "per certificate: serve one directory for all names, or split the certificate",
                                    chosen_for, chosen, *d, w);
        }
        plan->webroot = TAKE_PTR(chosen);
        return 0;
}

/* The challenge, from the authenticator, with the notes on what changes. */
static int plan_challenge(const CertbotImportInput *in, CertbotImportPlan *plan, char **ret_error) {
        const char *auth = NULL, *s;
        Authenticator a;
        int r;

        r = certbot_conf_get_string(in->conf, RENEWALPARAMS, "authenticator", &auth);
        if (r < 0 || isempty(auth))
                return fail(ret_error, -EINVAL, "[renewalparams] has no authenticator");
        if (!value_is_writable(auth))
                return fail(ret_error, -EINVAL, "[renewalparams] authenticator is not a plugin name");

        a = authenticator_from_string(auth);
        switch (a) {
        case AUTH_WEBROOT:
                plan->challenge = CHALLENGE_HTTP01;
                return plan_webroot(in, plan, ret_error);
        case AUTH_STANDALONE:
                plan->challenge = CHALLENGE_HTTP01;
                return add_sentence(&plan->notes, "certbot's standalone server answered http-01; renewd's built-in "
                                    "responder (http_listen in [daemon]) takes its place");
        case AUTH_WEB_SERVER:
                plan->challenge = CHALLENGE_HTTP01;
                return add_sentence(&plan->notes, "certbot's %s plugin answered http-01 inside %s; renewd answers "
                                    "with its built-in responder (http_listen in [daemon]): let %s pass "
                                    "/.well-known/acme-challenge/ on to it, or set webroot", auth, auth, auth);
        case AUTH_DNS:
                if (!in->dns_hook)
                        return fail(ret_error, -EOPNOTSUPP,
                                    "authenticator %s means dns-01, and renewd needs a program to publish the "
                                    "TXT records: give --dns-hook PROGRAM", auth);
                /* A command line: quotes may group words, but it must stay one line. */
                s = in->dns_hook;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s == '"')
                        s++;
                if (*s != '/' || has_control(in->dns_hook))
                        return fail(ret_error, -EINVAL, "the dns hook must be the absolute path of a program, "
                                    "maybe with arguments, on one line");
                plan->challenge = CHALLENGE_DNS01;
                return add_sentence(&plan->notes, "certbot's %s authenticator is not used: the dns hook publishes "
                                    "the TXT records", auth);
        default:
                return fail(ret_error, -EOPNOTSUPP, "certbot's authenticator %s has no renewd equivalent", auth);
        }
}

/* reuse_key, preferred_chain, and warnings for what stays behind. */
static int plan_options(const CertbotImportInput *in, CertbotImportPlan *plan, char **ret_error) {
        const char *v = NULL;
        int r;

        r = certbot_conf_get_bool(in->conf, RENEWALPARAMS, "reuse_key");
        if (r == -EINVAL)
                return fail(ret_error, -EINVAL, "[renewalparams] reuse_key is neither True nor False");
        plan->reuse_key = r > 0;

        r = certbot_conf_get_string(in->conf, RENEWALPARAMS, "preferred_chain", &v);
        if (r == -EINVAL || (r >= 0 && !value_is_writable(v)))
                return fail(ret_error, -EINVAL, "[renewalparams] preferred_chain cannot be written to renewd's "
                            "configuration");
        if (r >= 0 && !isempty(v)) {
                plan->preferred_chain = strdup(v);
                if (!plan->preferred_chain)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(hook_keys); i++) {
                const CertbotEntry *e = certbot_conf_find(in->conf, RENEWALPARAMS, hook_keys[i]);

                if (!e || (strv_length(e->values) == 1 && (isempty(e->values[0]) || streq(e->values[0], "None"))))
                        continue;
                if (add_sentence(&plan->warnings, "certbot's %s is a shell command line and is not converted: set "
                                 "deploy_hook or reload in the drop-in", hook_keys[i]) < 0)
                        return -ENOMEM;
        }
        if (certbot_conf_get_string(in->conf, RENEWALPARAMS, "installer", &v) >= 0 && !isempty(v) &&
            !streq(v, "None") && value_is_writable(v) &&
            add_sentence(&plan->warnings, "certbot's %s installer put new certificates into %s; renewd does not: "
                         "point %s at renewd's live files and set reload in the drop-in", v, v, v) < 0)
                return -ENOMEM;
        if (certbot_conf_find(in->conf, "", "renew_before_expiry") &&
            add_sentence(&plan->notes, "renew_before_expiry is not converted: renewd renews when a third of the "
                         "lifetime is left, or in the CA's renewal window") < 0)
                return -ENOMEM;
        return 0;
}

/* A scalar line, quoted when it has blanks or '#' (value_is_writable() was checked). */
static void write_scalar(FILE *f, const char *key, const char *value) {
        if (strpbrk(value, " \t#"))
                fprintf(f, "%s = \"%s\"\n", key, value);
        else
                fprintf(f, "%s = %s\n", key, value);
}

/* The drop-in text of the plan. */
static int plan_write(const CertbotImportInput *in, CertbotImportPlan *plan) {
        _cleanup_free_ char *buf = NULL, *source = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;

        /* The source path goes into a comment line: no line breaks. */
        source = strdup(strempty(in->source));
        if (!source)
                return -ENOMEM;
        for (char *s = source; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# Imported from certbot's %s by renewctl import-certbot\n", source);
        for (char **w = plan->warnings; *w; w++)
                fprintf(f, "# Warning: %s.\n", *w);
        fprintf(f, "[certificate %s]\n", plan->name);
        fputs("domains =", f);
        for (char **d = plan->domains; *d; d++)
                fprintf(f, " %s", *d);
        fputc('\n', f);
        fprintf(f, "ca = %s\n", plan->ca);
        fprintf(f, "key_type = %s\n", key_type_to_string(plan->key_type));
        fprintf(f, "reuse_key = %s\n", plan->reuse_key ? "yes" : "no");
        fprintf(f, "challenge = %s\n", challenge_type_to_string(plan->challenge));
        if (plan->challenge == CHALLENGE_HTTP01) {
                if (plan->webroot)
                        write_scalar(f, "webroot", plan->webroot);
                else
                        /* Empty: not a webroot from [defaults] either. */
                        fputs("# http-01 by renewd's built-in responder\nwebroot =\n", f);
        } else {
                fprintf(f, "dns_hook = %s\n", in->dns_hook);
                fputs("dns_update_server =\ndns_update_key_file =\n", f);
        }
        if (plan->preferred_chain)
                write_scalar(f, "preferred_chain", plan->preferred_chain);

        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;
        plan->text = TAKE_PTR(buf);
        return 0;
}

int certbot_import_plan(const CertbotImportInput *in, CertbotImportPlan **ret, char **ret_error) {
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *plan = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        if (!in || !in->name || !in->conf || !in->cert || !in->key || !in->config || !ret)
                return -EINVAL;

        plan = calloc(1, sizeof *plan);
        if (!plan)
                return -ENOMEM;
        plan->name = strdup(in->name);
        plan->warnings = calloc(1, sizeof(char *));
        plan->notes = calloc(1, sizeof(char *));
        if (!plan->name || !plan->warnings || !plan->notes)
                return -ENOMEM;

        if (!store_name_is_valid(in->name))
                r = fail(&error, -EINVAL, "'%s' is not a valid renewd certificate name (1 to 64 of A-Z a-z 0-9 . _ -, "
                         "not starting with '.')", value_is_writable(in->name) ? in->name : "?");
        else if (key_get_type(in->key, &plan->key_type) < 0)
                r = fail(&error, -EINVAL, "the private key is of a type renewd does not use (ec-256, ec-384, "
                         "rsa-2048, rsa-3072, rsa-4096)");
        else if (x509_matches_key(in->cert, in->key) != 1)
                r = fail(&error, -EINVAL, "the private key does not belong to the certificate");
        else if (!certbot_conf_has_section(in->conf, RENEWALPARAMS))
                r = fail(&error, -EINVAL, "there is no [renewalparams] section");
        else {
                r = plan_domains(in, plan, &error);
                if (r >= 0)
                        r = plan_ca(in, plan, &error);
                if (r >= 0)
                        r = plan_challenge(in, plan, &error);
                if (r >= 0)
                        r = plan_options(in, plan, &error);
                if (r >= 0)
                        r = plan_write(in, plan);
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = r == -ENOMEM ? NULL : TAKE_PTR(error);
                return r;
        }

        *ret = TAKE_PTR(plan);
        if (ret_error)
                *ret_error = NULL;
        return 0;
}

CertbotImportPlan *certbot_import_plan_free(CertbotImportPlan *p) {
        if (!p)
                return NULL;
        free(p->name);
        strv_free(p->domains);
        free(p->ca);
        free(p->webroot);
        free(p->preferred_chain);
        strv_free(p->warnings);
        strv_free(p->notes);
        free(p->text);
        return mfree(p);
}
