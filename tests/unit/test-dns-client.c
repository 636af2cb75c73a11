/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "dns-client.h"
#include "dns-fake.h"
#include "test.h"

#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define LIMIT (30 * USEC_PER_SEC)


typedef struct Result {
        bool done;
        int error;
        unsigned calls;
        char text[256];
        bool tcp;
        unsigned rcode;
        bool has_value;
} Result;

static void on_done(DnsQuery *q, int error, void *userdata) {
        Result *res = userdata;
        const DnsMessage *m;

        res->done = true;
        res->calls++;
        res->error = error;
        snprintf(res->text, sizeof res->text, "%s", dns_query_error_text(q));
        if (error < 0)
                return;
        res->tcp = dns_query_used_tcp(q);
        m = dns_query_answer(q);
        res->rcode = dns_message_rcode(m);
        for (size_t i = 0; i < m->n_records[DNS_SECTION_ANSWER]; i++)
                if (dns_record_txt_has(&m->records[DNS_SECTION_ANSWER][i], VALUE))
                        res->has_value = true;
}

typedef struct Fixture {
        sd_event *event;
        FakeDns fake;
        DnsServer server;
} Fixture;

static bool fixture_setup(Fixture *f) {
        *f = (Fixture) {};
        if (sd_event_new(&f->event) < 0 || fake_dns_start(&f->fake, f->event) < 0)
                return false;
        fake_add_zone(&f->fake, "x.test");
        fake_add(&f->fake, "_acme-challenge.x.test", DNS_TYPE_TXT, VALUE);
        return dns_server_parse(f->fake.address, &f->server) == 0;
}

static void fixture_done(Fixture *f) {
        fake_dns_stop(&f->fake);
        f->event = sd_event_unref(f->event);
}

/* Ask the fake for the TXT record with opts; run until done. */
static void ask(Fixture *f, const DnsQueryOptions *opts, Result *res) {
        _cleanup_(dns_query_freep) DnsQuery *q = NULL;

        *res = (Result) {};
        REQUIRE(dns_query_start_question(f->event, &f->server, "_acme-challenge.x.test", DNS_TYPE_TXT, false, opts, on_done,
                                         res, &q) == 0);
        /* Never from inside the start call. */
        CHECK(!res->done);
        CHECK_INT(fake_run_until(f->event, &res->done, LIMIT), 0);
        CHECK_INT(res->calls, 1);
}

TEST(server_strings) {
        DnsServer s, t;
        char buf[DNS_SERVER_STRING_MAX];

        CHECK_INT(dns_server_parse("127.0.0.1", &s), 0);
        CHECK_STR(dns_server_to_string(&s, buf), "127.0.0.1:53");
        CHECK_INT(dns_server_parse("192.0.2.1:5353", &s), 0);
        CHECK_STR(dns_server_to_string(&s, buf), "192.0.2.1:5353");
        CHECK_INT(dns_server_parse("[::1]:5353", &s), 0);
        CHECK_STR(dns_server_to_string(&s, buf), "[::1]:5353");
        CHECK_INT(dns_server_parse("[2001:db8::53]", &t), 0);
        CHECK_STR(dns_server_to_string(&t, buf), "[2001:db8::53]:53");
        CHECK_INT(dns_server_parse("2001:db8::53", &s), 0);
        CHECK(dns_server_equal(&s, &t));
        CHECK_INT(dns_server_parse("[2001:db8::53]:54", &s), 0);
        CHECK(!dns_server_equal(&s, &t));
        CHECK_INT(dns_server_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", &s), 0);
        CHECK_STR(dns_server_to_string(&s, buf), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

        static const char *const bad[] = {
                "", "ns.example", "ns.example:53", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "[::1", "[::1]x",
                "[127.0.0.1]:53", "1.2.3.4:53x", " 1.2.3.4", "[::1]:-1",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s = (DnsServer) {};
                CHECK_INT(dns_server_parse(bad[i], &s), -EINVAL);
                CHECK_INT(s.len, 0);
        }
        CHECK_INT(dns_server_from_address("::1", 53, &s), 0);
        CHECK_INT(s.len, sizeof(struct sockaddr_in6));
        CHECK_INT(dns_server_from_address("localhost", 53, &s), -EINVAL);
}

TEST(answered) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        ask(&f, NULL, &res);
        CHECK_INT(res.error, 0);
        CHECK_INT(res.rcode, DNS_RCODE_NOERROR);
        CHECK(res.has_value);
        CHECK(!res.tcp);
        CHECK_STR(res.text, "no error");
        CHECK_INT(f.fake.udp_queries, 1);
        fixture_done(&f);
}

TEST(retries) {
        Fixture f;
        Result res;
        DnsQueryOptions o = { .timeout_usec = 1 * USEC_PER_SEC, .attempts = 3 };

        REQUIRE(fixture_setup(&f));
        f.fake.drop_first = 2;
        ask(&f, &o, &res);
        CHECK_INT(res.error, 0);
        CHECK(res.has_value);
        CHECK_INT(f.fake.udp_queries, 3);
        fixture_done(&f);
}

TEST(timeout) {
        Fixture f;
        Result res;
        DnsQueryOptions o = { .timeout_usec = 100 * USEC_PER_MSEC, .attempts = 2 };
        char want[128];

        REQUIRE(fixture_setup(&f));
        f.fake.drop = true;
        ask(&f, &o, &res);
        CHECK_INT(res.error, -ETIMEDOUT);
        snprintf(want, sizeof want, "no answer from %s after 2 attempts", f.fake.address);
        CHECK_STR(res.text, want);
        CHECK_INT(f.fake.udp_queries, 2);
        fixture_done(&f);
}

TEST(wrong_ids) {
        Fixture f;
        Result res;
        DnsQueryOptions o = { .timeout_usec = 150 * USEC_PER_MSEC, .attempts = 2 };

        REQUIRE(fixture_setup(&f));
        /* An answer with another ID first is ignored; the right one is taken. */
        f.fake.wrong_id_first = true;
        ask(&f, NULL, &res);
        CHECK_INT(res.error, 0);
        CHECK(res.has_value);

        /* Only wrong answers: no valid answer. */
        f.fake.wrong_id_first = false;
        f.fake.wrong_id_only = true;
        ask(&f, &o, &res);
        CHECK_INT(res.error, -EBADMSG);
        CHECK(strstr(res.text, "no valid answer from 127.0.0.1:") != NULL);

        /* Over TCP, a wrong answer ends the exchange. */
        o.tcp = true;
        ask(&f, &o, &res);
        CHECK_INT(res.error, -EBADMSG);
        CHECK(strstr(res.text, "over TCP that is malformed or not for our question") != NULL);
        fixture_done(&f);
}

TEST(truncated_then_tcp) {
        Fixture f;
        Result res;

        REQUIRE(fixture_setup(&f));
        f.fake.truncate_udp = true;
        ask(&f, NULL, &res);
        CHECK_INT(res.error, 0);
        CHECK(res.tcp);
        CHECK(res.has_value);
        CHECK_INT(f.fake.udp_queries, 1);
        CHECK_INT(f.fake.tcp_queries, 1);

        /* TCP from the start. */
        DnsQueryOptions o = { .tcp = true };
        f.fake.truncate_udp = false;
        ask(&f, &o, &res);
        CHECK_INT(res.error, 0);
        CHECK(res.tcp);
        CHECK_INT(f.fake.udp_queries, 1);
        CHECK_INT(f.fake.tcp_queries, 2);

        /* Truncated, and nothing listens on TCP. */
        f.fake.truncate_udp = true;
        f.fake.tcp_io = sd_event_source_disable_unref(f.fake.tcp_io);
        f.fake.tcp_fd = safe_close(f.fake.tcp_fd);
        ask(&f, NULL, &res);
        CHECK_INT(res.error, -ECONNREFUSED);
        CHECK(strstr(res.text, "TCP connection to 127.0.0.1:") != NULL);
        fixture_done(&f);
}

TEST(refused) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(dns_query_freep) DnsQuery *q = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        char address[32];
        DnsServer server;
        Result res = {};
        int fd;

        REQUIRE(sd_event_new(&e) >= 0);
        /* A port that was free a moment ago: nothing listens there. */
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0);
        REQUIRE(getsockname(fd, (struct sockaddr *) &sa, &len) == 0);
        close(fd);
        snprintf(address, sizeof address, "127.0.0.1:%u", ntohs(sa.sin_port));
        REQUIRE(dns_server_parse(address, &server) == 0);

        DnsQueryOptions o = { .timeout_usec = 5 * USEC_PER_SEC, .attempts = 1 };
        REQUIRE(dns_query_start_question(e, &server, "x.test", DNS_TYPE_SOA, false, &o, on_done, &res, &q) == 0);
        CHECK_INT(fake_run_until(e, &res.done, LIMIT), 0);
        CHECK_INT(res.error, -ECONNREFUSED);
        CHECK(strstr(res.text, "refused the query (nothing listens on that port)") != NULL);
}

TEST(free_while_running) {
        Fixture f;
        Result res = {};
        DnsQuery *q = NULL;
        bool never = false;

        REQUIRE(fixture_setup(&f));
        f.fake.drop = true;
        REQUIRE(dns_query_start_question(f.event, &f.server, "x.test", DNS_TYPE_SOA, false, NULL, on_done, &res, &q) == 0);
        CHECK(!dns_query_free(q));
        /* The loop runs on; nothing calls back. */
        CHECK_INT(fake_run_until(f.event, &never, 300 * USEC_PER_MSEC), -ETIMEDOUT);
        CHECK_INT(res.calls, 0);
        CHECK(!dns_query_free(NULL));
        fixture_done(&f);
}

TEST(bad_arguments) {
        Fixture f;
        Result res = {};
        DnsQuery *q = NULL;
        static const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
        DnsServer unix_server = { .len = sizeof(struct sockaddr) };

        REQUIRE(fixture_setup(&f));
        unix_server.sa.sa_family = AF_UNIX;
        CHECK_INT(dns_query_start(f.event, &f.server, junk, sizeof junk, NULL, on_done, &res, &q), -EINVAL);
        CHECK_INT(dns_query_start_question(f.event, &unix_server, "x.test", DNS_TYPE_A, false, NULL, on_done, &res, &q),
                  -EAFNOSUPPORT);
        CHECK_INT(dns_query_start_question(f.event, &f.server, "a..b", DNS_TYPE_A, false, NULL, on_done, &res, &q), -EINVAL);
        CHECK(!q);
        fixture_done(&f);
}

TEST_MAIN(T(server_strings), T(answered), T(retries), T(timeout), T(wrong_ids), T(truncated_then_tcp), T(refused),
          T(free_while_running), T(bad_arguments));
