/* SPDX-License-Identifier: MIT */
#include <openssl/x509v3.h>

#include "certbot-import.h"
#include "ssl-util.h"
#include "strv.h"
#include "test.h"

#define PEBBLE_URL "https://127.0.0.1:14000/dir"

/* renewd's configuration the plans are made against. [defaults] sets a webroot and an
 * RFC 2136 server, so the drop-ins must switch them off where they do not apply. */
static const char main_conf[] =
        "[daemon]\n"
        "state_dir = /var/lib/renewd-test\n"
        "\n"
        "[ca le]\n"
        "directory = " CERTBOT_DEFAULT_SERVER "\n"
        "\n"
        "[ca pebble]\n"
        "directory = " PEBBLE_URL "/\n"
        "\n"
        "[ca pebble2]\n"
        "directory = " PEBBLE_URL "\n"
        "\n"
        "[defaults]\n"
        "ca = le\n"
        "key_type = rsa-4096\n"
        "reuse_key = yes\n"
        "webroot = /srv/default\n"
        "dns_update_server = ns.example\n"
        "dns_update_key_file = /etc/renewd/tsig.key\n";

/* A self-signed certificate for key with subject CN cn (may be NULL) and the SANs in
 * OpenSSL's form ("DNS:a,IP:1.2.3.4"; NULL for none). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *sans) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        X509_NAME *name;

        if (!x || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 42) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), 0) || !X509_gmtime_adj(X509_getm_notAfter(x), 90 * 86400L) ||
            !X509_set_pubkey(x, key))
                return NULL;
        name = X509_get_subject_name(x);
        if (cn && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0))
                return NULL;
        if (!X509_set_issuer_name(x, name))
                return NULL;
        if (sans) {
                X509V3_CTX ctx;
                _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *e = NULL;

                X509V3_set_ctx_nodb(&ctx);
                X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
                e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, sans);
                if (!e || !X509_add_ext(x, e, -1))
                        return NULL;
        }
        if (X509_sign(x, key, EVP_sha256()) <= 0)
                return NULL;
        return TAKE_PTR(x);
}

typedef struct Fixture {
        Config *config;
        EVP_PKEY *key;
        X509 *cert;
        CertbotConf *conf;
} Fixture;

static void fixture_done(Fixture *f) {
        config_free(f->config);
        EVP_PKEY_free(f->key);
        X509_free(f->cert);
        certbot_conf_free(f->conf);
}

/* Set up renewd's configuration, a key of type kt, a certificate with cn and sans, and the
 * renewal configuration text conf. */
static bool fixture_setup(Fixture *f, KeyType kt, const char *cn, const char *sans, const char *conf) {
        char *error = NULL;

        if (config_parse_string("renewd.conf", main_conf, strlen(main_conf), &f->config, &error) < 0) {
                fprintf(stderr, "config: %s\n", strna(error));
                free(error);
                return false;
        }
        if (key_generate(kt, &f->key) < 0)
                return false;
        f->cert = make_cert(f->key, cn, sans);
        if (!f->cert)
                return false;
        if (certbot_conf_parse(conf, strlen(conf), &f->conf, &error) < 0) {
                fprintf(stderr, "certbot conf: %s\n", strna(error));
                free(error);
                return false;
        }
        return true;
}

static int plan_for(Fixture *f, const char *name, const char *dns_hook, CertbotImportPlan **ret, char **ret_error) {
        return certbot_import_plan(&(CertbotImportInput) {
                        .name = name,
                        .source = "/etc/letsencrypt/renewal/x.conf",
                        .conf = f->conf,
                        .cert = f->cert,
                        .key = f->key,
                        .config = f->config,
                        .dns_hook = dns_hook,
                }, ret, ret_error);
}

/* The plan's text is a valid drop-in: with renewd's main file after it, the configuration
 * parses, and returns the certificate as the plan has it. */
static const CertConfig *parse_dropin(const CertbotImportPlan *p, Config **ret) {
        _cleanup_free_ char *all = NULL, *error = NULL;

        if (asprintf(&all, "%s\n%s", p->text, main_conf) < 0)
                return NULL;
        if (config_parse_string("x.conf", all, strlen(all), ret, &error) < 0) {
                fprintf(stderr, "drop-in refused: %s\n%s", strna(error), p->text);
                return NULL;
        }
        return config_find_cert(*ret, p->name);
}

static bool has_sentence(char **l, const char *part) {
        for (char **s = l; s && *s; s++)
                if (strstr(*s, part))
                        return true;
        return false;
}

TEST(webroot_map) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        const CertConfig *cc;
        char *error = (char *) "untouched";

        REQUIRE(fixture_setup(&f, KEY_EC256, "www.a.test", "DNS:a.test,DNS:www.a.test",
                              "cert = /x\n[renewalparams]\nauthenticator = webroot\nserver = " PEBBLE_URL "\n"
                              "webroot_path = /var/www/other,\nreuse_key = True\n"
                              "preferred_chain = ISRG Root X1\nrenew_hook = systemctl reload nginx\n"
                              "[[webroot_map]]\na.test = /var/www/html\nwww.a.test = /var/www/html/\n"));
        REQUIRE(plan_for(&f, "a.test", NULL, &p, &error) == 0);
        CHECK(!error);

        CHECK_STR(p->name, "a.test");
        /* The CN first, then the other SANs in their order. */
        REQUIRE(strv_length(p->domains) == 2);
        CHECK_STR(p->domains[0], "www.a.test");
        CHECK_STR(p->domains[1], "a.test");
        /* "…/dir/" and "…/dir" both match; the first [ca] wins and the other is noted. */
        CHECK_STR(p->ca, "pebble");
        CHECK(has_sentence(p->notes, "[ca pebble2] has the same directory as [ca pebble]"));
        CHECK_INT(p->key_type, KEY_EC256);
        CHECK(p->reuse_key);
        CHECK_INT(p->challenge, CHALLENGE_HTTP01);
        CHECK_STR(p->webroot, "/var/www/html");
        CHECK_STR(p->preferred_chain, "ISRG Root X1");
        CHECK_INT(strv_length(p->warnings), 1);
        CHECK(has_sentence(p->warnings, "renew_hook"));

        CHECK_STR(p->text,
                  "# Imported from certbot's /etc/letsencrypt/renewal/x.conf by renewctl import-certbot\n"
                  "# Warning: certbot's renew_hook is a shell command line and is not converted: set deploy_hook "
                  "or reload in the drop-in.\n"
                  "[certificate a.test]\n"
                  "domains = www.a.test a.test\n"
                  "ca = pebble\n"
                  "key_type = ec-256\n"
                  "reuse_key = yes\n"
                  "challenge = http-01\n"
                  "webroot = /var/www/html\n"
                  "preferred_chain = \"ISRG Root X1\"\n");

        cc = parse_dropin(p, &c);
        REQUIRE(cc);
        CHECK_STR(cc->ca, "pebble");
        CHECK_INT(cc->key_type, KEY_EC256);
        CHECK(cc->reuse_key);
        CHECK_STR(cc->webroot, "/var/www/html");
        CHECK_STR(cc->preferred_chain, "ISRG Root X1");
        CHECK(strv_equal_unordered(cc->domains, p->domains));
}

TEST(webroot_path_fallback) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        /* No map entry for b.test: the last webroot_path, as certbot does. A path with a
         * blank is quoted in the drop-in. */
        REQUIRE(fixture_setup(&f, KEY_EC384, NULL, "DNS:a.test,DNS:b.test",
                              "[renewalparams]\nauthenticator = webroot\nserver = " PEBBLE_URL "/\n"
                              "webroot_path = /var/www/first, /var/www/my site\n"
                              "[[webroot_map]]\na.test = /var/www/my site\n"));
        REQUIRE(plan_for(&f, "two", NULL, &p, NULL) == 0);
        CHECK_STR(p->webroot, "/var/www/my site");
        CHECK_INT(p->key_type, KEY_EC384);
        CHECK(!p->reuse_key);
        CHECK(strstr(p->text, "webroot = \"/var/www/my site\"\n"));
        CHECK(strstr(p->text, "reuse_key = no\n"));
        REQUIRE(parse_dropin(p, &c));
        CHECK_STR(config_find_cert(c, "two")->webroot, "/var/www/my site");
}

TEST(different_webroots) {
        _cleanup_(fixture_done) Fixture f = {};
        CertbotImportPlan *p = NULL;
        _cleanup_free_ char *error = NULL;

        REQUIRE(fixture_setup(&f, KEY_EC256, "a.test", "DNS:a.test,DNS:b.test",
                              "[renewalparams]\nauthenticator = webroot\nserver = " PEBBLE_URL "\n"
                              "[[webroot_map]]\na.test = /var/www/a\nb.test = /var/www/b\n"));
        CHECK_INT(plan_for(&f, "ab", NULL, &p, &error), -EINVAL);
        CHECK(!p);
        CHECK(error && strstr(error, "different webroots (a.test: /var/www/a, b.test: /var/www/b)"));
}

TEST(webroot_missing_or_relative) {
        _cleanup_(fixture_done) Fixture f1 = {}, f2 = {};
        CertbotImportPlan *p = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL;

        REQUIRE(fixture_setup(&f1, KEY_EC256, NULL, "DNS:a.test,DNS:b.test",
                              "[renewalparams]\nauthenticator = webroot\nserver = " PEBBLE_URL "\n"
                              "[[webroot_map]]\na.test = /var/www/a\n"));
        CHECK_INT(plan_for(&f1, "x", NULL, &p, &e1), -EINVAL);
        CHECK(e1 && strstr(e1, "no webroot for b.test"));

        REQUIRE(fixture_setup(&f2, KEY_EC256, NULL, "DNS:a.test",
                              "[renewalparams]\nauthenticator = webroot\nserver = " PEBBLE_URL "\n"
                              "webroot_path = www,\n"));
        CHECK_INT(plan_for(&f2, "x", NULL, &p, &e2), -EINVAL);
        CHECK(e2 && strstr(e2, "not an absolute path"));
}

TEST(standalone_and_web_server_plugins) {
        static const char *const auths[] = { "standalone", "nginx", "apache" };

        for (size_t i = 0; i < ELEMENTSOF(auths); i++) {
                _cleanup_(fixture_done) Fixture f = {};
                _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *conf = NULL;
                const CertConfig *cc;

                /* No server: certbot's default, Let's Encrypt. */
                REQUIRE(asprintf(&conf, "[renewalparams]\nauthenticator = %s\ninstaller = None\n"
                                 "reuse_key = False\npre_hook = systemctl stop x\npost_hook = ''\n", auths[i]) > 0);
                REQUIRE(fixture_setup(&f, KEY_RSA2048, "c.test", "DNS:c.test,IP:192.0.2.1,IP:2001:DB8::1", conf));
                REQUIRE(plan_for(&f, "c", NULL, &p, NULL) == 0);
                CHECK_STR(p->ca, "le");
                CHECK_INT(p->key_type, KEY_RSA2048);
                CHECK_INT(p->challenge, CHALLENGE_HTTP01);
                CHECK(!p->webroot);
                REQUIRE(strv_length(p->domains) == 3);
                CHECK_STR(p->domains[1], "192.0.2.1");
                CHECK_STR(p->domains[2], "2001:db8::1");
                /* The built-in responder: [defaults]' webroot switched off. */
                CHECK(strstr(p->text, "\nwebroot =\n"));
                /* pre_hook warns; an empty post_hook and installer None do not. */
                CHECK_INT(strv_length(p->warnings), 1);
                CHECK(has_sentence(p->warnings, "pre_hook"));
                CHECK(has_sentence(p->notes, i == 0 ? "standalone server" : auths[i]));

                cc = parse_dropin(p, &c);
                REQUIRE(cc);
                CHECK(!cc->webroot);
                CHECK(!cc->reuse_key);
                CHECK_INT(cc->key_type, KEY_RSA2048);
        }
}

TEST(installer_warns) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;

        REQUIRE(fixture_setup(&f, KEY_EC256, NULL, "DNS:a.test",
                              "renew_before_expiry = 20 days\n[renewalparams]\nauthenticator = nginx\n"
                              "installer = nginx\nrenew_hook = a\ndeploy_hook = b\n"));
        REQUIRE(plan_for(&f, "n", NULL, &p, NULL) == 0);
        CHECK_INT(strv_length(p->warnings), 3);
        CHECK(has_sentence(p->warnings, "nginx installer"));
        CHECK(has_sentence(p->notes, "renew_before_expiry"));
}

TEST(dns_needs_hook) {
        static const char *const auths[] = { "manual", "dns-cloudflare", "certbot-dns-foo:dns-foo" };

        for (size_t i = 0; i < ELEMENTSOF(auths); i++) {
                _cleanup_(fixture_done) Fixture f = {};
                _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *conf = NULL, *error = NULL, *e2 = NULL;
                const CertConfig *cc;

                REQUIRE(asprintf(&conf, "[renewalparams]\nauthenticator = %s\nserver = " PEBBLE_URL "\n"
                                 "manual_auth_hook = /x\n", auths[i]) > 0);
                REQUIRE(fixture_setup(&f, KEY_EC256, "example.test", "DNS:*.example.test,DNS:example.test", conf));

                CHECK_INT(plan_for(&f, "wild", NULL, &p, &error), -EOPNOTSUPP);
                CHECK(error && strstr(error, "--dns-hook"));
                CHECK_INT(plan_for(&f, "wild", "hook.sh --add", &p, &e2), -EINVAL);
                CHECK(e2 && strstr(e2, "absolute path"));

                REQUIRE(plan_for(&f, "wild", "\"/usr/local/bin/dns hook\" --zone example.test", &p, NULL) == 0);
                CHECK_INT(p->challenge, CHALLENGE_DNS01);
                CHECK(!p->webroot);
                CHECK_STR(p->domains[0], "example.test");
                CHECK_STR(p->domains[1], "*.example.test");
                CHECK(strstr(p->text, "\ndns_hook = \"/usr/local/bin/dns hook\" --zone example.test\n"));

                /* dns_hook and the inherited RFC 2136 keys must not both apply. */
                cc = parse_dropin(p, &c);
                REQUIRE(cc);
                CHECK_INT(cc->challenge, CHALLENGE_DNS01);
                REQUIRE(strv_length(cc->dns_hook) == 3);
                CHECK_STR(cc->dns_hook[0], "/usr/local/bin/dns hook");
                CHECK(!cc->dns_update_server);
        }
}

TEST(refusals) {
        static const struct {
                const char *conf, *name, *error;
                int r;
        } cases[] = {
                { "[renewalparams]\nauthenticator = webroot\nserver = https://other.test/dir\n", "x",
                  "no [ca] in renewd's configuration has directory = https://other.test/dir", -ENOENT },
                { "[renewalparams]\nauthenticator = foo\nserver = " PEBBLE_URL "\n", "x",
                  "authenticator foo has no renewd equivalent", -EOPNOTSUPP },
                { "[renewalparams]\nauthenticator = dns-\n", "x", "authenticator dns- has no", -EOPNOTSUPP },
                { "[renewalparams]\nserver = " PEBBLE_URL "\n", "x", "has no authenticator", -EINVAL },
                { "[renewalparams]\nauthenticator = a, b\n", "x", "has no authenticator", -EINVAL },
                { "authenticator = standalone\n", "x", "no [renewalparams]", -EINVAL },
                { "[renewalparams]\nauthenticator = standalone\nreuse_key = yes\n", "x", "reuse_key", -EINVAL },
                { "[renewalparams]\nauthenticator = standalone\npreferred_chain = 'a \"b\"'\n", "x",
                  "preferred_chain", -EINVAL },
                { "[renewalparams]\nauthenticator = standalone\nserver = a, b\n", "x", "server is not a URL", -EINVAL },
                { "[renewalparams]\nauthenticator = standalone\n", ".hidden", "not a valid renewd certificate name",
                  -EINVAL },
                { "[renewalparams]\nauthenticator = standalone\n", "a/b", "not a valid renewd certificate name",
                  -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(fixture_done) Fixture f = {};
                _cleanup_free_ char *error = NULL;
                CertbotImportPlan *p = NULL;

                REQUIRE(fixture_setup(&f, KEY_EC256, NULL, "DNS:a.test", cases[i].conf));
                CHECK_INT(plan_for(&f, cases[i].name, NULL, &p, &error), cases[i].r);
                CHECK(!p);
                if (!error || !strstr(error, cases[i].error)) {
                        fprintf(stderr, "case %zu: error \"%s\", wanted \"%s\"\n", i, strna(error), cases[i].error);
                        test_failures++;
                }
        }
}

TEST(certificate_and_key_refusals) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *other = NULL, *p521 = NULL;
        _cleanup_(X509_freep) X509 *no_sans = NULL, *bad_name = NULL, *p521_cert = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
        CertbotImportPlan *p = NULL;
        X509 *saved;

        REQUIRE(fixture_setup(&f, KEY_EC256, "a.test", "DNS:a.test", "[renewalparams]\nauthenticator = standalone\n"));
        REQUIRE(key_generate(KEY_EC256, &other) == 0);

        /* A key that is not the certificate's. */
        CHECK_INT(certbot_import_plan(&(CertbotImportInput) { .name = "x", .conf = f.conf, .cert = f.cert,
                                                              .key = other, .config = f.config }, &p, &e1), -EINVAL);
        CHECK(e1 && strstr(e1, "does not belong to the certificate"));

        /* A CN without SANs gives no names. */
        no_sans = make_cert(f.key, "a.test", NULL);
        REQUIRE(no_sans);
        saved = f.cert;
        f.cert = no_sans;
        CHECK_INT(plan_for(&f, "x", NULL, &p, &e2), -EINVAL);
        CHECK(e2 && strstr(e2, "names no DNS name or IP address"));

        /* A name renewd's configuration does not take. */
        bad_name = make_cert(f.key, NULL, "DNS:a_b.test");
        REQUIRE(bad_name);
        f.cert = bad_name;
        CHECK_INT(plan_for(&f, "x", NULL, &p, &e3), -EINVAL);
        CHECK(e3 && strstr(e3, "'a_b.test' is not one renewd accepts"));
        f.cert = saved;

        /* A P-521 key: not a type renewd uses. */
        p521 = EVP_EC_gen("P-521");
        REQUIRE(p521);
        p521_cert = make_cert(p521, NULL, "DNS:a.test");
        REQUIRE(p521_cert);
        CHECK_INT(certbot_import_plan(&(CertbotImportInput) { .name = "x", .conf = f.conf, .cert = p521_cert,
                                                              .key = p521, .config = f.config }, &p, &e4), -EINVAL);
        CHECK(e4 && strstr(e4, "type renewd does not use"));

        /* Missing inputs. */
        CHECK_INT(certbot_import_plan(NULL, &p, NULL), -EINVAL);
        CHECK_INT(certbot_import_plan(&(CertbotImportInput) { .name = "x" }, &p, NULL), -EINVAL);
        CHECK(!p);
        CHECK(!certbot_import_plan_free(NULL));
}

TEST(names_normalised_and_deduplicated) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;

        /* A CN that is not among the SANs is not added (renewd would see the names as
         * changed); upper case is folded and noted. */
        REQUIRE(fixture_setup(&f, KEY_EC256, "cn.test", "DNS:B.test,DNS:a.test,DNS:b.test",
                              "[renewalparams]\nauthenticator = standalone\n"));
        REQUIRE(plan_for(&f, "n", NULL, &p, NULL) == 0);
        REQUIRE(strv_length(p->domains) == 2);
        CHECK_STR(p->domains[0], "b.test");
        CHECK_STR(p->domains[1], "a.test");
        CHECK(has_sentence(p->notes, "B.test is b.test"));
        CHECK(strstr(p->text, "\ndomains = b.test a.test\n"));
}

TEST(source_path_stays_one_line) {
        _cleanup_(fixture_done) Fixture f = {};
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *p = NULL;

        REQUIRE(fixture_setup(&f, KEY_EC256, NULL, "DNS:a.test", "[renewalparams]\nauthenticator = standalone\n"));
        REQUIRE(certbot_import_plan(&(CertbotImportInput) { .name = "x", .source = "/a\nb/renewal/x.conf",
                                                            .conf = f.conf, .cert = f.cert, .key = f.key,
                                                            .config = f.config }, &p, NULL) == 0);
        CHECK(startswith(p->text, "# Imported from certbot's /a?b/renewal/x.conf by renewctl import-certbot\n["));
}

TEST_MAIN(T(webroot_map), T(webroot_path_fallback), T(different_webroots), T(webroot_missing_or_relative),
          T(standalone_and_web_server_plugins), T(installer_warns), T(dns_needs_hook), T(refusals),
          T(certificate_and_key_refusals), T(names_normalised_and_deduplicated), T(source_path_stays_one_line))
