/* SPDX-License-Identifier: MIT */
#include "certbot-conf.h"
#include "strv.h"
#include "test.h"

/* What certbot 2.1.0 wrote for "certbot certonly --webroot -w /var/www/html -d a.test -d
 * b.test --cert-name web --reuse-key --preferred-chain 'Pebble Root CA' --deploy-hook
 * '/bin/echo hi, there'" (run against Pebble; the directories shortened). */
static const char sample_webroot[] =
        "# renew_before_expiry = 30 days\n"
        "version = 2.1.0\n"
        "archive_dir = /etc/letsencrypt/archive/web\n"
        "cert = /etc/letsencrypt/live/web/cert.pem\n"
        "privkey = /etc/letsencrypt/live/web/privkey.pem\n"
        "chain = /etc/letsencrypt/live/web/chain.pem\n"
        "fullchain = /etc/letsencrypt/live/web/fullchain.pem\n"
        "\n"
        "# Options used in the renewal process\n"
        "[renewalparams]\n"
        "reuse_key = True\n"
        "account = d9f92b58aa6b1d31a9b87a1691121ff8\n"
        "preferred_chain = Pebble Root CA\n"
        "renew_hook = \"/bin/echo hi, there\"\n"
        "config_dir = /etc/letsencrypt\n"
        "work_dir = /var/lib/letsencrypt\n"
        "logs_dir = /var/log/letsencrypt\n"
        "server = https://127.0.0.1:25177/dir\n"
        "authenticator = webroot\n"
        "webroot_path = /var/www/html,\n"
        "key_type = ecdsa\n"
        "[[webroot_map]]\n"
        "a.test = /var/www/html\n"
        "b.test = /var/www/html\n";

/* certbot 2.1.0, --standalone --key-type rsa --rsa-key-size 2048. */
static const char sample_standalone[] =
        "# renew_before_expiry = 30 days\n"
        "version = 2.1.0\n"
        "archive_dir = /etc/letsencrypt/archive/alone\n"
        "cert = /etc/letsencrypt/live/alone/cert.pem\n"
        "privkey = /etc/letsencrypt/live/alone/privkey.pem\n"
        "chain = /etc/letsencrypt/live/alone/chain.pem\n"
        "fullchain = /etc/letsencrypt/live/alone/fullchain.pem\n"
        "\n"
        "# Options used in the renewal process\n"
        "[renewalparams]\n"
        "account = d9f92b58aa6b1d31a9b87a1691121ff8\n"
        "http01_port = 16437\n"
        "http01_address = 127.0.0.1\n"
        "rsa_key_size = 2048\n"
        "key_type = rsa\n"
        "server = https://127.0.0.1:25177/dir\n"
        "authenticator = standalone\n";

static CertbotConf *parse(const char *text) {
        CertbotConf *c = NULL;
        char *error = NULL;
        int r = certbot_conf_parse(text, strlen(text), &c, &error);

        if (r < 0)
                fprintf(stderr, "unexpected parse error %d: %s\n", r, error ? error : "(none)");
        free(error);
        return r < 0 ? NULL : c;
}

/* Parse text that must be refused; returns the error text (free it), checks -EINVAL. */
static char *parse_error(const char *text, size_t len) {
        CertbotConf *c = NULL;
        char *error = NULL;
        int r = certbot_conf_parse(text, len, &c, &error);

        CHECK_INT(r, -EINVAL);
        CHECK(!c);
        CHECK(error);
        return error;
}

static bool error_is(const char *text, const char *want) {
        _cleanup_free_ char *e = parse_error(text, strlen(text));

        if (!e || !strstr(e, want)) {
                fprintf(stderr, "error for %s: \"%s\", wanted \"%s\"\n", text, strna(e), want);
                return false;
        }
        return true;
}

TEST(certbot_sample_webroot) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(sample_webroot);
        const CertbotEntry *e;
        const char *v = NULL;

        REQUIRE(c);
        CHECK_INT(c->n_entries, 19);
        CHECK_INT(strv_length(c->sections), 2);
        CHECK(certbot_conf_has_section(c, "renewalparams"));
        CHECK(certbot_conf_has_section(c, "renewalparams/webroot_map"));
        CHECK(!certbot_conf_has_section(c, "webroot_map"));

        CHECK_INT(certbot_conf_get_string(c, "", "cert", &v), 0);
        CHECK_STR(v, "/etc/letsencrypt/live/web/cert.pem");
        CHECK_INT(certbot_conf_get_string(c, "", "privkey", &v), 0);
        CHECK_STR(v, "/etc/letsencrypt/live/web/privkey.pem");
        /* A top-level key is not one of a section and the other way round. */
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "cert", &v), -ENOENT);
        CHECK_INT(certbot_conf_get_string(c, "", "server", &v), -ENOENT);
        /* The commented-out renew_before_expiry is not there. */
        CHECK(!certbot_conf_find(c, "", "renew_before_expiry"));

        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "server", &v), 0);
        CHECK_STR(v, "https://127.0.0.1:25177/dir");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "preferred_chain", &v), 0);
        CHECK_STR(v, "Pebble Root CA");
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "reuse_key"), 1);

        /* The quoted hook keeps its comma: one scalar. */
        e = certbot_conf_find(c, "renewalparams", "renew_hook");
        REQUIRE(e);
        CHECK(!e->is_list);
        CHECK_INT(strv_length(e->values), 1);
        CHECK_STR(e->values[0], "/bin/echo hi, there");
        CHECK_INT(e->line, 14);

        /* "x," is a list of one, which get_string takes. */
        e = certbot_conf_find(c, "renewalparams", "webroot_path");
        REQUIRE(e);
        CHECK(e->is_list);
        CHECK_INT(strv_length(e->values), 1);
        CHECK_STR(e->values[0], "/var/www/html");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "webroot_path", &v), 0);
        CHECK_STR(v, "/var/www/html");

        CHECK_INT(certbot_conf_get_string(c, "renewalparams/webroot_map", "a.test", &v), 0);
        CHECK_STR(v, "/var/www/html");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams/webroot_map", "b.test", &v), 0);
        CHECK_STR(v, "/var/www/html");
        /* Keys after [[webroot_map]] belong to it, not to [renewalparams]. */
        CHECK(!certbot_conf_find(c, "renewalparams", "a.test"));
        e = certbot_conf_find(c, "renewalparams/webroot_map", "b.test");
        REQUIRE(e);
        CHECK_INT(e->line, 24);
}

TEST(certbot_sample_standalone) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(sample_standalone);
        const char *v = NULL;

        REQUIRE(c);
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "authenticator", &v), 0);
        CHECK_STR(v, "standalone");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "rsa_key_size", &v), 0);
        CHECK_STR(v, "2048");
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "reuse_key"), -ENOENT);
        CHECK(!certbot_conf_has_section(c, "renewalparams/webroot_map"));
}

TEST(lists_and_quotes) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(
                "a = x, y , z\n"
                "b = x, y,\n"
                "c = ,\n"
                "d =\n"
                "e = 'one, two', \"three # four\"\n"
                "f = echo \"hi\" # a comment\n"
                "g = value#comment\n"
                "h = ''\n"
                "i = \"\"\n"
                "'quoted key' = 1\n"
                "\"k=2\" = 2\n"
                "j = , # empty list with a comment\n"
                "k =    spaced    \n");
        const CertbotEntry *e;
        const char *v = NULL;

        REQUIRE(c);
        e = certbot_conf_find(c, "", "a");
        REQUIRE(e);
        CHECK(e->is_list);
        REQUIRE(strv_length(e->values) == 3);
        CHECK_STR(e->values[0], "x");
        CHECK_STR(e->values[1], "y");
        CHECK_STR(e->values[2], "z");
        CHECK_INT(certbot_conf_get_string(c, "", "a", &v), -EINVAL);

        e = certbot_conf_find(c, "", "b");
        REQUIRE(e);
        CHECK(e->is_list);
        CHECK_INT(strv_length(e->values), 2);

        e = certbot_conf_find(c, "", "c");
        REQUIRE(e);
        CHECK(e->is_list);
        CHECK_INT(strv_length(e->values), 0);
        CHECK_INT(certbot_conf_get_string(c, "", "c", &v), -EINVAL);

        CHECK_INT(certbot_conf_get_string(c, "", "d", &v), 0);
        CHECK_STR(v, "");

        e = certbot_conf_find(c, "", "e");
        REQUIRE(e);
        CHECK(e->is_list);
        REQUIRE(strv_length(e->values) == 2);
        CHECK_STR(e->values[0], "one, two");
        CHECK_STR(e->values[1], "three # four");

        CHECK_INT(certbot_conf_get_string(c, "", "f", &v), 0);
        CHECK_STR(v, "echo \"hi\"");
        CHECK_INT(certbot_conf_get_string(c, "", "g", &v), 0);
        CHECK_STR(v, "value");
        CHECK_INT(certbot_conf_get_string(c, "", "h", &v), 0);
        CHECK_STR(v, "");
        CHECK_INT(certbot_conf_get_string(c, "", "i", &v), 0);
        CHECK_STR(v, "");
        CHECK_INT(certbot_conf_get_string(c, "", "quoted key", &v), 0);
        CHECK_STR(v, "1");
        CHECK_INT(certbot_conf_get_string(c, "", "k=2", &v), 0);
        CHECK_STR(v, "2");
        e = certbot_conf_find(c, "", "j");
        REQUIRE(e);
        CHECK(e->is_list && strv_length(e->values) == 0);
        CHECK_INT(certbot_conf_get_string(c, "", "k", &v), 0);
        CHECK_STR(v, "spaced");
}

TEST(triple_quotes) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(
                "a = '''one, 'two' # three''' # comment\n"
                "b = \"\"\"first\n"
                "  second, with \"quotes\"\n"
                "last\"\"\"\n"
                "c = after\n");
        const CertbotEntry *e;
        const char *v = NULL;

        REQUIRE(c);
        CHECK_INT(certbot_conf_get_string(c, "", "a", &v), 0);
        CHECK_STR(v, "one, 'two' # three");
        e = certbot_conf_find(c, "", "b");
        REQUIRE(e);
        CHECK(!e->is_list);
        CHECK_STR(e->values[0], "first\n  second, with \"quotes\"\nlast");
        CHECK_INT(e->line, 2);
        e = certbot_conf_find(c, "", "c");
        REQUIRE(e);
        CHECK_INT(e->line, 5);
}

TEST(sections_nest_and_return) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(
                "\xef\xbb\xbf" "top = 1\r\n"
                "  [ one ]  # comment\r\n"
                "    x = 1\r\n"
                "  [[sub]]\r\n"
                "    y = 2\r\n"
                "  [[[deeper]]]\r\n"
                "    z = 3\r\n"
                "[two]\r\n"
                "x = 4\r\n"
                "[[sub]]\r\n"
                "y = 5\r\n"
                "[ [ 'quoted name' ] ]\r\n"
                "q = 6\r\n"
                "[[a]b]]\r\n"
                "w = 7\r\n");
        const char *v = NULL;

        REQUIRE(c);
        CHECK_INT(strv_length(c->sections), 7);
        CHECK_INT(certbot_conf_get_string(c, "", "top", &v), 0);
        CHECK_STR(v, "1");
        CHECK_INT(certbot_conf_get_string(c, "one", "x", &v), 0);
        CHECK_STR(v, "1");
        CHECK_INT(certbot_conf_get_string(c, "one/sub", "y", &v), 0);
        CHECK_STR(v, "2");
        CHECK_INT(certbot_conf_get_string(c, "one/sub/deeper", "z", &v), 0);
        CHECK_STR(v, "3");
        CHECK_INT(certbot_conf_get_string(c, "two", "x", &v), 0);
        CHECK_STR(v, "4");
        CHECK_INT(certbot_conf_get_string(c, "two/sub", "y", &v), 0);
        CHECK_STR(v, "5");
        CHECK_INT(certbot_conf_get_string(c, "two/quoted name", "q", &v), 0);
        CHECK_STR(v, "6");
        /* configobj's non-greedy name: "[[a]b]]" is the section "a]b". */
        CHECK_INT(certbot_conf_get_string(c, "two/a]b", "w", &v), 0);
        CHECK_STR(v, "7");
}

TEST(booleans) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(
                "[renewalparams]\n"
                "a = True\nb = FALSE\nc = yes\nd = 1\ne = true,\nf = True, False\n");

        REQUIRE(c);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "a"), 1);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "b"), 0);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "c"), -EINVAL);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "d"), -EINVAL);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "e"), 1);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "f"), -EINVAL);
        CHECK_INT(certbot_conf_get_bool(c, "renewalparams", "missing"), -ENOENT);
        CHECK_INT(certbot_conf_get_bool(c, "other", "a"), -ENOENT);
}

TEST(empty_and_comments_only) {
        _cleanup_(certbot_conf_freep) CertbotConf *a = parse("");
        _cleanup_(certbot_conf_freep) CertbotConf *b = parse("# only\n\n   # comments\n\t\n");
        CertbotConf *c = NULL;

        REQUIRE(a && b);
        CHECK_INT(a->n_entries, 0);
        CHECK_INT(b->n_entries, 0);
        CHECK(!certbot_conf_find(a, "", "x"));
        /* NULL text of length 0 is the empty file; ret_error may be NULL. */
        CHECK_INT(certbot_conf_parse(NULL, 0, &c, NULL), 0);
        CHECK(c && c->n_entries == 0);
        certbot_conf_free(c);
        CHECK(!certbot_conf_free(NULL));
        CHECK_INT(certbot_conf_parse(NULL, 1, &c, NULL), -EINVAL);
}

TEST(unterminated_sections) {
        CHECK(error_is("[renewalparams\nx = 1\n", "line 1: unterminated section header"));
        CHECK(error_is("a = 1\n[renewalparams # comment\n", "line 2: unterminated section header"));
        CHECK(error_is("[\n", "line 1: unterminated section header"));
        CHECK(error_is("[]\n", "line 1: unterminated section header"));
        CHECK(error_is("['x\n", "unterminated quote"));
        CHECK(error_is("[' ']\n", "empty section name"));
        CHECK(error_is("[a]]\n", "1 '[' but 2 ']'"));
        CHECK(error_is("[[a]\n", "2 '[' but 1 ']'"));
        CHECK(error_is("[a] x\n", "unterminated section header"));
        /* A subsection needs its parent: [[webroot_map]] at the top is too deep. */
        CHECK(error_is("[[webroot_map]]\n", "line 1: section [webroot_map] is nested more deeply"));
        CHECK(error_is("[a]\n[[[b]]]\n", "line 2: section [b] is nested more deeply"));
}

TEST(duplicates) {
        CHECK(error_is("a = 1\nb = 2\na = 3\n", "line 3: key a given twice (first on line 1)"));
        CHECK(error_is("[renewalparams]\nserver = x\nserver = y\n", "line 3: key server given twice"));
        CHECK(error_is("[renewalparams]\n[[webroot_map]]\na.test = /a\na.test = /b\n",
                       "line 4: key a.test given twice"));
        CHECK(error_is("[renewalparams]\n[other]\n[renewalparams]\n", "line 3: section [renewalparams] given twice"));
        CHECK(error_is("[a]\n[[m]]\n[[m]]\n", "line 3: section [m] given twice"));
        CHECK(error_is("[a]\nm = 1\n[[m]]\n", "line 3: section [m] has the name of a key"));
        CHECK(error_is("'a' = 1\na = 2\n", "line 2: key a given twice"));
}

TEST(same_names_in_different_sections) {
        _cleanup_(certbot_conf_freep) CertbotConf *c = parse(
                "server = top\n[renewalparams]\nserver = inner\n[[webroot_map]]\nserver = map\n"
                "[other]\n[[webroot_map]]\nserver = other\n");
        const char *v = NULL;

        REQUIRE(c);
        CHECK_INT(certbot_conf_get_string(c, "", "server", &v), 0);
        CHECK_STR(v, "top");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams", "server", &v), 0);
        CHECK_STR(v, "inner");
        CHECK_INT(certbot_conf_get_string(c, "renewalparams/webroot_map", "server", &v), 0);
        CHECK_STR(v, "map");
        CHECK_INT(certbot_conf_get_string(c, "other/webroot_map", "server", &v), 0);
        CHECK_STR(v, "other");
}

TEST(garbage) {
        static const char nul[] = "a = 1\nb = x\0y\n";
        static const char binary[] = { 'a', ' ', '=', ' ', (char) 0xff, (char) 0xfe, 0x1b, '[', '2', 'J', '\n' };
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *big = NULL;
        CertbotConf *c = NULL;
        char *error = NULL;

        CHECK(error_is("just some text\n", "line 1: neither a section header, nor key = value, nor a comment"));
        CHECK(error_is("a = 1\n= value\n", "line 2: empty key"));
        CHECK(error_is("'' = value\n", "empty key"));
        CHECK(error_is("'a = 1\n", "unterminated quote in a key"));
        CHECK(error_is("'a' 1\n", "no '=' after the key"));
        CHECK(error_is("a = 'open\n", "line 1: unterminated quote"));
        CHECK(error_is("a = \"x\" y\n", "text after a quoted value"));
        CHECK(error_is("a = x,,y\n", "empty item in a list"));
        CHECK(error_is("a = , x\n", "a list that starts with ','"));
        CHECK(error_is("a = '''never closed\nb = 1\n", "line 1: unterminated ''' value"));
        CHECK(error_is("a = '''x''' y\n", "text after the closing '''"));
        CHECK(error_is("a = 1\nb = \"\"\"x\ny\"\"\" z\n", "line 3: text after the closing \"\"\""));
        CHECK(error_is("a = 1\rb = 2\n", "line 1: control character 0x0d"));

        e1 = parse_error(nul, sizeof nul - 1);
        CHECK(e1 && streq(e1, "line 2: NUL byte"));
        e2 = parse_error(binary, sizeof binary);
        CHECK(e2 && strstr(e2, "control character 0x1b"));

        big = malloc(CERTBOT_CONF_SIZE_MAX + 1);
        REQUIRE(big);
        memset(big, '#', CERTBOT_CONF_SIZE_MAX + 1);
        CHECK_INT(certbot_conf_parse(big, CERTBOT_CONF_SIZE_MAX + 1, &c, &error), -E2BIG);
        CHECK(!c);
        CHECK(error && strstr(error, "larger than"));
        free(error);
        error = NULL;
        /* Exactly the limit is fine. */
        CHECK_INT(certbot_conf_parse(big, CERTBOT_CONF_SIZE_MAX, &c, &error), 0);
        CHECK(!error);
        certbot_conf_free(c);
}

TEST(too_deep) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);

        REQUIRE(f);
        for (unsigned d = 1; d <= CERTBOT_CONF_DEPTH_MAX + 1; d++) {
                for (unsigned i = 0; i < d; i++)
                        fputc('[', f);
                fprintf(f, "s%u", d);
                for (unsigned i = 0; i < d; i++)
                        fputc(']', f);
                fputc('\n', f);
        }
        fclose(f);
        CHECK(error_is(text, "nested more than 16 deep"));
}

TEST_MAIN(T(certbot_sample_webroot), T(certbot_sample_standalone), T(lists_and_quotes), T(triple_quotes),
          T(sections_nest_and_return), T(booleans), T(empty_and_comments_only), T(unterminated_sections),
          T(duplicates), T(same_names_in_different_sections), T(garbage), T(too_deep))
