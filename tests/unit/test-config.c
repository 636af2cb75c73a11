/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>
#include <netinet/in.h>

#include "config.h"
#include "strv.h"
#include "test.h"

/* ---- helpers ---- */

static Config *parse_ok(const char *text) {
        _cleanup_free_ char *err = NULL;
        Config *c = NULL;
        int r;

        r = config_parse_string("test.conf", text, strlen(text), &c, &err);
        if (r < 0) {
                fprintf(stderr, "unexpected failure (%d):\n%s\n", r, strna(err));
                return NULL;
        }
        CHECK(err == NULL);
        return c;
}

/* Parse text that must be refused; returns the problem text. */
static char *parse_fail(const char *text) {
        char *err = NULL;
        Config *c = NULL;
        int r;

        r = config_parse_string("test.conf", text, strlen(text), &c, &err);
        CHECK_INT(r, -EINVAL);
        CHECK(c == NULL);
        if (r >= 0)
                config_free(c);
        CHECK(err != NULL);
        return err;
}

/* Whether one line of errors starts with prefix ("test.conf:3: ") and contains needle. */
static bool has_error(const char *errors, const char *prefix, const char *needle) {
        const char *line = errors;

        while (line && *line) {
                const char *end = strchrnul(line, '\n');
                size_t n = (size_t) (end - line), k = strlen(prefix);
                if (n >= k && strncmp(line, prefix, k) == 0 && memmem(line, n, needle, strlen(needle)))
                        return true;
                line = *end ? end + 1 : NULL;
        }
        return false;
}

static size_t count_lines(const char *s) {
        size_t n = *s ? 1 : 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* The text must be refused with exactly one problem, at prefix and naming needle. */
static void check_one_error(const char *text, const char *prefix, const char *needle, int line) {
        _cleanup_free_ char *err = parse_fail(text);

        if (!err)
                return;
        if (!has_error(err, prefix, needle) || count_lines(err) != 1) {
                fprintf(stderr, "test-config.c:%d: expected one error \"%s…%s…\", got:\n%s\n", line, prefix, needle,
                        err);
                test_failures++;
        }
}
#define CHECK_ONE_ERROR(text, prefix, needle) check_one_error(text, prefix, needle, __LINE__)

static char *data_path(const char *rel) {
        const char *base = getenv("RENEWD_TEST_DATA");
        char *p = NULL;

        if (asprintf(&p, "%s/%s", base ?: "tests/data", rel) < 0)
                return NULL;
        return p;
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

/* Dump without comment lines (they name files and lines, which differ on re-parsing). */
static char *dump_without_comments(const Config *c) {
        _cleanup_free_ char *d = NULL;
        char *out, *o;

        if (config_dump(c, &d) < 0)
                return NULL;
        out = o = malloc(strlen(d) + 1);
        if (!out)
                return NULL;
        for (const char *line = d; *line;) {
                const char *end = strchrnul(line, '\n');
                if (*line != '#') {
                        memcpy(o, line, (size_t) (end - line));
                        o += end - line;
                        *o++ = '\n';
                }
                line = *end ? end + 1 : end;
        }
        *o = 0;
        return out;
}

/* ---- valid configurations ---- */

TEST(empty) {
        _cleanup_(config_freep) Config *c = parse_ok("");

        REQUIRE(c);
        CHECK_STR(c->state_dir, "/var/lib/renewd");
        CHECK_STR(c->certs_dir, "/etc/renewd/certs.d");
        CHECK_STR(c->control_socket, "/run/renewd/control");
        CHECK_INT(c->max_parallel, 4);
        CHECK(c->control_group == NULL);
        CHECK_STR(c->http_listen, "[::]:80");
        CHECK_STR(c->tls_alpn_listen, "[::]:443");
        CHECK(c->metrics_file == NULL);
        CHECK_INT(c->n_cas, 0);
        CHECK_INT(c->n_certs, 0);
}

TEST(builtin_defaults) {
        _cleanup_(config_freep) Config *c = parse_ok("[ca le]\ndirectory = https://acme.example/dir\n"
                                                     "[certificate a]\ndomains = a.example\n");
        const CertConfig *a;
        const CaConfig *ca;

        REQUIRE(c);
        REQUIRE((ca = config_find_ca(c, "le")));
        CHECK(ca->contact && !ca->contact[0]);
        CHECK(!ca->accept_terms);
        CHECK(!ca->allow_http);
        CHECK(!ca->trust && !ca->eab_kid && !ca->eab_hmac_key && !ca->profile);
        CHECK_STR(ca->file, "test.conf");
        CHECK_INT(ca->line, 1);

        REQUIRE((a = config_find_cert(c, "a")));
        CHECK_STR(a->ca, "le"); /* the only CA */
        CHECK_INT(a->key_type, KEY_EC256);
        CHECK(!a->reuse_key);
        CHECK_INT(a->challenge, CHALLENGE_HTTP01);
        CHECK(!a->webroot && !a->dns_hook && !a->dns_update_server && !a->dns_update_key_file);
        CHECK_INT(a->dns_propagation_timeout, 120);
        CHECK(!a->profile && !a->preferred_chain && !a->deploy_hook && !a->on_failure && !a->key_group);
        CHECK(a->reload && !a->reload[0]);
        CHECK_INT(a->keep_versions, 5);
        CHECK_STR(a->file, "test.conf");
        CHECK_INT(a->line, 3);
        CHECK(config_find_cert(c, "b") == NULL);
        CHECK(config_find_ca(c, "b") == NULL);
}

TEST(full) {
        _cleanup_free_ char *path = data_path("config/full.conf"), *err = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        const CertConfig *e, *w, *r, *alpn;
        const CaConfig *le, *pebble;
        int k;

        REQUIRE(path);
        k = config_load_full(path, "/nonexistent/renewd-test", &c, &err);
        if (k < 0)
                fprintf(stderr, "%s\n", strna(err));
        REQUIRE(k == 0);

        CHECK_STR(c->state_dir, "/srv/renewd/state");
        CHECK_STR(c->certs_dir, "/nonexistent/renewd-test"); /* overridden */
        CHECK_STR(c->control_socket, "/run/renewd-test/control");
        CHECK_INT(c->max_parallel, 8);
        CHECK_STR(c->control_group, "renewd");
        CHECK_STR(c->http_listen, "127.0.0.1:8080");
        CHECK_STR(c->tls_alpn_listen, "[::1]:8443");
        CHECK_STR(c->metrics_file, "/var/lib/prometheus/node-exporter/renewd.prom");

        REQUIRE(c->n_cas == 2);
        REQUIRE((le = config_find_ca(c, "letsencrypt")));
        CHECK_STR(le->directory, "https://acme-v02.api.letsencrypt.org/directory");
        CHECK_INT(strv_length(le->contact), 2);
        CHECK_STR(le->contact[0], "mailto:ops@example.com");
        CHECK_STR(le->contact[1], "mailto:security@example.com");
        CHECK(le->accept_terms);
        CHECK_STR(le->trust, "/etc/ssl/certs/ca-certificates.crt");
        CHECK_STR(le->eab_kid, "kid-1234");
        CHECK_STR(le->eab_hmac_key, "c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cyE");
        CHECK_STR(le->profile, "tlsserver");
        CHECK(!le->allow_http);
        REQUIRE((pebble = config_find_ca(c, "pebble")));
        CHECK_STR(pebble->directory, "http://127.0.0.1:14000/dir");
        CHECK(pebble->accept_terms);
        CHECK(pebble->allow_http);

        REQUIRE(c->n_certs == 4);
        CHECK_STR(c->certs[0].name, "example.com"); /* file order */
        CHECK_STR(c->certs[3].name, "alpn");
        REQUIRE((e = config_find_cert(c, "example.com")));
        CHECK_INT(strv_length(e->domains), 4);
        CHECK_STR(e->domains[0], "example.com");
        CHECK_STR(e->domains[1], "www.example.com");
        CHECK_STR(e->domains[2], "192.0.2.1");
        CHECK_STR(e->domains[3], "2001:db8::1");
        CHECK_STR(e->ca, "pebble");
        CHECK_INT(e->key_type, KEY_RSA3072);
        CHECK(e->reuse_key);
        CHECK_INT(e->challenge, CHALLENGE_HTTP01);
        CHECK_STR(e->webroot, "/var/www/example site");
        CHECK_STR(e->profile, "shortlived");
        CHECK_STR(e->preferred_chain, "ISRG Root X1");
        CHECK_INT(strv_length(e->reload), 2);
        CHECK_STR(e->reload[1], "postfix@main.service");
        REQUIRE(strv_length(e->deploy_hook) == 3);
        CHECK_STR(e->deploy_hook[0], "/usr/local/bin/push-cert");
        CHECK_STR(e->deploy_hook[1], "--quiet");
        CHECK_STR(e->deploy_hook[2], "--label=web servers");
        REQUIRE(strv_length(e->on_failure) == 2);
        CHECK_STR(e->on_failure[1], "example.com");
        CHECK_STR(e->key_group, "ssl-cert");
        CHECK_INT(e->keep_versions, 0);

        REQUIRE((w = config_find_cert(c, "wildcard")));
        CHECK_STR(w->domains[0], "*.example.net");
        CHECK_STR(w->ca, "letsencrypt"); /* [defaults] */
        CHECK_INT(w->key_type, KEY_EC384);
        CHECK_INT(w->challenge, CHALLENGE_DNS01);
        REQUIRE(strv_length(w->dns_hook) == 3);
        CHECK_STR(w->dns_hook[2], "example.net");
        CHECK_INT(w->dns_propagation_timeout, 300);
        CHECK_INT(w->keep_versions, 10);
        CHECK_STR(w->reload[0], "nginx.service");

        REQUIRE((r = config_find_cert(c, "rfc2136")));
        CHECK_STR(r->dns_update_server, "[2001:db8::53]:5353");
        CHECK_STR(r->dns_update_key_file, "/etc/renewd/tsig.key");
        CHECK_INT(r->dns_propagation_timeout, 0);
        CHECK(r->dns_hook == NULL);

        REQUIRE((alpn = config_find_cert(c, "alpn")));
        CHECK_INT(alpn->challenge, CHALLENGE_TLSALPN01);
        CHECK_INT(alpn->key_type, KEY_RSA4096);
}

TEST(defaults_inheritance) {
        /* [defaults] after the certificates still applies to them; a certificate's own
         * value wins; "key =" in a certificate stops the inheritance. */
        _cleanup_(config_freep) Config *c = parse_ok(
                "[ca a]\ndirectory = https://a.example/dir\n"
                "[ca b]\ndirectory = https://b.example/dir\n"
                "[certificate one]\ndomains = one.example\n"
                "[certificate two]\ndomains = two.example\nca = a\nkey_type = rsa-2048\nwebroot =\nreload =\n"
                "keep_versions =\n"
                "[defaults]\nca = b\nkey_type = ec-384\nwebroot = /var/www/html\nreload = nginx.service\n"
                "keep_versions = 3\nreuse_key = yes\ndeploy_hook = /bin/true\n");
        const CertConfig *one, *two;

        REQUIRE(c);
        REQUIRE((one = config_find_cert(c, "one")));
        CHECK_STR(one->ca, "b");
        CHECK_INT(one->key_type, KEY_EC384);
        CHECK_STR(one->webroot, "/var/www/html");
        CHECK_INT(strv_length(one->reload), 1);
        CHECK_INT(one->keep_versions, 3);
        CHECK(one->reuse_key);
        CHECK_STR(one->deploy_hook[0], "/bin/true");

        REQUIRE((two = config_find_cert(c, "two")));
        CHECK_STR(two->ca, "a");
        CHECK_INT(two->key_type, KEY_RSA2048);
        CHECK(two->webroot == NULL);
        CHECK(two->reload && !two->reload[0]);
        CHECK_INT(two->keep_versions, 5); /* built-in default, not [defaults] */
        CHECK(two->reuse_key);
}

TEST(defaults_domains_and_quoted_values) {
        /* Every certificate key may stand in [defaults], domains included. */
        _cleanup_(config_freep) Config *c = parse_ok(
                "[defaults]\ndomains = shared.example\npreferred_chain = \"  Root # 1 \"  # a comment\n"
                "[ca x]\ndirectory = https://x.example/dir\n"
                "[certificate c]\non_failure = /usr/bin/logger \"renewal # failed\" \"\" end\n");

        REQUIRE(c);
        REQUIRE(c->n_certs == 1);
        CHECK_STR(c->certs[0].domains[0], "shared.example");
        CHECK_STR(c->certs[0].preferred_chain, "  Root # 1 ");
        REQUIRE(strv_length(c->certs[0].on_failure) == 4);
        CHECK_STR(c->certs[0].on_failure[1], "renewal # failed");
        CHECK_STR(c->certs[0].on_failure[2], "");
        CHECK_STR(c->certs[0].on_failure[3], "end");
}

TEST(comments_blanks_crlf_bom) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "\xef\xbb\xbf# leading comment\r\n"
                "\r\n"
                "   [daemon]   # trailing comment\r\n"
                "\tstate_dir=/srv/state#not-a-comment\r\n"
                "control_group = ops   # comment\r\n"
                "  # indented comment\n"
                "max_parallel = 64\n"
                "[ ca  spaced ]\n"
                "directory = https://acme.example/dir?x=1#frag\n"
                "contact =\n"
                "[certificate c]\n"
                "domains = a.example\tb.example  \n"
                "key_group = 1000\n");

        REQUIRE(c);
        CHECK_STR(c->state_dir, "/srv/state#not-a-comment");
        CHECK_STR(c->control_group, "ops");
        CHECK_INT(c->max_parallel, 64);
        REQUIRE(c->n_cas == 1);
        CHECK_STR(c->cas[0].name, "spaced");
        CHECK_STR(c->cas[0].directory, "https://acme.example/dir?x=1#frag");
        REQUIRE(c->n_certs == 1);
        CHECK_INT(strv_length(c->certs[0].domains), 2);
        CHECK_STR(c->certs[0].domains[1], "b.example");
        CHECK_STR(c->certs[0].key_group, "1000");
        CHECK_INT(c->certs[0].line, 11);
}

TEST(booleans) {
        static const char *const yes[] = { "yes", "YES", "true", "on", "1" }, *const no[] = { "no", "False", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes) + ELEMENTSOF(no); i++) {
                _cleanup_free_ char *text = NULL;
                bool expect = i < ELEMENTSOF(yes);
                const char *v = expect ? yes[i] : no[i - ELEMENTSOF(yes)];

                REQUIRE(asprintf(&text, "[ca x]\ndirectory = https://x.example/\naccept_terms = %s\n", v) > 0);
                _cleanup_(config_freep) Config *c = parse_ok(text);
                REQUIRE(c);
                CHECK_INT(c->cas[0].accept_terms, expect);
        }
}

TEST(domains_normalized) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "[ca x]\ndirectory = https://x.example/\n"
                "[certificate c]\nchallenge = dns-01\ndns_hook = /bin/hook\n"
                "domains = *.Example.ORG xn--bcher-kva.example a-b.c0.example localhost\n"
                "[certificate ip]\ndomains = ::FFFF:192.0.2.1 2001:db8:0:0:0:0:0:1 10.0.0.1\n");

        REQUIRE(c);
        REQUIRE(c->n_certs == 2);
        CHECK_STR(c->certs[0].domains[0], "*.example.org");
        CHECK_STR(c->certs[0].domains[3], "localhost");
        CHECK_STR(c->certs[1].domains[0], "::ffff:192.0.2.1");
        CHECK_STR(c->certs[1].domains[1], "2001:db8::1");
        CHECK(config_identifier_is_ip(c->certs[1].domains[2]));
        CHECK(!config_identifier_is_ip(c->certs[0].domains[1]));
}

TEST(identifier_normalize) {
        static const char *const bad[] = {
                "", "-a.example", "a-.example", "a..example", ".a.example", "a.example.", "a_b.example",
                "*", "*.", "a.*.example", "**.example", "*a.example", "1.2.3", "999.1.1.1", "[::1]", "fe80::1%eth0",
                "caf\xc3\xa9.example", "a b",
        };
        char label63[64], label64[65], *n = NULL;
        _cleanup_free_ char *long_name = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                n = NULL;
                if (config_identifier_normalize(bad[i], &n) != -EINVAL) {
                        fprintf(stderr, "accepted \"%s\"\n", bad[i]);
                        test_failures++;
                }
                CHECK(n == NULL);
        }
        memset(label63, 'a', 63);
        label63[63] = 0;
        memset(label64, 'a', 64);
        label64[64] = 0;
        CHECK_INT(config_identifier_normalize(label63, &n), 0);
        free(n);
        CHECK_INT(config_identifier_normalize(label64, &n), -EINVAL);
        /* 4 × 63 + 3 dots = 255 > 253 */
        REQUIRE(asprintf(&long_name, "%s.%s.%s.%s", label63, label63, label63, label63) > 0);
        CHECK_INT(config_identifier_normalize(long_name, &n), -EINVAL);
        long_name[253] = 0; /* 253 characters, the last label 61 long: the longest valid name */
        CHECK_INT(config_identifier_normalize(long_name, &n), 0);
        free(n);

        CHECK_INT(config_identifier_normalize("WWW.Example.Com", &n), 0);
        CHECK_STR(n, "www.example.com");
        free(n);
        CHECK_INT(config_identifier_normalize("0:0::1", &n), 0);
        CHECK_STR(n, "::1");
        free(n);
}

TEST(listen_addresses) {
        struct sockaddr_storage sa;
        socklen_t len = 0;

        CHECK_INT(config_parse_listen("[::]:80", &sa, &len), 0);
        CHECK_INT(sa.ss_family, AF_INET6);
        CHECK_INT(len, sizeof(struct sockaddr_in6));
        CHECK_INT(ntohs(((struct sockaddr_in6 *) &sa)->sin6_port), 80);
        CHECK_INT(config_parse_listen("127.0.0.1:65535", &sa, &len), 0);
        CHECK_INT(sa.ss_family, AF_INET);
        CHECK_INT(ntohs(((struct sockaddr_in *) &sa)->sin_port), 65535);

        static const char *const bad[] = {
                "", "80", ":80", "[::]", "[::]80", "::1:80", "0.0.0.0:0", "0.0.0.0:65536", "0.0.0.0:-1",
                "localhost:80", "[127.0.0.1]:80", "1.2.3.4:80x", "[::1]:", "[::1",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (config_parse_listen(bad[i], &sa, &len) != -EINVAL) {
                        fprintf(stderr, "accepted \"%s\"\n", bad[i]);
                        test_failures++;
                }
}

TEST(challenge_type_strings) {
        for (ChallengeType t = 0; t < _CHALLENGE_TYPE_MAX; t++)
                CHECK_INT(challenge_type_from_string(challenge_type_to_string(t)), t);
        CHECK_INT(challenge_type_from_string("HTTP-01"), -EINVAL);
        CHECK_INT(challenge_type_from_string(NULL), -EINVAL);
        CHECK(challenge_type_to_string(_CHALLENGE_TYPE_MAX) == NULL);
}

/* ---- one test per kind of problem ---- */

TEST(error_unknown_section) {
        CHECK_ONE_ERROR("[daemon]\n[server]\nfoo = bar\nbaz = 1\n", "test.conf:2: ", "[server]");
        CHECK_ONE_ERROR("[certificates x]\n", "test.conf:1: ", "certificates");
        CHECK_ONE_ERROR("[daemon\n", "test.conf:1: ", "']'");
        CHECK_ONE_ERROR("[daemon] x\n", "test.conf:1: ", "[daemon]");
        CHECK_ONE_ERROR("[daemon x]\n", "test.conf:1: ", "no name");
        CHECK_ONE_ERROR("[ca]\n", "test.conf:1: ", "[ca]");
        CHECK_ONE_ERROR("[certificate .hidden]\n", "test.conf:1: ", "invalid name");
        CHECK_ONE_ERROR("[certificate a/b]\n", "test.conf:1: ", "invalid name");
}

TEST(error_unknown_key) {
        CHECK_ONE_ERROR("[daemon]\nstate_dir = /a\nstatedir = /b\n", "test.conf:3: ", "statedir: unknown key in [daemon]");
        /* a certificate key is not a [ca] key and the reverse */
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ndomains = a.example\n", "test.conf:3: ", "domains");
        CHECK_ONE_ERROR("[defaults]\ndirectory = https://x/\n", "test.conf:2: ", "directory: unknown key in [defaults]");
        CHECK_ONE_ERROR("[daemon]\nState_Dir = /a\n", "test.conf:2: ", "State_Dir");
}

TEST(error_key_outside_section) {
        CHECK_ONE_ERROR("# comment\nstate_dir = /a\n[daemon]\n", "test.conf:2: ", "state_dir: outside of a section");
}

TEST(error_not_key_value) {
        CHECK_ONE_ERROR("[daemon]\nstate_dir /a\n", "test.conf:2: ", "key = value");
        CHECK_ONE_ERROR("[daemon]\n= /a\n", "test.conf:2: ", "not a key name");
}

TEST(error_duplicate_key) {
        CHECK_ONE_ERROR("[daemon]\nmax_parallel = 2\n\nmax_parallel = 3\n", "test.conf:4: ",
                        "max_parallel: set twice in [daemon], first at line 2");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ndirectory = https://y/\n", "test.conf:3: ", "directory");
        CHECK_ONE_ERROR("[defaults]\nca = x\nca = y\n[ca x]\ndirectory = https://x/\n", "test.conf:3: ", "ca: set twice");
        /* a bad first value is still the first */
        CHECK_ONE_ERROR("[daemon]\nmax_parallel = 0\n", "test.conf:2: ", "max_parallel");
        _cleanup_free_ char *err = parse_fail("[daemon]\nmax_parallel = 0\nmax_parallel = 2\n");
        REQUIRE(err);
        CHECK(has_error(err, "test.conf:3: ", "max_parallel: set twice"));
}

TEST(error_duplicate_section) {
        CHECK_ONE_ERROR("[daemon]\n[daemon]\n", "test.conf:2: ", "[daemon]: duplicate section, first at line 1");
        CHECK_ONE_ERROR("[defaults]\n[defaults]\n", "test.conf:2: ", "[defaults]: duplicate");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[ca x]\ndirectory = https://y/\n", "test.conf:3: ",
                        "[ca x]: duplicate section, first at test.conf:1");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n"
                        "[certificate c]\ndomains = a.example\n[certificate c]\ndomains = b.example\n",
                        "test.conf:5: ", "[certificate c]: duplicate section, first at test.conf:3");
}

TEST(error_bad_numbers) {
        static const char *const bad[] = { "0", "65", "-1", "+4", "4x", "", "\"\"", "99999999999999999999", "4 4" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL;
                if (isempty(bad[i]) || streq(bad[i], "\"\""))
                        continue; /* empty means the default: fine */
                REQUIRE(asprintf(&text, "[daemon]\nmax_parallel = %s\n", bad[i]) > 0);
                CHECK_ONE_ERROR(text, "test.conf:2: ", "max_parallel: ");
        }
        CHECK_ONE_ERROR("[defaults]\nkeep_versions = 1001\n", "test.conf:2: ", "keep_versions");
        CHECK_ONE_ERROR("[defaults]\ndns_propagation_timeout = 86401\n", "test.conf:2: ", "dns_propagation_timeout");
        _cleanup_(config_freep) Config *c = parse_ok("[daemon]\nmax_parallel = \"\"\n");
        REQUIRE(c);
        CHECK_INT(c->max_parallel, 4);
}

TEST(error_bad_values) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\naccept_terms = maybe\n", "test.conf:3: ", "accept_terms: \"maybe\"");
        CHECK_ONE_ERROR("[defaults]\nkey_type = ec-521\n", "test.conf:2: ", "key_type: \"ec-521\"");
        CHECK_ONE_ERROR("[defaults]\nchallenge = dns-02\n", "test.conf:2: ", "challenge: \"dns-02\"");
        CHECK_ONE_ERROR("[defaults]\nreuse_key = 2\n", "test.conf:2: ", "reuse_key");
        CHECK_ONE_ERROR("[daemon]\nhttp_listen = 80\n", "test.conf:2: ", "http_listen: \"80\"");
        CHECK_ONE_ERROR("[daemon]\ntls_alpn_listen = [::]:99999\n", "test.conf:2: ", "tls_alpn_listen");
        CHECK_ONE_ERROR("[daemon]\ncontrol_group = 9bad\n", "test.conf:2: ", "control_group");
        CHECK_ONE_ERROR("[defaults]\nkey_group = \"a b\"\n", "test.conf:2: ", "key_group");
        CHECK_ONE_ERROR("[defaults]\nca = ../x\n", "test.conf:2: ", "ca: \"../x\"");
        CHECK_ONE_ERROR("[ca x]\ndirectory = ftp://x/\n", "test.conf:2: ", "directory: \"ftp://x/\"");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://\n", "test.conf:2: ", "directory");
        CHECK_ONE_ERROR("[ca x]\ndirectory = \n", "test.conf:2: ", "directory: must not be empty");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ncontact = ops@example.com\n", "test.conf:3: ",
                        "contact: \"ops@example.com\" is not a URL");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ncontact = mailto:a@x,b@y\n", "test.conf:3: ", "contact");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ncontact = \"mailto:a b@x\"\n", "test.conf:3: ", "contact");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ncontact = mailto:\n", "test.conf:3: ", "contact");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\nprofile = two words\n", "test.conf:3: ", "profile");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\neab_kid = k\neab_hmac_key = not=base64\n", "test.conf:4: ",
                        "eab_hmac_key: not a valid base64url");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\neab_kid = k\neab_hmac_key = abcde\n", "test.conf:4: ",
                        "eab_hmac_key"); /* impossible length */
        CHECK_ONE_ERROR("[defaults]\nreload = nginx\n", "test.conf:2: ", "reload: \"nginx\"");
        CHECK_ONE_ERROR("[defaults]\nreload = nginx.service foo@.service\n", "test.conf:2: ", "reload: \"foo@.service\"");
        CHECK_ONE_ERROR("[defaults]\nreload = \"my app.service\"\n", "test.conf:2: ", "reload");
        CHECK_ONE_ERROR("[defaults]\nreload = a@b@c.service\n", "test.conf:2: ", "reload");
        CHECK_ONE_ERROR("[defaults]\nreload = .service\n", "test.conf:2: ", "reload");
        CHECK_ONE_ERROR("[defaults]\nreload = @x.service\n", "test.conf:2: ", "reload");
        CHECK_ONE_ERROR("[defaults]\ndns_update_server = ns1.example:port\n", "test.conf:2: ", "dns_update_server");
        CHECK_ONE_ERROR("[defaults]\ndomains = a.example a_b.example\n", "test.conf:2: ", "domains: \"a_b.example\"");
}

TEST(error_relative_paths) {
        CHECK_ONE_ERROR("[daemon]\nstate_dir = var/lib/renewd\n", "test.conf:2: ", "state_dir: must be an absolute path");
        CHECK_ONE_ERROR("[daemon]\ncerts_dir = ./certs.d\n", "test.conf:2: ", "certs_dir");
        CHECK_ONE_ERROR("[daemon]\ncontrol_socket = control\n", "test.conf:2: ", "control_socket");
        CHECK_ONE_ERROR("[daemon]\nmetrics_file = renewd.prom\n", "test.conf:2: ", "metrics_file");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\ntrust = bundle.pem\n", "test.conf:3: ", "trust");
        CHECK_ONE_ERROR("[defaults]\nwebroot = www\n", "test.conf:2: ", "webroot: must be an absolute path, not \"www\"");
        CHECK_ONE_ERROR("[defaults]\ndns_update_key_file = ~/tsig.key\n", "test.conf:2: ", "dns_update_key_file");
        CHECK_ONE_ERROR("[defaults]\ndeploy_hook = push-cert --quiet\n", "test.conf:2: ",
                        "deploy_hook: the program must be an absolute path, not \"push-cert\"");
        CHECK_ONE_ERROR("[defaults]\ndns_hook = \"\" x\n", "test.conf:2: ", "dns_hook");
        CHECK_ONE_ERROR("[defaults]\non_failure = \"bin/page\"\n", "test.conf:2: ", "on_failure");
}

TEST(error_socket_path_too_long) {
        _cleanup_free_ char *text = NULL;
        char longpath[200];

        memset(longpath, 'x', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = 0;
        REQUIRE(asprintf(&text, "[daemon]\ncontrol_socket = %s\n", longpath) > 0);
        CHECK_ONE_ERROR(text, "test.conf:2: ", "control_socket: longer than a socket path");
}

TEST(error_missing_required) {
        /* reported at the section's header line */
        CHECK_ONE_ERROR("[daemon]\n\n[ca x]\ncontact = mailto:a@b.example\n", "test.conf:3: ", "directory: required in [ca x]");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n\n[certificate c]\nkey_type = ec-384\n", "test.conf:4: ",
                        "domains: required in [certificate c]");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains =\n", "test.conf:4: ",
                        "domains: must not be empty");
}

TEST(error_dns01_without_hook) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nchallenge = dns-01\n",
                        "test.conf:5: ", "challenge: dns-01 for [certificate c] needs dns_hook");
        /* inherited challenge: reported at the certificate */
        CHECK_ONE_ERROR("[defaults]\nchallenge = dns-01\n[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n",
                        "test.conf:5: ", "challenge: dns-01");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nchallenge = dns-01\n"
                        "dns_update_server = 192.0.2.53\n",
                        "test.conf:6: ", "dns_update_server: needs dns_update_key_file");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nchallenge = dns-01\n"
                        "dns_update_key_file = /k\n",
                        "test.conf:6: ", "dns_update_key_file: needs dns_update_server");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nchallenge = dns-01\n"
                        "dns_hook = /bin/hook\ndns_update_server = ns.example\ndns_update_key_file = /k\n",
                        "test.conf:6: ", "dns_hook: [certificate c] sets both");
}

TEST(error_wildcard_needs_dns01) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = example.com *.example.com\n",
                        "test.conf:4: ", "domains: wildcard *.example.com in [certificate c] needs challenge = dns-01, not http-01");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\nchallenge = tls-alpn-01\ndomains = *.example.com\n",
                        "test.conf:5: ", "tls-alpn-01");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\nchallenge = dns-01\ndns_hook = /h\n"
                        "domains = 192.0.2.7\n",
                        "test.conf:6: ", "domains: IP address 192.0.2.7");
}

TEST(challenge_override) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "[ca x]\ndirectory = https://x/\n[certificate c]\n"
                "domains = example.com *.example.com 192.0.2.1\n"
                "challenge_override = *.EXAMPLE.com=dns-01 192.0.2.1=tls-alpn-01\n"
                "dns_hook = /usr/local/bin/dns\ndns_resolver = 127.0.0.1:5353 [::1]:53 ns.example.net\n");
        REQUIRE(c);
        const CertConfig *cert = &c->certs[0];
        CHECK_INT(config_cert_challenge_for(cert, "example.com"), CHALLENGE_HTTP01);
        CHECK_INT(config_cert_challenge_for(cert, "*.example.com"), CHALLENGE_DNS01);
        CHECK_INT(config_cert_challenge_for(cert, "192.0.2.1"), CHALLENGE_TLSALPN01);
        CHECK(config_cert_uses_challenge(cert, CHALLENGE_DNS01));
        CHECK(config_cert_uses_challenge(cert, CHALLENGE_HTTP01));
        CHECK_INT((int) strv_length(cert->dns_resolver), 3);

        /* a name that is not on the certificate, a bad type, no '=' */
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                        "challenge_override = b.example=dns-01\n",
                        "test.conf:5: ", "b.example is not one of the domains");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                        "challenge_override = a.example=dns-02\n",
                        "test.conf:5: ", "dns-02");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                        "challenge_override = a.example\n",
                        "test.conf:5: ", "is not NAME=TYPE");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                        "challenge_override = a.example=dns-01 A.example=http-01\ndns_hook = /h\n",
                        "test.conf:5: ", "listed twice");
        /* an override that sends a wildcard to http-01, or an IP to dns-01, is blamed */
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\nchallenge = dns-01\ndns_hook = /h\n"
                        "domains = a.example *.a.example\nchallenge_override = *.a.example=http-01\n",
                        "test.conf:7: ", "wildcard *.a.example in [certificate c] needs dns-01, not http-01");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example 192.0.2.9\n"
                        "challenge_override = 192.0.2.9=dns-01\ndns_hook = /h\n",
                        "test.conf:5: ", "IP address 192.0.2.9");
        /* dns-01 by override still needs its settings; unused dns settings are reported */
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example *.a.example\n"
                        "challenge_override = *.a.example=dns-01\n",
                        "test.conf:3: ", "needs dns_hook");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                        "dns_resolver = 127.0.0.1\n",
                        "test.conf:5: ", "dns_resolver: not used with challenge = http-01");
}

TEST(after_renewal_keys) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "[daemon]\nhttp_keep_open = yes\n[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n"
                "install_fullchain = /etc/haproxy/a.pem.chain\ninstall_key = /etc/haproxy/a.key\n"
                "install_combined = /etc/haproxy/a.pem\ninstall_owner = haproxy\ninstall_group = 33\n"
                "install_mode = 0640\non_failure = /usr/local/bin/page ops\non_failure_days = 10 2\n"
                "hook_timeout = 30\n");
        REQUIRE(c);
        CHECK(c->http_keep_open);
        const CertConfig *cert = &c->certs[0];
        CHECK_STR(cert->install_combined, "/etc/haproxy/a.pem");
        CHECK_STR(cert->install_owner, "haproxy");
        CHECK_STR(cert->install_group, "33");
        CHECK_INT(cert->install_mode, 0640);
        CHECK_INT(cert->hook_timeout, 30);
        CHECK_INT((int) strv_length(cert->on_failure_days), 2);

        _cleanup_(config_freep) Config *d = parse_ok("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\n");
        REQUIRE(d);
        CHECK(!d->http_keep_open);
        CHECK_INT(d->certs[0].install_mode, 0644);
        CHECK_INT(d->certs[0].hook_timeout, 300);
        CHECK_INT((int) strv_length(d->certs[0].on_failure_days), 4);

        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\ninstall_mode = 0999\n",
                        "test.conf:5: ", "octal file mode");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\ninstall_mode = -1\n",
                        "test.conf:5: ", "octal file mode");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\ninstall_key = key.pem\n",
                        "test.conf:5: ", "absolute path");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\non_failure_days = 7 0\n",
                        "test.conf:5: ", "\"0\" is not a number of days");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nhook_timeout = 0\n",
                        "test.conf:5: ", "hook_timeout");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\ninstall_owner = -x\n",
                        "test.conf:5: ", "user name");
}

TEST(error_unused_keys) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nchallenge = dns-01\n"
                        "dns_hook = /h\nwebroot = /var/www\n",
                        "test.conf:7: ", "webroot: not used with challenge = dns-01");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\ndns_hook = /h\n",
                        "test.conf:5: ", "dns_hook: not used with challenge = http-01");
        /* inherited from [defaults], or emptied, it is fine */
        _cleanup_(config_freep) Config *c = parse_ok(
                "[defaults]\nwebroot = /var/www\n[ca x]\ndirectory = https://x/\n"
                "[certificate c]\ndomains = a.example\nchallenge = dns-01\ndns_hook = /h\n"
                "[certificate d]\ndomains = d.example\nchallenge = tls-alpn-01\nwebroot =\n");
        CHECK(c);
}

TEST(error_unknown_ca) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example\nca = y\n", "test.conf:5: ",
                        "ca: there is no [ca y]");
        /* from [defaults]: once, at [defaults], however many certificates inherit it */
        CHECK_ONE_ERROR("[defaults]\nca = nope\n[ca x]\ndirectory = https://x/\n"
                        "[certificate c]\ndomains = a.example\n[certificate d]\ndomains = b.example\n",
                        "test.conf:2: ", "ca: there is no [ca nope]");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[ca y]\ndirectory = https://y/\n[certificate c]\ndomains = a.example\n",
                        "test.conf:5: ", "ca: [certificate c] must name its CA");
        CHECK_ONE_ERROR("[certificate c]\ndomains = a.example\n", "test.conf:1: ", "ca: [certificate c] needs a CA");
}

TEST(error_http_directory) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = http://localhost:14000/dir\n", "test.conf:2: ", "directory: \"http://localhost:14000/dir\" is not https://");
        CHECK_ONE_ERROR("[ca x]\ndirectory = http://localhost:14000/dir\nallow_http = no\n", "test.conf:2: ", "allow_http");
        /* allow_http may come after directory */
        _cleanup_(config_freep) Config *c = parse_ok("[ca x]\ndirectory = http://localhost:14000/dir\nallow_http = yes\n");
        REQUIRE(c);
        CHECK(c->cas[0].allow_http);
}

TEST(error_eab_both_or_neither) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\neab_kid = abc\n", "test.conf:3: ",
                        "eab_kid: set without eab_hmac_key");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n\neab_hmac_key = c2VjcmV0\n", "test.conf:4: ",
                        "eab_hmac_key: set without eab_kid");
}

TEST(error_duplicate_domain) {
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = a.example A.EXAMPLE\n", "test.conf:4: ",
                        "domains: \"a.example\" is listed twice");
        CHECK_ONE_ERROR("[ca x]\ndirectory = https://x/\n[certificate c]\ndomains = ::1 0::1\n", "test.conf:4: ",
                        "domains: \"::1\" is listed twice");
}

TEST(error_quotes) {
        CHECK_ONE_ERROR("[defaults]\npreferred_chain = \"ISRG Root X1\n", "test.conf:2: ",
                        "preferred_chain: unterminated double quote");
        CHECK_ONE_ERROR("[defaults]\npreferred_chain = \"ISRG\" \"Root\"\n", "test.conf:2: ",
                        "preferred_chain: text after the closing double quote");
        CHECK_ONE_ERROR("[defaults]\ndeploy_hook = /bin/x \"a b\n", "test.conf:2: ", "deploy_hook: unterminated");
}

TEST(error_line_limits) {
        _cleanup_free_ char *text = NULL, *big = NULL;
        char *err = NULL;
        Config *c = NULL;
        size_t n = CONFIG_LINE_MAX + 10;

        text = malloc(n + 64);
        REQUIRE(text);
        strcpy(text, "[daemon]\nstate_dir = /");
        memset(text + strlen(text), 'a', n);
        strcpy(text + 22 + n, "\nmax_parallel = 0\n");
        _cleanup_free_ char *e = parse_fail(text);
        REQUIRE(e);
        CHECK(has_error(e, "test.conf:2: ", "line longer than 4096 bytes"));
        CHECK(has_error(e, "test.conf:3: ", "max_parallel")); /* goes on after it */

        /* exactly CONFIG_LINE_MAX is fine */
        strcpy(text, "[daemon]\nstate_dir = /");
        memset(text + 22, 'a', CONFIG_LINE_MAX - 13);
        text[22 + CONFIG_LINE_MAX - 13] = 0;
        _cleanup_(config_freep) Config *ok = parse_ok(text);
        CHECK(ok);

        CHECK_ONE_ERROR("[daemon]\nstate_dir = /a\x01\n", "test.conf:2: ", "control characters");

        static const char with_nul[] = "[daemon]\nstate_dir = /a\0b\nmax_parallel = 2\n";
        CHECK_INT(config_parse_string("nul.conf", with_nul, sizeof with_nul - 1, &c, &err), -EINVAL);
        CHECK(c == NULL);
        REQUIRE(err);
        CHECK(has_error(err, "nul.conf:2: ", "NUL"));
        CHECK_INT(count_lines(err), 1);
        free(err);
        err = NULL;

        big = malloc(CONFIG_FILE_SIZE_MAX + 2);
        REQUIRE(big);
        memset(big, '\n', CONFIG_FILE_SIZE_MAX + 1);
        CHECK_INT(config_parse_string("big.conf", big, CONFIG_FILE_SIZE_MAX + 1, &c, &err), -EINVAL);
        REQUIRE(err);
        CHECK(has_error(err, "big.conf: ", "larger than"));
        free(err);
        err = NULL;
        CHECK_INT(config_parse_string("big.conf", big, CONFIG_FILE_SIZE_MAX, &c, &err), 0);
        CHECK(err == NULL);
        c = config_free(c);
}

TEST(many_errors_all_reported) {
        static const char text[] =
                "stray = 1\n"                            /* 1 */
                "[daemon]\n"                             /* 2 */
                "max_parallel = 100\n"                   /* 3 */
                "state_dir = relative\n"                 /* 4 */
                "bogus = 1\n"                            /* 5 */
                "[ca le]\n"                              /* 6: no directory */
                "accept_terms = perhaps\n"               /* 7 */
                "[nonsense]\n"                           /* 8 */
                "whatever = 1\n"                         /* 9: skipped */
                "[certificate a]\n"                      /* 10 */
                "domains = a.example -bad.example\n"     /* 11 */
                "key_type = dsa\n"                       /* 12 */
                "key_type = ec-256\n"                    /* 13 */
                "[certificate b]\n"                      /* 14 */
                "domains = *.b.example\n"                /* 15: wildcard, http-01 */
                "ca = missing\n";                        /* 16 */
        _cleanup_free_ char *err = parse_fail(text);

        REQUIRE(err);
        CHECK(has_error(err, "test.conf:1: ", "stray"));
        CHECK(has_error(err, "test.conf:3: ", "max_parallel"));
        CHECK(has_error(err, "test.conf:4: ", "state_dir"));
        CHECK(has_error(err, "test.conf:5: ", "bogus"));
        CHECK(has_error(err, "test.conf:6: ", "directory: required"));
        CHECK(has_error(err, "test.conf:7: ", "accept_terms"));
        CHECK(has_error(err, "test.conf:8: ", "[nonsense]"));
        CHECK(has_error(err, "test.conf:11: ", "-bad.example"));
        CHECK(has_error(err, "test.conf:12: ", "key_type"));
        CHECK(has_error(err, "test.conf:13: ", "key_type: set twice"));
        CHECK(has_error(err, "test.conf:15: ", "wildcard"));
        CHECK(has_error(err, "test.conf:16: ", "ca: there is no [ca missing]"));
        CHECK_INT(count_lines(err), 12);
        /* sorted by line */
        CHECK(strstr(err, "test.conf:3:") < strstr(err, "test.conf:16:"));
        CHECK(strncmp(err, "test.conf:1: ", 13) == 0);
}

TEST(error_count_capped) {
        size_t n = 3000;
        _cleanup_free_ char *text = malloc(n * 12 + 16), *err = NULL;
        Config *c = NULL;
        char *p;

        REQUIRE(text);
        p = stpcpy(text, "[daemon]\n");
        for (size_t i = 0; i < n; i++)
                p = stpcpy(p, "nokey = 1\n");
        CHECK_INT(config_parse_string("t.conf", text, strlen(text), &c, &err), -EINVAL);
        REQUIRE(err);
        CHECK(strstr(err, "(and 2000 more problems)"));
}

TEST(ret_untouched_on_failure) {
        Config *c = (Config *) 0x1;
        char *err = NULL;

        CHECK_INT(config_parse_string("x.conf", "[x]\n", 4, &c, &err), -EINVAL);
        CHECK(c == (Config *) 0x1);
        free(err);
        CHECK_INT(config_parse_string("x.conf", "", 0, &c, NULL), 0); /* no error text wanted */
        CHECK(c != (Config *) 0x1);
        config_free(c);
        CHECK_INT(config_parse_string(NULL, "", 0, &c, NULL), -EINVAL);
}

/* ---- dump ---- */

TEST(dump) {
        _cleanup_free_ char *path = data_path("config/full.conf"), *d = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        REQUIRE(path);
        REQUIRE(config_load_full(path, "/nonexistent", &c, NULL) == 0);
        REQUIRE(config_dump(c, &d) == 0);

        CHECK(strstr(d, "[daemon]\nstate_dir = /srv/renewd/state\n"));
        CHECK(strstr(d, "eab_hmac_key = (set)\n"));
        CHECK(!strstr(d, "c2VjcmV0")); /* the secret itself never */
        CHECK(strstr(d, "[certificate example.com]\n"));
        CHECK(strstr(d, "domains = example.com www.example.com 192.0.2.1 2001:db8::1\n"));
        CHECK(strstr(d, "webroot = \"/var/www/example site\"\n") || strstr(d, "webroot = /var/www/example site\n"));
        CHECK(strstr(d, "deploy_hook = /usr/local/bin/push-cert --quiet \"--label=web servers\"\n"));
        CHECK(strstr(d, "[certificate alpn]\ndomains = alpn.example.org\nca = letsencrypt\nkey_type = rsa-4096\n"));
        CHECK(strstr(d, "keep_versions = 10\n"));
        CHECK(strstr(d, "dns_hook =\n"));
        CHECK(strstr(d, "# from "));
        CHECK(!strstr(d, "[defaults]")); /* applied, not repeated */
}

TEST(dump_roundtrip) {
        /* Everything but the secret survives dump → parse → dump. */
        _cleanup_(config_freep) Config *c = parse_ok(
                "[daemon]\nmetrics_file = \"/var/lib/x # y\"\ncontrol_group = g\n"
                "[ca a]\ndirectory = https://a.example/dir\ncontact = mailto:x@a.example\nprofile = p\n"
                "[certificate c]\ndomains = c.example *.c.example\nchallenge = dns-01\n"
                "dns_hook = /bin/hook \"two words\" \"#hash\" \"\"\npreferred_chain = \" padded \"\n"
                "reload = a.service b.socket\nkey_group = ssl-cert\nkeep_versions = 0\n"
                "[certificate d]\ndomains = d.example\nwebroot = /srv/www/d\nreuse_key = on\n"
                "preferred_chain = Root \"#1\" CA\n");
        _cleanup_free_ char *d1 = NULL, *d2 = NULL, *full = NULL, *err = NULL;
        _cleanup_(config_freep) Config *c2 = NULL;

        REQUIRE(c);
        REQUIRE(config_dump(c, &full) == 0);
        REQUIRE((d1 = dump_without_comments(c)));
        if (config_parse_string("dump.conf", full, strlen(full), &c2, &err) < 0)
                fprintf(stderr, "%s\n---\n%s\n", full, strna(err));
        REQUIRE(c2);
        REQUIRE((d2 = dump_without_comments(c2)));
        CHECK_STR(d1, d2);
        CHECK_STR(c2->certs[0].preferred_chain, " padded ");
        CHECK_STR(c2->certs[0].dns_hook[2], "#hash");
        CHECK_STR(c2->certs[0].dns_hook[3], "");
        CHECK_STR(c2->metrics_file, "/var/lib/x # y");
        CHECK_STR(c2->certs[1].preferred_chain, "Root \"#1\" CA");
}

/* ---- files ---- */

TEST(load_with_dropins) {
        _cleanup_free_ char *main_path = NULL, *certs = NULL, *text = NULL, *err = NULL, *p = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        _cleanup_(test_tmpdir_freep) char *dir = test_tmpdir(); /* removed even when a REQUIRE returns early */
        REQUIRE(dir);
        REQUIRE(asprintf(&main_path, "%s/renewd.conf", dir) > 0);
        REQUIRE(asprintf(&certs, "%s/certs.d", dir) > 0);
        REQUIRE(asprintf(&text,
                         "[daemon]\ncerts_dir = %s\n"
                         "[ca le]\ndirectory = https://acme.example/dir\n"
                         "[defaults]\nkey_type = rsa-2048\n"
                         "[certificate main]\ndomains = main.example\n",
                         certs) > 0);
        REQUIRE(write_text(main_path, text) == 0);
        REQUIRE(mkdir(certs, 0755) == 0);

#define DROPIN(name, content)                                                   \
        do {                                                                    \
                free(p);                                                        \
                REQUIRE(asprintf(&p, "%s/%s", certs, name) > 0);               \
                REQUIRE(write_text(p, content) == 0);                          \
        } while (0)
        DROPIN("b.conf", "[certificate b]\ndomains = b.example\n");
        DROPIN("a.conf", "# first by name\n[certificate a1]\ndomains = a1.example\nkey_type = ec-256\n"
                         "[certificate a2]\ndomains = a2.example\n");
        DROPIN(".hidden.conf", "[certificate hidden]\ndomains = hidden.example\n");
        DROPIN("notes.txt", "this is not a config file\n");
        DROPIN("c.conf.disabled", "[certificate disabled]\ndomains = x.example\n");
        free(p);
        REQUIRE(asprintf(&p, "%s/dir.conf", certs) > 0);
        REQUIRE(mkdir(p, 0755) == 0);

        if (config_load(main_path, &c, &err) < 0)
                fprintf(stderr, "%s\n", strna(err));
        REQUIRE(c);
        CHECK(err == NULL);
        REQUIRE(c->n_certs == 4);
        CHECK_STR(c->certs[0].name, "main");
        CHECK_STR(c->certs[1].name, "a1");
        CHECK_STR(c->certs[2].name, "a2");
        CHECK_STR(c->certs[3].name, "b");
        CHECK_INT(c->certs[1].key_type, KEY_EC256);
        CHECK_INT(c->certs[3].key_type, KEY_RSA2048); /* [defaults] reaches drop-ins */
        CHECK_STR(c->certs[3].ca, "le");
        CHECK(strstr(c->certs[3].file, "/certs.d/b.conf") != NULL);
        CHECK_INT(c->certs[2].line, 5);
        c = config_free(c);

        /* Problems in drop-ins: a section other than [certificate], a name defined twice
         * across files, and one defined in the main file too. All reported. */
        DROPIN("d.conf", "[daemon]\nmax_parallel = 2\n[certificate main]\ndomains = x.example\n"
                         "[certificate b]\ndomains = y.example\n[defaults]\n[ca other]\ndirectory = https://o/\n");
        CHECK_INT(config_load(main_path, &c, &err), -EINVAL);
        CHECK(c == NULL);
        REQUIRE(err);
        _cleanup_free_ char *dprefix = NULL;
        REQUIRE(asprintf(&dprefix, "%s/d.conf:", certs) > 0);
        char pre[512];
        snprintf(pre, sizeof pre, "%s1: ", dprefix);
        CHECK(has_error(err, pre, "[daemon]: not allowed in a drop-in"));
        snprintf(pre, sizeof pre, "%s3: ", dprefix);
        CHECK(has_error(err, pre, "[certificate main]: duplicate section, first at"));
        CHECK(has_error(err, pre, "renewd.conf:7"));
        snprintf(pre, sizeof pre, "%s5: ", dprefix);
        CHECK(has_error(err, pre, "[certificate b]: duplicate section"));
        CHECK(has_error(err, pre, "b.conf:1"));
        snprintf(pre, sizeof pre, "%s7: ", dprefix);
        CHECK(has_error(err, pre, "[defaults]: not allowed"));
        snprintf(pre, sizeof pre, "%s8: ", dprefix);
        CHECK(has_error(err, pre, "[ca other]: not allowed"));
        CHECK_INT(count_lines(err), 5);
        free(err);
        err = NULL;

        /* A drop-in too large to read: reported, the others still read. */
        REQUIRE(unlink(p) == 0);
        free(p);
        REQUIRE(asprintf(&p, "%s/big.conf", certs) > 0);
        {
                FILE *f = fopen(p, "we");
                REQUIRE(f);
                REQUIRE(fseek(f, CONFIG_FILE_SIZE_MAX, SEEK_SET) == 0);
                fputc('\n', f);
                REQUIRE(fclose(f) == 0);
        }
        CHECK_INT(config_load(main_path, &c, &err), -EFBIG);
        REQUIRE(err);
        snprintf(pre, sizeof pre, "%s/big.conf: ", certs);
        CHECK(has_error(err, pre, "larger than 1048576 bytes"));
        CHECK_INT(count_lines(err), 1);
        free(err);
        err = NULL;
        REQUIRE(unlink(p) == 0);

        /* certs_dir overridden; a missing directory is fine */
        CHECK_INT(config_load_full(main_path, "/nonexistent/renewd-test-certs.d", &c, &err), 0);
        REQUIRE(c);
        CHECK_INT(c->n_certs, 1);
        CHECK_STR(c->certs_dir, "/nonexistent/renewd-test-certs.d");
        c = config_free(c);

        /* certs_dir that is a file */
        CHECK(config_load_full(main_path, main_path, &c, &err) < 0);
        REQUIRE(err);
        CHECK(strstr(err, "cannot open directory: Not a directory"));
        free(err);
        err = NULL;

#undef DROPIN
}

TEST(load_missing_main) {
        _cleanup_free_ char *err = NULL;
        Config *c = NULL;

        CHECK_INT(config_load("/nonexistent/renewd-test.conf", &c, &err), -ENOENT);
        CHECK(c == NULL);
        REQUIRE(err);
        CHECK(strncmp(err, "/nonexistent/renewd-test.conf: ", 31) == 0);
        free(err);
        err = NULL;

        CHECK_INT(config_load("/", &c, &err), -EISDIR);
        CHECK(c == NULL);
        REQUIRE(err);
        CHECK_STR(err, "/: cannot read: Is a directory");
}

TEST(example_config) {
        /* conf/renewd.conf must be valid, with the example drop-in of conf/certs.d too. */
        _cleanup_free_ char *path = data_path("../../conf/renewd.conf"), *dir = data_path("../../conf/certs.d"),
                            *err = NULL;
        _cleanup_(config_freep) Config *c = NULL, *c2 = NULL;

        REQUIRE(path && dir);
        if (config_load_full(path, "/nonexistent/renewd-test", &c, &err) < 0)
                fprintf(stderr, "%s\n", strna(err));
        CHECK(c);
        free(err);
        err = NULL;
        if (config_load_full(path, dir, &c2, &err) < 0)
                fprintf(stderr, "%s\n", strna(err));
        REQUIRE(c2);
        CHECK(c2->n_certs > (c ? c->n_certs : 0));
        CHECK(config_find_cert(c2, "example.com"));
        CHECK_STR(c2->certs_dir, dir);
}

TEST_MAIN(T(empty), T(builtin_defaults), T(full), T(defaults_inheritance), T(defaults_domains_and_quoted_values),
          T(comments_blanks_crlf_bom), T(booleans), T(domains_normalized), T(identifier_normalize),
          T(listen_addresses), T(challenge_type_strings), T(error_unknown_section), T(error_unknown_key),
          T(error_key_outside_section), T(error_not_key_value), T(error_duplicate_key), T(error_duplicate_section),
          T(error_bad_numbers), T(error_bad_values), T(error_relative_paths), T(error_socket_path_too_long),
          T(error_missing_required), T(error_dns01_without_hook), T(error_wildcard_needs_dns01),
          T(error_unused_keys), T(challenge_override), T(after_renewal_keys), T(error_unknown_ca), T(error_http_directory), T(error_eab_both_or_neither),
          T(error_duplicate_domain), T(error_quotes), T(error_line_limits), T(many_errors_all_reported),
          T(error_count_capped), T(ret_untouched_on_failure), T(dump), T(dump_roundtrip), T(load_with_dropins),
          T(load_missing_main), T(example_config))
