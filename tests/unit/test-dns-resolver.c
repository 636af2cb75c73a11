/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>

#include "dns-fake.h"
#include "dns-resolver.h"
#include "test.h"

#define LIMIT (30 * USEC_PER_SEC)
#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

static const char *server_string(const DnsServer *s) {
        static char buf[DNS_SERVER_STRING_MAX];
        return dns_server_to_string(s, buf);
}

TEST(resolv_conf_parse) {
        static const char text[] =
                "# written by NetworkManager\n"
                "search example.com\n"
                "nameserver 192.0.2.53\n"
                "; a comment\n"
                "  nameserver\t2001:db8::1   # trailing words are ignored\n"
                "nameserver fe80::1%eth0\n"            /* scoped: skipped */
                "nameserver not-an-address\n"
                "nameserver\n"
                "nameservers 192.0.2.99\n"
                "#nameserver 192.0.2.98\n"
                "options edns0 trust-ad\n"
                "nameserver [127.0.0.1]:5353\r\n"
                "nameserver 192.0.2.54\n";             /* a fourth: ignored, as glibc does */
        _cleanup_free_ DnsServer *s = NULL;

        CHECK_INT(dns_resolv_conf_parse(text, strlen(text), &s), 3);
        REQUIRE(s);
        CHECK_STR(server_string(&s[0]), "192.0.2.53:53");
        CHECK_STR(server_string(&s[1]), "[2001:db8::1]:53");
        CHECK_STR(server_string(&s[2]), "127.0.0.1:5353");

        static const char *const none[] = {
                "", "\n\n", "nameserver [::1]:0\n", "nameserver [::1]:99999\n", "nameserver [::1\n", "nameserver [::1]x\n",
                "nameserver ::1]:53\n", "search nameserver\n", "nameserver 1.2.3.4.5\n", "nameserver [::1]:+53\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(none); i++) {
                DnsServer *n = NULL;

                CHECK_INT(dns_resolv_conf_parse(none[i], strlen(none[i]), &n), 0);
                CHECK(!n);
        }
        /* The last line without a newline counts; a NUL ends nothing early. */
        static const char tail[] = "nameserver 10.0.0.1";
        DnsServer *t = NULL;
        CHECK_INT(dns_resolv_conf_parse(tail, strlen(tail), &t), 1);
        free(t);
}

TEST(resolv_conf_load) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *path = NULL, *missing = NULL;
        _cleanup_free_ DnsServer *s = NULL, *d = NULL;
        FILE *f;

        REQUIRE(dir);
        REQUIRE(asprintf(&path, "%s/resolv.conf", dir) > 0);
        REQUIRE(asprintf(&missing, "%s/none", dir) > 0);
        f = fopen(path, "we");
        REQUIRE(f);
        fputs("nameserver [::1]:5300\n", f);
        fclose(f);

        CHECK_INT(dns_resolv_conf_load(path, &s), 1);
        CHECK_STR(server_string(&s[0]), "[::1]:5300");
        /* Missing file, or no servers in it: the local resolver, as glibc does. */
        CHECK_INT(dns_resolv_conf_load(missing, &d), 2);
        CHECK_STR(server_string(&d[0]), "127.0.0.1:53");
        CHECK_STR(server_string(&d[1]), "[::1]:53");
        DnsServer *e = NULL;
        CHECK_INT(dns_resolv_conf_load(dir, &e), -EISDIR);
        CHECK(!e);
}

TEST(answer_find) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        const DnsResourceRecord *rrs[4];
        size_t size = 0;
        FakeRecord r;

        /* a CNAME b, b CNAME c, c A ×3, and an unrelated A. */
        dns_writer_header(&w, 1, DNS_FLAG_QR, 0, 6, 0, 0);
        static const struct {
                const char *name;
                uint16_t type;
                const char *data;
        } rec[] = {
                { "A.test", DNS_TYPE_CNAME, "b.test" }, { "b.test", DNS_TYPE_CNAME, "c.test" },
                { "c.test", DNS_TYPE_A, "192.0.2.1" },  { "other.test", DNS_TYPE_A, "192.0.2.9" },
                { "C.test", DNS_TYPE_A, "192.0.2.2" },  { "c.test", DNS_TYPE_A, "192.0.2.3" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rec); i++) {
                snprintf(r.name, sizeof r.name, "%s", rec[i].name);
                r.type = rec[i].type;
                snprintf(r.data, sizeof r.data, "%s", rec[i].data);
                fake_write_record(&w, &r, 60);
        }
        REQUIRE(dns_writer_finish(&w, &msg, &size) == 0);
        REQUIRE(dns_message_parse(msg, size, &m) == 0);

        CHECK_INT(dns_answer_find(m, "a.test", DNS_TYPE_A, rrs, ELEMENTSOF(rrs)), 3);
        CHECK_INT(dns_answer_find(m, "a.test", DNS_TYPE_A, rrs, 1), 3); /* only one filled */
        CHECK_STR(rrs[0]->name, "c.test");
        CHECK_INT(dns_answer_find(m, "a.test", DNS_TYPE_CNAME, rrs, ELEMENTSOF(rrs)), 1);
        CHECK_STR(rrs[0]->target, "b.test");
        CHECK_INT(dns_answer_find(m, "a.test", DNS_TYPE_AAAA, rrs, ELEMENTSOF(rrs)), 0);
        CHECK_INT(dns_answer_find(m, "nothing.test", DNS_TYPE_A, rrs, ELEMENTSOF(rrs)), 0);
}

TEST(answer_find_cname_loop) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        const DnsResourceRecord *rr = NULL;
        size_t size = 0;
        FakeRecord r = { .type = DNS_TYPE_CNAME };

        dns_writer_header(&w, 1, DNS_FLAG_QR, 0, 2, 0, 0);
        snprintf(r.name, sizeof r.name, "a.test");
        snprintf(r.data, sizeof r.data, "b.test");
        fake_write_record(&w, &r, 60);
        snprintf(r.name, sizeof r.name, "b.test");
        snprintf(r.data, sizeof r.data, "a.test");
        fake_write_record(&w, &r, 60);
        REQUIRE(dns_writer_finish(&w, &msg, &size) == 0);
        REQUIRE(dns_message_parse(msg, size, &m) == 0);
        CHECK_INT(dns_answer_find(m, "a.test", DNS_TYPE_TXT, &rr, 1), 0);
}

typedef struct Result {
        bool done;
        int error;
        unsigned calls;
        char text[512];
        DnsServer servers[8];
        size_t n_servers;
        unsigned rcode;
} Result;

static void on_lookup(DnsLookup *l, int error, void *userdata) {
        Result *res = userdata;

        res->done = true;
        res->calls++;
        res->error = error;
        snprintf(res->text, sizeof res->text, "%s", dns_lookup_error_text(l));
        if (error >= 0)
                res->rcode = dns_message_rcode(dns_lookup_answer(l));
}

static void on_resolve(DnsResolve *r, int error, void *userdata) {
        Result *res = userdata;
        const DnsServer *s;
        size_t n = 0;

        res->done = true;
        res->calls++;
        res->error = error;
        snprintf(res->text, sizeof res->text, "%s", dns_resolve_error_text(r));
        s = dns_resolve_servers(r, &n);
        for (size_t i = 0; i < n && i < ELEMENTSOF(res->servers); i++)
                res->servers[i] = s[i];
        res->n_servers = n;
}

TEST(lookup_moves_on) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(dns_lookup_freep) DnsLookup *l = NULL;
        FakeDns refusing, dead, good;
        DnsServer resolvers[3];
        DnsQueryOptions o = { .timeout_usec = 1 * USEC_PER_SEC, .attempts = 1 };
        Result res = {};

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(fake_dns_start(&refusing, e) == 0); /* no zones: REFUSED */
        REQUIRE(fake_dns_start(&dead, e) == 0);
        dead.drop = true;
        REQUIRE(fake_dns_start(&good, e) == 0);
        fake_add_zone(&good, "x.test");
        REQUIRE(dns_server_parse(refusing.address, &resolvers[0]) == 0);
        REQUIRE(dns_server_parse(dead.address, &resolvers[1]) == 0);
        REQUIRE(dns_server_parse(good.address, &resolvers[2]) == 0);

        REQUIRE(dns_lookup_start(e, resolvers, 3, "ns.x.test", DNS_TYPE_A, &o, on_lookup, &res, &l) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.calls, 1);
        CHECK_INT(res.error, 0);
        CHECK_INT(res.rcode, DNS_RCODE_NOERROR);
        CHECK_INT(refusing.udp_queries, 1);
        CHECK_INT(dead.udp_queries, 1);
        CHECK_INT(good.udp_queries, 1);
        CHECK_STR(dns_lookup_name(l), "ns.x.test");

        /* NXDOMAIN is an answer too. */
        l = dns_lookup_free(l);
        res = (Result) {};
        REQUIRE(dns_lookup_start(e, resolvers + 2, 1, "nope.x.test", DNS_TYPE_A, &o, on_lookup, &res, &l) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, 0);
        CHECK_INT(res.rcode, DNS_RCODE_NXDOMAIN);

        /* Nobody answers usefully: the last failure is reported. */
        l = dns_lookup_free(l);
        res = (Result) {};
        REQUIRE(dns_lookup_start(e, resolvers, 2, "ns.x.test", DNS_TYPE_A, &o, on_lookup, &res, &l) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, -ETIMEDOUT);
        CHECK(strstr(res.text, "no answer from 127.0.0.1:") != NULL);
        l = dns_lookup_free(l);
        res = (Result) {};
        REQUIRE(dns_lookup_start(e, resolvers, 1, "ns.x.test", DNS_TYPE_A, &o, on_lookup, &res, &l) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, -EACCES);
        CHECK(strstr(res.text, " answered REFUSED for ns.x.test A") != NULL);

        CHECK_INT(dns_lookup_start(e, resolvers, 0, "x.test", DNS_TYPE_A, &o, on_lookup, &res, &l), -EINVAL);
        fake_dns_stop(&refusing);
        fake_dns_stop(&dead);
        fake_dns_stop(&good);
}

TEST(resolve_hosts) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(dns_resolve_freep) DnsResolve *r = NULL;
        FakeDns fake;
        DnsServer resolver;
        Result res = {};
        char *hosts[] = { (char *) "NS.x.test", (char *) "192.0.2.7", (char *) "missing.x.test", (char *) "alias.x.test",
                          (char *) "2001:db8::5", NULL };
        uint16_t ports[] = { 5300, 853, 53, 5300, 53 };

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(fake_dns_start(&fake, e) == 0);
        fake_add_zone(&fake, "x.test");
        fake_add(&fake, "ns.x.test", DNS_TYPE_AAAA, "::1");
        fake_add(&fake, "ns.x.test", DNS_TYPE_A, "127.0.0.2");
        REQUIRE(dns_server_parse(fake.address, &resolver) == 0);

        /* Not strict: what could be found. */
        REQUIRE(dns_resolve_start(e, &resolver, 1, hosts, ports, 5, false, NULL, on_resolve, &res, &r) == 0);
        CHECK(!res.done);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.calls, 1);
        CHECK_INT(res.error, 0);
        REQUIRE(res.n_servers == 5);
        CHECK_STR(server_string(&res.servers[0]), "127.0.0.1:5300");
        CHECK_STR(server_string(&res.servers[1]), "127.0.0.2:5300");
        CHECK_STR(server_string(&res.servers[2]), "[::1]:5300");
        CHECK_STR(server_string(&res.servers[3]), "192.0.2.7:853");
        CHECK_STR(server_string(&res.servers[4]), "[2001:db8::5]:53");

        /* Strict: one missing host fails it all, naming it. */
        r = dns_resolve_free(r);
        res = (Result) {};
        REQUIRE(dns_resolve_start(e, &resolver, 1, hosts, ports, 3, true, NULL, on_resolve, &res, &r) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, -ENOENT);
        CHECK_STR(res.text, "missing.x.test has no address: no such name (NXDOMAIN)");

        /* A name with no address records. */
        fake_add(&fake, "alias.x.test", DNS_TYPE_TXT, "no address here");
        r = dns_resolve_free(r);
        res = (Result) {};
        REQUIRE(dns_resolve_start(e, &resolver, 1, hosts + 3, ports + 3, 1, false, NULL, on_resolve, &res, &r) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, -ENODATA);
        CHECK_STR(res.text, "alias.x.test has no address: no A or AAAA record");

        /* Numbers only: no question asked, and still called from the loop. */
        r = dns_resolve_free(r);
        res = (Result) {};
        unsigned before = fake.udp_queries;
        REQUIRE(dns_resolve_start(e, NULL, 0, hosts + 1, ports + 1, 1, true, NULL, on_resolve, &res, &r) == 0);
        CHECK(!res.done);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, 0);
        CHECK_INT(res.n_servers, 1);
        CHECK_INT(fake.udp_queries, before);
        /* A name without resolvers to ask. */
        DnsResolve *none = NULL;
        CHECK_INT(dns_resolve_start(e, NULL, 0, hosts, ports, 1, true, NULL, on_resolve, &res, &none), -EINVAL);
        CHECK(!none);

        fake_dns_stop(&fake);
}

TEST_MAIN(T(resolv_conf_parse), T(resolv_conf_load), T(answer_find), T(answer_find_cname_loop), T(lookup_moves_on),
          T(resolve_hosts));
