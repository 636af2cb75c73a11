/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "dns-fake.h"
#include "dns-update.h"
#include "test.h"

#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define FQDN "_acme-challenge.x.test"
#define LIMIT (30 * USEC_PER_SEC)
#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t other_secret[32] = "fedcba9876543210fedcba9876543210";

typedef struct Fixture {
        sd_event *event;
        FakeDns fake;
        TsigKey *key;
        DnsUpdateOptions opts;
} Fixture;

typedef struct Result {
        bool done;
        unsigned calls;
        int error;
        char text[512];
        char zone[256];
} Result;

static bool fixture_setup(Fixture *f) {
        *f = (Fixture) { .opts.query = { .timeout_usec = 2 * USEC_PER_SEC, .attempts = 2 } };
        if (sd_event_new(&f->event) < 0 || fake_dns_start(&f->fake, f->event) < 0)
                return false;
        fake_add_zone(&f->fake, "x.test");
        fake_add(&f->fake, "www.x.test", DNS_TYPE_A, "192.0.2.80");
        return tsig_key_new("update-key", secret, sizeof secret, &f->key) == 0 &&
               tsig_key_copy(f->key, &f->fake.key) == 0;
}

static void fixture_done(Fixture *f) {
        fake_dns_stop(&f->fake);
        f->key = tsig_key_free(f->key);
        f->event = sd_event_unref(f->event);
}

static void on_done(DnsUpdate *u, int error, void *userdata) {
        Result *res = userdata;

        res->done = true;
        res->calls++;
        res->error = error;
        snprintf(res->text, sizeof res->text, "%s", dns_update_error_text(u));
        snprintf(res->zone, sizeof res->zone, "%s", strna(dns_update_zone(u)));
}

/* Run one update to completion against server (the fake's address when NULL). */
static void run_update(Fixture *f, const char *server, const char *fqdn, DnsTxtChange change, Result *res) {
        _cleanup_(dns_update_freep) DnsUpdate *u = NULL;

        *res = (Result) {};
        REQUIRE(dns_update_txt_full(f->event, server ?: f->fake.address, f->key, fqdn, VALUE, change, &f->opts, on_done,
                                    res, &u) == 0);
        CHECK(!res->done);
        CHECK_INT(fake_run_until(f->event, &res->done, LIMIT), 0);
        CHECK_INT(res->calls, 1);
        /* The secret's bytes never show up in a text. */
        CHECK(!strstr(res->text, "0123456789abcdef"));
}

/* "the server 127.0.0.1:PORT refused the update of FQDN: " + rest */
static const char *refused_text(const Fixture *f, const char *rest) {
        static char buf[512];
        snprintf(buf, sizeof buf, "the server %s refused the update of " FQDN ": %s", f->fake.address, rest);
        return buf;
}

TEST(add_and_delete) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.text, "no error");
        CHECK_STR(res.zone, "x.test");
        CHECK(fake_has(&f.fake, FQDN, DNS_TYPE_TXT, VALUE));
        CHECK_INT(f.fake.soa_queries, 1);
        CHECK_INT(f.fake.updates, 1);

        /* Adding again is harmless. */
        run_update(&f, NULL, "_ACME-Challenge.X.test.", DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);

        run_update(&f, NULL, FQDN, DNS_TXT_DELETE, &res);
        CHECK_INT(res.error, 0);
        CHECK(!fake_has(&f.fake, FQDN, DNS_TYPE_TXT, NULL));
        CHECK(fake_has(&f.fake, "www.x.test", DNS_TYPE_A, NULL));
        fixture_done(&f);
}

TEST(zone_from_answer_or_authority) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        /* At the apex, the SOA is the answer. */
        run_update(&f, NULL, "x.test", DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.zone, "x.test");
        CHECK(fake_has(&f.fake, "x.test", DNS_TYPE_TXT, VALUE));
        /* A name that exists with other data: NODATA, the SOA in the authority section. */
        run_update(&f, NULL, "www.x.test", DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.zone, "x.test");
        /* A sub-zone on the same server is found as such. */
        fake_add_zone(&f.fake, "sub.x.test");
        run_update(&f, NULL, "_acme-challenge.www.sub.x.test", DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.zone, "sub.x.test");

        /* No SOA in the answer at all. */
        f.fake.no_authority = true;
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -ENOENT);
        CHECK(strstr(res.text, "finding the zone of " FQDN ": the server 127.0.0.1:") != NULL);
        CHECK(strstr(res.text, "named no zone containing it in its SOA answer") != NULL);
        /* A name the server has no zone for. */
        f.fake.no_authority = false;
        run_update(&f, NULL, "_acme-challenge.elsewhere.test", DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EACCES);
        CHECK(strstr(res.text, "answered REFUSED to the SOA query") != NULL);
        fixture_done(&f);
}

TEST(tsig_errors) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));

        /* The server does not know the key. */
        f.fake.key = tsig_key_free(f.fake.key);
        REQUIRE(tsig_key_new("another-key", secret, sizeof secret, &f.fake.key) == 0);
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -ENOKEY);
        CHECK_STR(res.text, refused_text(&f, "NOTAUTH (TSIG key not accepted: BADKEY)"));
        CHECK(!fake_has(&f.fake, FQDN, DNS_TYPE_TXT, NULL));

        /* The server knows it with another secret. */
        f.fake.key = tsig_key_free(f.fake.key);
        REQUIRE(tsig_key_new("update-key", other_secret, sizeof other_secret, &f.fake.key) == 0);
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EKEYREJECTED);
        CHECK_STR(res.text, refused_text(&f, "NOTAUTH (TSIG signature not accepted, is the secret right?: BADSIG)"));
        CHECK(!fake_has(&f.fake, FQDN, DNS_TYPE_TXT, NULL));

        /* The server's clock disagrees (it signs its BADTIME answer). */
        f.fake.key = tsig_key_free(f.fake.key);
        REQUIRE(tsig_key_copy(f.key, &f.fake.key) == 0);
        f.fake.force_tsig_error = DNS_RCODE_BADTIME;
        run_update(&f, NULL, FQDN, DNS_TXT_DELETE, &res);
        CHECK_INT(res.error, -EKEYEXPIRED);
        CHECK_STR(res.text, refused_text(&f, "NOTAUTH (TSIG time not accepted, are the clocks right?: BADTIME)"));
        fixture_done(&f);
}

TEST(rcodes) {
        static const struct {
                int rcode, error;
                const char *text;
        } cases[] = {
                { DNS_RCODE_REFUSED, -EACCES, "REFUSED (the server's policy does not allow this update of zone x.test)" },
                { DNS_RCODE_NOTAUTH, -EPERM, "NOTAUTH (the server is not authoritative for zone x.test)" },
                { DNS_RCODE_NOTZONE, -EPROTO, "NOTZONE (the name is not in zone x.test)" },
                { DNS_RCODE_SERVFAIL, -EIO, "SERVFAIL (the server failed to apply it)" },
                { DNS_RCODE_FORMERR, -EBADMSG, "FORMERR (the server could not parse the update)" },
                { DNS_RCODE_NOTIMP, -EOPNOTSUPP, "NOTIMP (the server does not support dynamic updates)" },
                { DNS_RCODE_YXRRSET, -EEXIST, "YXRRSET" },
                { 12, -EPROTO, "RCODE 12" },
        };
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                f.fake.force_rcode = cases[i].rcode;
                run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
                CHECK_INT(res.error, cases[i].error);
                CHECK_STR(res.text, refused_text(&f, cases[i].text));
        }

        /* An unsigned refusal is believed (it can only make us fail), and says so. */
        f.fake.force_rcode = DNS_RCODE_REFUSED;
        f.fake.update_unsigned = true;
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EACCES);
        CHECK_STR(res.text, refused_text(&f, "REFUSED (the server's policy does not allow this update of zone x.test); "
                                             "the answer was not signed"));
        fixture_done(&f);
}

TEST(untrusted_answers) {
        Fixture f;
        Result res;
        char want[512];

        REQUIRE(fixture_setup(&f));

        /* Success without a signature is not believed. */
        f.fake.update_unsigned = true;
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EBADMSG);
        snprintf(want, sizeof want, "the server %s answered the update of " FQDN " without a TSIG signature; not trusting it",
                 f.fake.address);
        CHECK_STR(res.text, want);

        /* Nor signed with another key... */
        f.fake.update_unsigned = false;
        REQUIRE(tsig_key_new("stranger", other_secret, sizeof other_secret, &f.fake.sign_key) == 0);
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EBADMSG);
        snprintf(want, sizeof want, "the answer of the server %s to the update of " FQDN " is signed with another key; not trusting it",
                 f.fake.address);
        CHECK_STR(res.text, want);

        /* ...or with our key's name and another secret... */
        f.fake.sign_key = tsig_key_free(f.fake.sign_key);
        REQUIRE(tsig_key_new("update-key", other_secret, sizeof other_secret, &f.fake.sign_key) == 0);
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EBADMSG);
        CHECK(strstr(res.text, "has a TSIG signature that does not verify; not trusting it") != NULL);

        /* ...or at a time far off. */
        f.fake.sign_key = tsig_key_free(f.fake.sign_key);
        f.fake.time_offset = -1000;
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, -EBADMSG);
        CHECK(strstr(res.text, "has a TSIG time more than 300 s off (are the clocks right?); not trusting it") != NULL);
        fixture_done(&f);
}

TEST(transport) {
        Fixture f;
        Result res;
        char want[512];

        REQUIRE(fixture_setup(&f));

        /* Truncated answers: both exchanges go over TCP. */
        f.fake.truncate_udp = true;
        run_update(&f, NULL, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK_INT(f.fake.tcp_queries, 2);
        CHECK(fake_has(&f.fake, FQDN, DNS_TYPE_TXT, VALUE));

        /* Silence. */
        f.fake.truncate_udp = false;
        f.fake.drop = true;
        f.opts.query = (DnsQueryOptions) { .timeout_usec = 100 * USEC_PER_MSEC, .attempts = 2 };
        run_update(&f, NULL, FQDN, DNS_TXT_DELETE, &res);
        CHECK_INT(res.error, -ETIMEDOUT);
        snprintf(want, sizeof want, "finding the zone of " FQDN ": no answer from %s after 2 attempts", f.fake.address);
        CHECK_STR(res.text, want);
        fixture_done(&f);
}

TEST(server_by_name) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *conf = NULL, *server = NULL;
        Fixture f;
        Result res;
        FILE *fp;

        REQUIRE(dir);
        REQUIRE(fixture_setup(&f));
        REQUIRE(asprintf(&conf, "%s/resolv.conf", dir) > 0);
        fp = fopen(conf, "we");
        REQUIRE(fp);
        fprintf(fp, "nameserver [127.0.0.1]:%u\n", f.fake.port);
        fclose(fp);
        f.opts.resolv_conf = conf;

        REQUIRE(asprintf(&server, "NS.x.test:%u", f.fake.port) > 0);
        run_update(&f, server, FQDN, DNS_TXT_ADD, &res);
        CHECK_INT(res.error, 0);
        CHECK(fake_has(&f.fake, FQDN, DNS_TYPE_TXT, VALUE));

        free(server);
        REQUIRE(asprintf(&server, "nope.x.test:%u", f.fake.port) > 0);
        run_update(&f, server, FQDN, DNS_TXT_DELETE, &res);
        CHECK_INT(res.error, -ENOENT);
        CHECK_STR(res.text, "looking up the update server nope.x.test: nope.x.test has no address: no such name (NXDOMAIN)");
        CHECK(fake_has(&f.fake, FQDN, DNS_TYPE_TXT, VALUE));
        fixture_done(&f);
}

TEST(bad_arguments_and_free) {
        Fixture f;
        Result res = {};
        DnsUpdate *u = NULL;
        bool never = false;

        REQUIRE(fixture_setup(&f));
        static const char *const bad_servers[] = { "", "not a server", "127.0.0.1:0", "[::1", "host:99999" };
        for (size_t i = 0; i < ELEMENTSOF(bad_servers); i++)
                CHECK_INT(dns_update_txt(f.event, bad_servers[i], f.key, FQDN, VALUE, DNS_TXT_ADD, on_done, &res, &u), -EINVAL);
        CHECK_INT(dns_update_txt(f.event, f.fake.address, f.key, ".", VALUE, DNS_TXT_ADD, on_done, &res, &u), -EINVAL);
        CHECK_INT(dns_update_txt(f.event, f.fake.address, f.key, "a..b", VALUE, DNS_TXT_ADD, on_done, &res, &u), -EINVAL);
        CHECK_INT(dns_update_txt(f.event, f.fake.address, NULL, FQDN, VALUE, DNS_TXT_ADD, on_done, &res, &u), -EINVAL);
        CHECK_INT(dns_update_txt(f.event, f.fake.address, f.key, FQDN, VALUE, _DNS_TXT_CHANGE_MAX, on_done, &res, &u),
                  -EINVAL);
        CHECK(!u);

        /* Freed while running: no callback, nothing changed. */
        f.fake.drop = true;
        REQUIRE(dns_update_txt(f.event, f.fake.address, f.key, FQDN, VALUE, DNS_TXT_ADD, on_done, &res, &u) == 0);
        CHECK(!dns_update_free(u));
        CHECK_INT(fake_run_until(f.event, &never, 300 * USEC_PER_MSEC), -ETIMEDOUT);
        CHECK_INT(res.calls, 0);
        fixture_done(&f);
}

TEST_MAIN(T(add_and_delete), T(zone_from_answer_or_authority), T(tsig_errors), T(rcodes), T(untrusted_answers),
          T(transport), T(server_by_name), T(bad_arguments_and_free));
