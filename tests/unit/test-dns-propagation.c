/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "dns-fake.h"
#include "dns-propagation.h"
#include "test.h"

#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define FQDN "_acme-challenge.www.x.test"
#define LIMIT (60 * USEC_PER_SEC)
#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

typedef struct Result {
        bool done;
        unsigned calls;
        int error;
        char text[1024];
        char name[256];
        char servers[256];
} Result;

static void on_done(DnsPropagation *p, int error, void *userdata) {
        Result *res = userdata;
        const DnsServer *s;
        size_t n = 0;

        res->done = true;
        res->calls++;
        res->error = error;
        snprintf(res->text, sizeof res->text, "%s", dns_propagation_error_text(p));
        snprintf(res->name, sizeof res->name, "%s", dns_propagation_name(p));
        s = dns_propagation_servers(p, &n);
        res->servers[0] = 0;
        for (size_t i = 0; i < n; i++) {
                char buf[DNS_SERVER_STRING_MAX];
                size_t l = strlen(res->servers);
                snprintf(res->servers + l, sizeof res->servers - l, "%s%s", i ? " " : "", dns_server_to_string(&s[i], buf));
        }
}

typedef struct Fixture {
        sd_event *event;
        FakeDns a, b;
        char *dir, *resolv_conf;
        DnsPropagationOptions opts;
} Fixture;

static bool fixture_setup(Fixture *f) {
        FILE *fp;

        *f = (Fixture) { .opts.query = { .timeout_usec = 2 * USEC_PER_SEC, .attempts = 2 } };
        if (sd_event_new(&f->event) < 0 || fake_dns_start(&f->a, f->event) < 0 || fake_dns_start(&f->b, f->event) < 0)
                return false;
        fake_add_zone(&f->a, "x.test");
        fake_add_zone(&f->b, "x.test");
        /* Discovery goes through a, the "resolver", which also serves as the zone's
         * name server ns.x.test (127.0.0.1, asked on a's port). */
        f->dir = test_tmpdir();
        if (!f->dir || asprintf(&f->resolv_conf, "%s/resolv.conf", f->dir) < 0)
                return false;
        fp = fopen(f->resolv_conf, "we");
        if (!fp)
                return false;
        fprintf(fp, "# test\nnameserver [127.0.0.1]:%u\n", f->a.port);
        fclose(fp);
        f->opts.resolv_conf = f->resolv_conf;
        f->opts.authoritative_port = f->a.port;
        return true;
}

static void fixture_done(Fixture *f) {
        fake_dns_stop(&f->a);
        fake_dns_stop(&f->b);
        f->event = sd_event_unref(f->event);
        test_tmpdir_freep(&f->dir);
        f->resolv_conf = mfree(f->resolv_conf);
}

static void run(Fixture *f, const char *fqdn, char **servers, uint64_t timeout, Result *res) {
        _cleanup_(dns_propagation_freep) DnsPropagation *p = NULL;

        *res = (Result) {};
        REQUIRE(dns_propagation_start_full(f->event, fqdn, VALUE, servers, timeout, &f->opts, on_done, res, &p) == 0);
        CHECK(!res->done);
        CHECK_INT(fake_run_until(f->event, &res->done, LIMIT), 0);
        CHECK_INT(res->calls, 1);
}

TEST(given_servers_have_it) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        fake_add(&f.a, FQDN, DNS_TYPE_TXT, "an older value");
        fake_add(&f.a, FQDN, DNS_TYPE_TXT, VALUE);
        fake_add(&f.b, FQDN, DNS_TYPE_TXT, VALUE);
        char *servers[] = { f.a.address, f.b.address, NULL };
        run(&f, FQDN, servers, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.text, "no error");
        CHECK_STR(res.name, FQDN);
        CHECK_INT(f.a.txt_queries, 1);
        CHECK_INT(f.b.txt_queries, 1);
        fixture_done(&f);
}

TEST(waits_for_the_slow_one) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        fake_add(&f.a, FQDN, DNS_TYPE_TXT, VALUE);
        /* b gets the record when it answers its third question. */
        f.b.add_txt_name = FQDN;
        f.b.add_txt_value = VALUE;
        f.b.add_after_queries = 3;
        char *servers[] = { f.a.address, f.b.address, NULL };
        run(&f, FQDN, servers, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        CHECK_INT(f.a.txt_queries, 1); /* not asked again once it had it */
        CHECK_INT(f.b.txt_queries, 3);
        fixture_done(&f);
}

TEST(timeout_names_the_laggards) {
        Fixture f;
        Result res;
        char want[1024];

        REQUIRE(fixture_setup(&f));
        fake_add(&f.a, FQDN, DNS_TYPE_TXT, VALUE);
        fake_add(&f.b, FQDN, DNS_TYPE_TXT, "stale");
        char *servers[] = { f.a.address, f.b.address, NULL };
        run(&f, FQDN, servers, 2 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ETIME);
        snprintf(want, sizeof want,
                 "the TXT record at " FQDN " did not have the value on 1 of 2 servers within 2 s: %s (other TXT values only)",
                 f.b.address);
        CHECK_STR(res.text, want);
        CHECK(f.b.txt_queries >= 2); /* it was polled, not asked once */

        /* One round only, with a name the server does not know and one that is dead. */
        f.a.drop = true;
        f.opts.query = (DnsQueryOptions) { .timeout_usec = 1 * USEC_PER_SEC, .attempts = 1 };
        char *servers2[] = { f.b.address, f.a.address, NULL };
        run(&f, "_acme-challenge.nowhere.x.test", servers2, 0, &res);
        CHECK_INT(res.error, -ETIME);
        snprintf(want, sizeof want,
                 "the TXT record at _acme-challenge.nowhere.x.test did not have the value on 2 of 2 servers: "
                 "%s (no such name), %s (no answer)",
                 f.b.address, f.a.address);
        CHECK_STR(res.text, want);
        fixture_done(&f);
}

TEST(discovers_the_name_servers) {
        Fixture f;
        Result res;
        char want[64];

        REQUIRE(fixture_setup(&f));
        fake_add(&f.a, FQDN, DNS_TYPE_TXT, VALUE);
        run(&f, FQDN, NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        snprintf(want, sizeof want, "127.0.0.1:%u", f.a.port);
        CHECK_STR(res.servers, want);
        /* NXDOMAIN named the zone in its authority section: one SOA question. */
        CHECK_INT(f.a.soa_queries, 1);
        fixture_done(&f);
}

TEST(discovery_walks_up) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        f.a.no_authority = true;
        fake_add_zone(&f.a, "sub.x.test");
        fake_add(&f.a, "_acme-challenge.www.deep.sub.x.test", DNS_TYPE_TXT, VALUE);
        run(&f, "_acme-challenge.www.deep.sub.x.test", NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        /* _acme-challenge.www.deep.sub.x.test, www.deep.sub.x.test, deep.sub.x.test, sub.x.test */
        CHECK_INT(f.a.soa_queries, 4);
        fixture_done(&f);
}

TEST(follows_a_cname_once) {
        Fixture f;
        Result res;
        char want[512];

        REQUIRE(fixture_setup(&f));
        /* _acme-challenge delegated to another zone (on the same server here). */
        fake_add_zone(&f.a, "d.test");
        fake_add(&f.a, FQDN, DNS_TYPE_CNAME, "www.x.test.acme.d.test");
        fake_add(&f.a, "www.x.test.acme.d.test", DNS_TYPE_TXT, VALUE);
        run(&f, FQDN, NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.name, "www.x.test.acme.d.test");

        /* With given servers, the CNAME shows up in their answer: followed as well. */
        char *servers[] = { f.a.address, NULL };
        run(&f, FQDN, servers, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        CHECK_STR(res.name, "www.x.test.acme.d.test");

        /* Only once: a CNAME at the target is not followed further. */
        fake_remove(&f.a, "www.x.test.acme.d.test", DNS_TYPE_TXT, VALUE);
        fake_add(&f.a, "www.x.test.acme.d.test", DNS_TYPE_CNAME, "again.d.test");
        fake_add(&f.a, "again.d.test", DNS_TYPE_TXT, VALUE);
        run(&f, FQDN, servers, 2 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ETIME);
        snprintf(want, sizeof want,
                 "the TXT record at www.x.test.acme.d.test (the CNAME target of " FQDN ") did not have the value on 1 of 1 "
                 "servers within 2 s: %s (no TXT record)",
                 f.a.address);
        CHECK_STR(res.text, want);
        fixture_done(&f);
}

TEST(given_server_names) {
        Fixture f;
        Result res;
        char server[64], want[64];

        REQUIRE(fixture_setup(&f));
        fake_add(&f.b, FQDN, DNS_TYPE_TXT, VALUE);
        fake_add(&f.a, "ns2.x.test", DNS_TYPE_A, "127.0.0.1");
        snprintf(server, sizeof server, "NS2.x.test:%u", f.b.port);
        char *servers[] = { server, NULL };
        run(&f, FQDN, servers, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, 0);
        snprintf(want, sizeof want, "127.0.0.1:%u", f.b.port);
        CHECK_STR(res.servers, want);

        snprintf(server, sizeof server, "ns3.x.test:%u", f.b.port);
        run(&f, FQDN, servers, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ENOENT);
        CHECK_STR(res.text, "looking up the servers to poll: ns3.x.test has no address: no such name (NXDOMAIN)");
        fixture_done(&f);
}

TEST(discovery_failures) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        /* No zone anywhere: the resolver refuses. */
        run(&f, "_acme-challenge.nowhere.test", NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -EACCES);
        CHECK(strstr(res.text, "finding the zone of _acme-challenge.nowhere.test: ") != NULL);
        CHECK(strstr(res.text, "answered REFUSED for _acme-challenge.nowhere.test SOA") != NULL);

        /* Name servers without addresses. */
        fake_add(&f.a, "y.test", DNS_TYPE_SOA, "ns.y.test");
        fake_add(&f.a, "y.test", DNS_TYPE_NS, "ns1.y.test");
        fake_add(&f.a, "y.test", DNS_TYPE_NS, "ns2.y.test");
        run(&f, "_acme-challenge.y.test", NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ENOENT);
        CHECK_STR(res.text, "finding the addresses of the name servers of y.test: ns1.y.test has no address: "
                            "no such name (NXDOMAIN) (and the other name servers failed too)");

        /* A zone without NS records. */
        fake_add(&f.a, "z.test", DNS_TYPE_SOA, "ns.z.test");
        run(&f, "_acme-challenge.z.test", NULL, 30 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ENODATA);
        CHECK_STR(res.text, "the zone z.test has no NS records");

        /* The resolver never answers: the deadline ends the search. */
        f.a.drop = true;
        run(&f, FQDN, NULL, 1 * USEC_PER_SEC, &res);
        CHECK_INT(res.error, -ETIME);
        CHECK_STR(res.text, "the TXT record at " FQDN ": the authoritative servers of " FQDN " were not found within 1 s");
        fixture_done(&f);
}

TEST(bad_arguments_and_free) {
        Fixture f;
        Result res = {};
        DnsPropagation *p = NULL;
        bool never = false;

        REQUIRE(fixture_setup(&f));
        char *bad[] = { (char *) "not a server", NULL };
        CHECK_INT(dns_propagation_start(f.event, FQDN, VALUE, bad, USEC_PER_SEC, on_done, &res, &p), -EINVAL);
        CHECK_INT(dns_propagation_start(f.event, ".", VALUE, NULL, USEC_PER_SEC, on_done, &res, &p), -EINVAL);
        CHECK_INT(dns_propagation_start(f.event, "a..b", VALUE, NULL, USEC_PER_SEC, on_done, &res, &p), -EINVAL);
        CHECK(!p);

        char *servers[] = { f.a.address, NULL };
        REQUIRE(dns_propagation_start(f.event, FQDN, VALUE, servers, 10 * USEC_PER_SEC, on_done, &res, &p) == 0);
        CHECK(!dns_propagation_free(p));
        CHECK_INT(fake_run_until(f.event, &never, 300 * USEC_PER_MSEC), -ETIMEDOUT);
        CHECK_INT(res.calls, 0);
        fixture_done(&f);
}

TEST_MAIN(T(given_servers_have_it), T(waits_for_the_slow_one), T(timeout_names_the_laggards), T(discovers_the_name_servers),
          T(discovery_walks_up), T(follows_a_cname_once), T(given_server_names), T(discovery_failures),
          T(bad_arguments_and_free));
