/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>

#include "dns-packet.h"
#include "macro.h"
#include "test.h"

#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

/* What BIND's nsupdate sent (captured on the wire) for
 *   update add _acme-challenge.www.example.test 60 TXT "LoqX…"
 * and the matching delete, in zone example.test, up to their TSIG record and with
 * ARCOUNT set back to 0: our builder must produce the same bytes. */
static const char nsupdate_add_hex[] =
        "f29f28000001000000010000076578616d706c65047465737400000600010f5f61636d652d6368616c6c"
        "656e676503777777076578616d706c65047465737400001000010000003c002c2b4c6f71586359563871"
        "354f4e624a5178626d52375343544e6f337469415844666f77796a78416a45755830";
static const char nsupdate_delete_hex[] =
        "6fec28000001000000010000076578616d706c65047465737400000600010f5f61636d652d6368616c6c"
        "656e676503777777076578616d706c65047465737400001000fe00000000002c2b4c6f71586359563871"
        "354f4e624a5178626d52375343544e6f337469415844666f77796a78416a45755830";

static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = strlen(hex) / 2;

        if (n > size)
                return 0;
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                        return 0;
                out[i] = (uint8_t) v;
        }
        return n;
}

/* Parse and expect failure with -EBADMSG. */
static int parse_result(const uint8_t *data, size_t size) {
        DnsMessage *m = NULL;
        int r = dns_message_parse(data, size, &m);

        CHECK((r >= 0) == (m != NULL));
        dns_message_free(m);
        return r;
}

TEST(name_round_trips) {
        static const struct {
                const char *in, *out;
                int wire_len;
        } cases[] = {
                { "www.example.com", "www.example.com", 17 },
                { "www.example.com.", "www.example.com", 17 },
                { "Example.COM", "Example.COM", 13 },
                { ".", ".", 1 },
                { "", ".", 1 },
                { "a\\.b.c", "a\\.b.c", 7 },
                { "a\\\\b", "a\\\\b", 5 },
                { "\\000\\255x", "\\000\\255x", 5 },
                { "sp\\032ace", "sp\\032ace", 8 },
                { "\\065b", "Ab", 4 },
                { "_acme-challenge.x.test", "_acme-challenge.x.test", 24 },
        };
        uint8_t wire[DNS_NAME_WIRE_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *back = NULL;
                int len = dns_name_to_wire(cases[i].in, wire);

                CHECK_INT(len, cases[i].wire_len);
                REQUIRE(len > 0);
                CHECK_INT(dns_name_from_wire(wire, (size_t) len, &back), 0);
                CHECK_STR(back, cases[i].out);
        }
}

TEST(name_limits) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        char label[80], name[400];

        static const char *const bad[] = { "a..b", ".a", "..", "a..", "a\\", "a\\1", "a\\12", "a\\256", "a\\99x" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK_INT(dns_name_to_wire(bad[i], wire), -EINVAL);

        /* 63 bytes is the longest label, 64 too long. */
        memset(label, 'a', 63);
        label[63] = 0;
        CHECK_INT(dns_name_to_wire(label, wire), 65);
        label[63] = 'a';
        label[64] = 0;
        CHECK_INT(dns_name_to_wire(label, wire), -EINVAL);
        /* An escaped byte counts once. */
        snprintf(name, sizeof name, "\\046%.62s", label);
        CHECK_INT(dns_name_to_wire(name, wire), 65);

        /* 255 wire bytes: 63+63+63+61 with length bytes and the root. */
        label[63] = 0;
        snprintf(name, sizeof name, "%s.%s.%s.%.61s", label, label, label, label);
        CHECK_INT(strlen(name), 253);
        CHECK_INT(dns_name_to_wire(name, wire), 255);
        snprintf(name, sizeof name, "%s.%s.%s.%.62s", label, label, label, label);
        CHECK_INT(dns_name_to_wire(name, wire), -EINVAL);
        snprintf(name, sizeof name, "%s.%s.%s.%.61s.", label, label, label, label);
        CHECK_INT(dns_name_to_wire(name, wire), 255);

        /* from_wire refuses what is not one well-formed name. */
        char *s = NULL;
        static const uint8_t no_root[] = { 1, 'a' }, long_label[] = { 64, 0 }, trailing[] = { 0, 0 };
        CHECK_INT(dns_name_from_wire(no_root, sizeof no_root, &s), -EBADMSG);
        CHECK_INT(dns_name_from_wire(long_label, sizeof long_label, &s), -EBADMSG);
        CHECK_INT(dns_name_from_wire(trailing, sizeof trailing, &s), -EBADMSG);
        CHECK(!s);
}

TEST(name_compare) {
        _cleanup_free_ char *n = NULL;

        CHECK(dns_name_equal("WWW.Example.com", "www.example.COM."));
        CHECK(dns_name_equal(".", ""));
        CHECK(!dns_name_equal("www.example.com", "www.example.org"));
        CHECK(!dns_name_equal("a.b", "a\\.b"));
        CHECK(dns_name_equal("\\065", "a"));
        CHECK(!dns_name_equal("a..b", "a..b")); /* invalid names equal nothing */
        CHECK(!dns_name_equal(NULL, "a"));

        CHECK(dns_name_is_in_zone("_acme-challenge.www.Example.test", "example.TEST"));
        CHECK(dns_name_is_in_zone("example.test", "example.test."));
        CHECK(dns_name_is_in_zone("example.test", "."));
        CHECK(!dns_name_is_in_zone("badexample.test", "example.test"));
        CHECK(!dns_name_is_in_zone("example.test", "www.example.test"));
        CHECK(!dns_name_is_in_zone("a\\.example.test", "b.example.test"));
        CHECK(dns_name_is_in_zone("a\\.b.example.test", "example.test"));

        CHECK_STR(dns_name_parent("a.b.c"), "b.c");
        CHECK_STR(dns_name_parent("c"), ".");
        CHECK_STR(dns_name_parent("c."), ".");
        CHECK_STR(dns_name_parent("a\\.b.c"), "c");
        CHECK(!dns_name_parent("."));
        CHECK(!dns_name_parent(""));

        CHECK_INT(dns_name_normalize("WWW.Example.COM.", &n), 0);
        CHECK_STR(n, "www.example.com");
        n = mfree(n);
        CHECK_INT(dns_name_normalize("A\\.B.c", &n), 0);
        CHECK_STR(n, "a\\.b.c");
        n = mfree(n);
        CHECK_INT(dns_name_normalize("a..b", &n), -EINVAL);
        CHECK(!n);
}

TEST(query_round_trip) {
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        size_t size = 0;

        CHECK_INT(dns_message_build_query(0x1234, "_acme-challenge.Example.test", DNS_TYPE_TXT, true, &msg, &size), 0);
        CHECK_INT(size, 12 + 30 + 4);
        REQUIRE(dns_message_parse(msg, size, &m) == 0);
        CHECK_INT(m->id, 0x1234);
        CHECK(m->flags & DNS_FLAG_RD);
        CHECK(!(m->flags & DNS_FLAG_QR));
        CHECK_INT(dns_message_opcode(m), DNS_OPCODE_QUERY);
        REQUIRE(m->n_questions == 1);
        CHECK_STR(m->questions[0].name, "_acme-challenge.Example.test");
        CHECK_INT(m->questions[0].type, DNS_TYPE_TXT);
        CHECK_INT(m->questions[0].class, DNS_CLASS_IN);
        CHECK(!m->tsig);

        free(msg);
        msg = NULL;
        CHECK_INT(dns_message_build_query(1, "a..b", DNS_TYPE_A, false, &msg, &size), -EINVAL);
        CHECK(!msg);
}

TEST(update_matches_nsupdate) {
        static const struct {
                const char *hex;
                uint16_t id;
                DnsTxtChange change;
        } cases[] = {
                { nsupdate_add_hex, 0xf29f, DNS_TXT_ADD },
                { nsupdate_delete_hex, 0x6fec, DNS_TXT_DELETE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ uint8_t *msg = NULL;
                _cleanup_(dns_message_freep) DnsMessage *m = NULL;
                uint8_t want[512];
                size_t size = 0, n = unhex(cases[i].hex, want, sizeof want);

                REQUIRE(n > 0);
                CHECK_INT(dns_message_build_update_txt(cases[i].id, "example.test", "_acme-challenge.www.example.test",
                                                       VALUE, cases[i].change, &msg, &size),
                          0);
                CHECK_INT(size, n);
                CHECK(size == n && memcmp(msg, want, n) == 0);

                REQUIRE(dns_message_parse(msg, size, &m) == 0);
                CHECK_INT(dns_message_opcode(m), DNS_OPCODE_UPDATE);
                REQUIRE(m->n_questions == 1);
                CHECK_STR(m->questions[0].name, "example.test");
                CHECK_INT(m->questions[0].type, DNS_TYPE_SOA);
                REQUIRE(m->n_records[DNS_SECTION_AUTHORITY] == 1);
                const DnsResourceRecord *rr = &m->records[DNS_SECTION_AUTHORITY][0];
                CHECK_INT(rr->type, DNS_TYPE_TXT);
                CHECK_INT(rr->class, cases[i].change == DNS_TXT_ADD ? DNS_CLASS_IN : DNS_CLASS_NONE);
                CHECK_INT(rr->ttl, cases[i].change == DNS_TXT_ADD ? 60 : 0);
                CHECK(dns_record_txt_has(rr, VALUE));
        }
}

TEST(update_long_value_and_errors) {
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        char value[301];
        size_t size = 0;

        memset(value, 'v', 300);
        value[300] = 0;
        value[0] = 'A';
        value[299] = 'Z';
        CHECK_INT(dns_message_build_update_txt(7, "x.test", "_acme-challenge.x.test", value, DNS_TXT_ADD, &msg, &size), 0);
        REQUIRE(dns_message_parse(msg, size, &m) == 0);
        REQUIRE(m->n_records[DNS_SECTION_AUTHORITY] == 1);
        const DnsResourceRecord *rr = &m->records[DNS_SECTION_AUTHORITY][0];
        REQUIRE(rr->n_txt == 2);
        CHECK_INT(rr->txt[0].len, 255);
        CHECK_INT(rr->txt[1].len, 45);
        CHECK(dns_record_txt_has(rr, value));
        value[299] = 'Y';
        CHECK(!dns_record_txt_has(rr, value));

        free(msg);
        msg = NULL;
        /* The name must be in the zone. */
        CHECK_INT(dns_message_build_update_txt(7, "y.test", "_acme-challenge.x.test", "v", DNS_TXT_ADD, &msg, &size), -EINVAL);
        CHECK_INT(dns_message_build_update_txt(7, "x.test", "_acme-challenge.x.test", "v", _DNS_TXT_CHANGE_MAX, &msg, &size),
                  -EINVAL);
        CHECK(!msg);
        /* An empty value is one empty string. */
        CHECK_INT(dns_message_build_update_txt(7, "x.test", "x.test", "", DNS_TXT_DELETE, &msg, &size), 0);
}

/* A response exercising compression and every decoded type. */
static int build_response(uint8_t **ret, size_t *ret_size) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        size_t pos;
        uint8_t a[4] = { 192, 0, 2, 1 }, aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

        dns_writer_header(&w, 0xbeef, DNS_FLAG_QR | DNS_FLAG_AA, 1, 6, 1, 1);
        dns_writer_name(&w, "www.example.test", false);             /* offset 12 */
        dns_writer_u16(&w, DNS_TYPE_TXT);
        dns_writer_u16(&w, DNS_CLASS_IN);
        /* CNAME www → pointer-compressed owner and target "host" + pointer to example.test (16). */
        dns_writer_u16(&w, 0xc00c);
        dns_writer_u16(&w, DNS_TYPE_CNAME);
        dns_writer_u16(&w, DNS_CLASS_IN);
        dns_writer_u32(&w, 300);
        pos = w.size;
        dns_writer_u16(&w, 0);
        dns_writer_bytes(&w, "\x04host", 5);
        dns_writer_u16(&w, 0xc010);
        dns_writer_record_end(&w, pos);
        /* TXT with two strings, the second holding a NUL. */
        pos = dns_writer_record_begin(&w, "host.example.test", DNS_TYPE_TXT, DNS_CLASS_IN, 60);
        dns_writer_bytes(&w, "\x03" "abc" "\x03" "d\0e", 8);
        dns_writer_record_end(&w, pos);
        pos = dns_writer_record_begin(&w, "host.example.test", DNS_TYPE_A, DNS_CLASS_IN, 60);
        dns_writer_bytes(&w, a, sizeof a);
        dns_writer_record_end(&w, pos);
        pos = dns_writer_record_begin(&w, "host.example.test", DNS_TYPE_AAAA, DNS_CLASS_IN, 60);
        dns_writer_bytes(&w, aaaa, sizeof aaaa);
        dns_writer_record_end(&w, pos);
        /* MX: not decoded, skipped. */
        pos = dns_writer_record_begin(&w, "example.test", 15, DNS_CLASS_IN, 60);
        dns_writer_u16(&w, 10);
        dns_writer_u16(&w, 0xc00c);
        dns_writer_record_end(&w, pos);
        /* NS with a compressed target. */
        pos = dns_writer_record_begin(&w, "example.test", DNS_TYPE_NS, DNS_CLASS_IN, 60);
        dns_writer_bytes(&w, "\x02ns", 3);
        dns_writer_u16(&w, 0xc010);
        dns_writer_record_end(&w, pos);
        /* Authority: SOA. */
        pos = dns_writer_record_begin(&w, "example.test", DNS_TYPE_SOA, DNS_CLASS_IN, 60);
        dns_writer_u16(&w, 0xc010 + 0); /* mname: pointer to example.test */
        dns_writer_name(&w, "hostmaster.example.test", false);
        dns_writer_u32(&w, 2024010101);
        dns_writer_u32(&w, 3600);
        dns_writer_u32(&w, 600);
        dns_writer_u32(&w, 86400);
        dns_writer_u32(&w, 60);
        dns_writer_record_end(&w, pos);
        /* Additional: an OPT-like unknown record with the root as owner. */
        pos = dns_writer_record_begin(&w, ".", DNS_TYPE_OPT, 1232, 0);
        dns_writer_record_end(&w, pos);
        return dns_writer_finish(&w, ret, ret_size);
}

TEST(parse_response) {
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        size_t size = 0;
        char buf[INET6_ADDRSTRLEN];

        REQUIRE(build_response(&msg, &size) == 0);
        REQUIRE(dns_message_parse(msg, size, &m) == 0);
        CHECK_INT(m->id, 0xbeef);
        CHECK(m->flags & DNS_FLAG_QR);
        CHECK_INT(dns_message_rcode(m), DNS_RCODE_NOERROR);
        REQUIRE(m->n_records[DNS_SECTION_ANSWER] == 6);
        const DnsResourceRecord *an = m->records[DNS_SECTION_ANSWER];

        CHECK_STR(an[0].name, "www.example.test");
        CHECK_INT(an[0].type, DNS_TYPE_CNAME);
        CHECK_INT(an[0].ttl, 300);
        CHECK_STR(an[0].target, "host.example.test");

        REQUIRE(an[1].n_txt == 2);
        CHECK_INT(an[1].txt[0].len, 3);
        CHECK_STR(an[1].txt[0].data, "abc");
        CHECK_INT(an[1].txt[1].len, 3);
        CHECK(memcmp(an[1].txt[1].data, "d\0e", 3) == 0);
        CHECK(dns_record_txt_has(&an[1], "abc"));
        CHECK(!dns_record_txt_has(&an[1], "d"));   /* the NUL is not an end */
        CHECK(!dns_record_txt_has(&an[1], "abcd"));
        CHECK(!dns_record_txt_has(&an[0], "abc")); /* not a TXT record */

        CHECK_STR(inet_ntop(AF_INET, &an[2].a, buf, sizeof buf), "192.0.2.1");
        CHECK_STR(inet_ntop(AF_INET6, &an[3].aaaa, buf, sizeof buf), "2001:db8::1");
        CHECK_INT(an[4].type, 15);
        CHECK_INT(an[4].rdlength, 4);
        CHECK(!an[4].target);
        CHECK_STR(an[5].target, "ns.example.test");

        REQUIRE(m->n_records[DNS_SECTION_AUTHORITY] == 1);
        const DnsResourceRecord *soa = &m->records[DNS_SECTION_AUTHORITY][0];
        CHECK_STR(soa->soa.mname, "example.test");
        CHECK_STR(soa->soa.rname, "hostmaster.example.test");
        CHECK_INT(soa->soa.serial, 2024010101);
        CHECK_INT(soa->soa.minimum, 60);
        REQUIRE(m->n_records[DNS_SECTION_ADDITIONAL] == 1);
        CHECK_STR(m->records[DNS_SECTION_ADDITIONAL][0].name, ".");
        CHECK(!m->tsig);

        /* Every truncation of a valid message fails cleanly. */
        for (size_t n = 0; n < size; n++)
                CHECK_INT(parse_result(msg, n), -EBADMSG);
        /* So does anything appended. */
        uint8_t *longer = malloc(size + 1);
        REQUIRE(longer);
        memcpy(longer, msg, size);
        longer[size] = 0;
        CHECK_INT(parse_result(longer, size + 1), -EBADMSG);
        free(longer);
}

/* A message of header (qdcount 1) plus body bytes as the question's name and type. */
static size_t question_message(uint8_t *buf, const uint8_t *body, size_t n) {
        static const uint8_t header[12] = { 0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

        memcpy(buf, header, sizeof header);
        memcpy(buf + 12, body, n);
        return 12 + n;
}

/* An answer record of an unknown type whose RDATA is a chain of links "1 x <pointer to
 * the previous link>" ending at a root label, and an additional record owned by a
 * pointer to the last link: a name of n labels reached through n pointers. */
static size_t pointer_chain(uint8_t *buf, unsigned links) {
        static const uint8_t header[12] = { 0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 1 };
        size_t n = 0, rdlength_pos, prev;

        memcpy(buf, header, 12);
        n = 12;
        buf[n++] = 0;                                         /* owner: root */
        memcpy(buf + n, (const uint8_t[]) { 0, 99, 0, 1, 0, 0, 0, 60 }, 8);
        n += 8;
        rdlength_pos = n;
        n += 2;
        prev = n;
        buf[n++] = 0;                                         /* the root the chain ends at */
        for (unsigned i = 0; i < links; i++) {
                size_t here = n;

                buf[n++] = 1;
                buf[n++] = 'x';
                buf[n++] = (uint8_t) (0xc0 | prev >> 8);
                buf[n++] = (uint8_t) prev;
                prev = here;
        }
        buf[rdlength_pos] = (uint8_t) ((n - rdlength_pos - 2) >> 8);
        buf[rdlength_pos + 1] = (uint8_t) (n - rdlength_pos - 2);
        buf[n++] = (uint8_t) (0xc0 | prev >> 8);
        buf[n++] = (uint8_t) prev;
        memcpy(buf + n, (const uint8_t[]) { 0, 99, 0, 1, 0, 0, 0, 0, 0, 0 }, 10);
        return n + 10;
}

TEST(hostile_names) {
        uint8_t buf[1024];
        size_t n;
        static const struct {
                const char *what;
                uint8_t body[16];
                size_t n;
        } cases[] = {
                { "pointer to itself", { 0xc0, 12, 0, 1, 0, 1 }, 6 },
                { "label, then pointer back to it", { 1, 'a', 0xc0, 12, 0, 1, 0, 1 }, 8 },
                { "pointer forward", { 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1 }, 9 },
                { "pointer into the header", { 0xc0, 2, 0, 1, 0, 1 }, 6 },
                { "pointer past the end", { 0xc0, 200, 0, 1, 0, 1 }, 6 },
                { "half a pointer", { 0xc0 }, 1 },
                { "extended label type 01", { 0x41, 'a', 0, 0, 1, 0, 1 }, 7 },
                { "extended label type 10", { 0x80, 0, 1, 0, 1 }, 5 },
                { "label running off the end", { 5, 'a', 'b' }, 3 },
                { "no root label", { 1, 'a' }, 2 },
                { "no type", { 0 }, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r;

                n = question_message(buf, cases[i].body, cases[i].n);
                r = parse_result(buf, n);

                if (r != -EBADMSG)
                        fprintf(stderr, "accepted: %s\n", cases[i].what);
                CHECK_INT(r, -EBADMSG);
        }

        /* A pointer loop between two names: the second name points to the first, whose
         * last label points to the second. */
        static const uint8_t loop[] = {
                0, 1, 0x80, 0, 0, 2, 0, 0, 0, 0, 0, 0,
                1, 'a', 0xc0, 18, 0, 1, 0, 1,   /* offset 12: a, then → 18 (forward) */
                1, 'b', 0xc0, 12, 0, 1, 0, 1,   /* offset 20: b, then → 12 */
        };
        CHECK_INT(parse_result(loop, sizeof loop), -EBADMSG);

        /* Long chains of backward pointers are fine while the name stays short. */
        CHECK_INT(parse_result(buf, pointer_chain(buf, 100)), 0);
        CHECK_INT(parse_result(buf, pointer_chain(buf, 127)), 0);
        CHECK_INT(parse_result(buf, pointer_chain(buf, 128)), -EBADMSG);

        /* ...but not past 255 bytes: four labels of 63 are 256 with the root. */
        uint8_t big[12 + 4 * 64 + 1 + 4];
        memcpy(big, (const uint8_t[]) { 0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, 12);
        n = 12;
        for (int l = 0; l < 4; l++) {
                big[n++] = 63;
                memset(big + n, 'a' + l, 63);
                n += 63;
        }
        big[n++] = 0;
        memcpy(big + n, (const uint8_t[]) { 0, 1, 0, 1 }, 4);
        n += 4;
        CHECK_INT(parse_result(big, n), -EBADMSG);
        /* Three labels of 63 and one of 61 make 255: accepted. */
        big[12 + 3 * 64] = 61;
        memmove(big + 12 + 3 * 64 + 1 + 61, big + 12 + 4 * 64, 5);
        CHECK_INT(parse_result(big, n - 2), 0);

        /* A name made too long through pointers: 63+63 here, then a pointer to 63+63+63
         * before it. */
        uint8_t chain[12 + 3 * 64 + 1 + 2 * 64 + 2 + 4 + 4];
        memcpy(chain, (const uint8_t[]) { 0, 1, 0x80, 0, 0, 2, 0, 0, 0, 0, 0, 0 }, 12);
        n = 12;
        for (int l = 0; l < 3; l++) {
                chain[n++] = 63;
                memset(chain + n, 'a', 63);
                n += 63;
        }
        chain[n++] = 0;
        memcpy(chain + n, (const uint8_t[]) { 0, 1, 0, 1 }, 4);
        n += 4;
        for (int l = 0; l < 2; l++) {
                chain[n++] = 63;
                memset(chain + n, 'b', 63);
                n += 63;
        }
        chain[n++] = 0xc0;
        chain[n++] = 12;
        memcpy(chain + n, (const uint8_t[]) { 0, 1, 0, 1 }, 4);
        n += 4;
        CHECK_INT(parse_result(chain, n), -EBADMSG);
}

TEST(hostile_records) {
        uint8_t buf[256];
        size_t n;

        /* Counts that the message cannot hold. */
        static const uint8_t lying[] = { 0, 1, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        CHECK_INT(parse_result(lying, sizeof lying), -EBADMSG);
        static const uint8_t short_header[] = { 0, 1, 0x80, 0 };
        CHECK_INT(parse_result(short_header, sizeof short_header), -EBADMSG);
        static const uint8_t empty[12] = {};
        CHECK_INT(parse_result(empty, sizeof empty), 0);

        /* One answer record: root owner, type, class, TTL, RDLENGTH, RDATA. */
        static const struct {
                const char *what;
                uint8_t rr[32];
                size_t n;
        } cases[] = {
                { "RDLENGTH past the end", { 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 10, 1, 2 }, 13 },
                { "A of 5 bytes", { 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4, 5 }, 16 },
                { "AAAA of 4 bytes", { 0, 0, 28, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4 }, 15 },
                { "TXT string past RDATA", { 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 5, 'a', 'b', 'c', 'd', 'e' }, 17 },
                { "CNAME name past RDATA", { 0, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 1, 'a', 0 }, 14 },
                { "CNAME with extra bytes", { 0, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0, 0 }, 13 },
                { "SOA without counters", { 0, 0, 6, 0, 1, 0, 0, 0, 60, 0, 6, 0, 0, 0, 0, 0, 1 }, 17 },
                { "TSIG not last", { 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0 }, 11 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                static const uint8_t header[12] = { 0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
                memcpy(buf, header, 12);
                memcpy(buf + 12, cases[i].rr, cases[i].n);
                n = 12 + cases[i].n;
                if (streq(cases[i].what, "TSIG not last")) {
                        /* the TSIG record in the answer section: refused */
                        int r = parse_result(buf, n);
                        CHECK_INT(r, -EBADMSG);
                        /* in the additional section, last: accepted */
                        buf[7] = 0;
                        buf[11] = 1;
                        CHECK_INT(parse_result(buf, n), 0);
                        /* twice in the additional section: refused */
                        memcpy(buf + n, cases[i].rr, cases[i].n);
                        buf[11] = 2;
                        CHECK_INT(parse_result(buf, n + cases[i].n), -EBADMSG);
                        continue;
                }
                int r = parse_result(buf, n);
                if (r != -EBADMSG)
                        fprintf(stderr, "accepted: %s\n", cases[i].what);
                CHECK_INT(r, -EBADMSG);
        }
}

TEST(writer_limits) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        static uint8_t block[4096];
        uint8_t *out = (uint8_t *) "untouched";
        size_t size = 7;

        for (int i = 0; i < 16; i++)
                dns_writer_bytes(&w, block, sizeof block);
        CHECK_INT(w.error, -EMSGSIZE);
        dns_writer_u8(&w, 1);
        CHECK_INT(dns_writer_finish(&w, &out, &size), -EMSGSIZE);
        CHECK_STR((char *) out, "untouched");
        CHECK_INT(size, 7);

        DnsWriter w2 = DNS_WRITER_INIT;
        dns_writer_name(&w2, "a..b", false);
        CHECK_INT(w2.error, -EINVAL);
        dns_writer_done(&w2);
}

TEST(rcodes) {
        CHECK_STR(dns_rcode_to_string(DNS_RCODE_REFUSED), "REFUSED");
        CHECK_STR(dns_rcode_to_string(DNS_RCODE_NOTAUTH), "NOTAUTH");
        CHECK_STR(dns_rcode_to_string(DNS_RCODE_BADKEY), "BADKEY");
        CHECK(!dns_rcode_to_string(12));
        CHECK(!dns_rcode_to_string(4000));
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_NOERROR), 0);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_REFUSED), -EACCES);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_NOTAUTH), -EPERM);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_NOTZONE), -EPROTO);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_BADSIG), -EKEYREJECTED);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_BADKEY), -ENOKEY);
        CHECK_INT(dns_rcode_to_errno(DNS_RCODE_BADTIME), -EKEYEXPIRED);
        CHECK_INT(dns_rcode_to_errno(12), -EPROTO);
        CHECK_STR(dns_type_to_string(DNS_TYPE_TXT), "TXT");
        CHECK(!dns_type_to_string(15));

        uint16_t a = 0, b = 0;
        CHECK_INT(dns_random_id(&a), 0);
        CHECK_INT(dns_random_id(&b), 0);
        /* (Two equal random IDs in a row happen once in 65536 runs: draw again.) */
        if (a == b)
                CHECK_INT(dns_random_id(&b), 0);
}

TEST_MAIN(T(name_round_trips), T(name_limits), T(name_compare), T(query_round_trip), T(update_matches_nsupdate),
          T(update_long_value_and_errors), T(parse_response), T(hostile_names), T(hostile_records), T(writer_limits),
          T(rcodes));
