/* SPDX-License-Identifier: MIT */
#pragma once

/* A scripted DNS server for the unit tests of the dns-* modules: UDP and TCP on
 * 127.0.0.1 on the same free port, driven by the test's own sd-event loop (so no
 * threads, and the client under test runs on the same loop).
 *
 * It serves a small record store as an authoritative server would (AA, NXDOMAIN or
 * NODATA with the SOA in the authority section, CNAMEs not chased), and applies RFC 2136
 * updates of TXT records verified with a TSIG key, answering them signed. Knobs make it
 * misbehave: drop queries, force an RCODE or a TSIG error, sign with the wrong key,
 * answer unsigned, truncate UDP answers, answer with a wrong ID first.
 *
 * Included by tests/unit/test-dns-*.c only (header-only: the unit test build compiles
 * one source per test). */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "dns-packet.h"
#include "macro.h"
#include "tsig.h"

#define FAKE_RECORDS_MAX 64
#define FAKE_CONNS_MAX 4

typedef struct FakeRecord {
        char name[256];
        uint16_t type;
        char data[256]; /* A/AAAA: address; NS/CNAME: target; TXT: value; SOA: mname */
} FakeRecord;

typedef struct FakeConn {
        int fd;
        sd_event_source *io;
        uint8_t *buf;
        size_t got;
} FakeConn;

typedef struct FakeDns {
        sd_event *event;
        int udp_fd, tcp_fd;
        sd_event_source *udp_io, *tcp_io;
        FakeConn conns[FAKE_CONNS_MAX];
        uint16_t port;
        char address[32];            /* "127.0.0.1:PORT" */

        FakeRecord records[FAKE_RECORDS_MAX];
        size_t n_records;
        TsigKey *key;                /* accepted for updates */

        /* knobs */
        bool drop;                   /* answer nothing */
        unsigned drop_first;         /* answer nothing to the first N UDP queries */
        bool truncate_udp;           /* answer UDP with TC and no records */
        bool wrong_id_first;         /* send an answer with another ID before the real one */
        bool wrong_id_only;          /* send only answers with another ID (UDP and TCP) */
        bool no_authority;           /* leave the SOA out of NXDOMAIN/NODATA answers */
        int force_rcode;             /* > 0: answer updates with this RCODE (signed) */
        int force_tsig_error;        /* > 0: answer updates with this TSIG error */
        bool update_unsigned;        /* answer updates without TSIG */
        TsigKey *sign_key;           /* sign update answers with this key instead */
        int64_t time_offset;         /* added to the time in signed answers */
        const char *add_txt_name;    /* add this TXT ... */
        const char *add_txt_value;
        unsigned add_after_queries;  /* ... when this many TXT queries were answered */

        /* counters */
        unsigned udp_queries, tcp_queries, txt_queries, soa_queries, updates;
} FakeDns;

static inline uint64_t fake_now(void) {
        return (uint64_t) time(NULL);
}

_unused_ static void fake_add(FakeDns *f, const char *name, uint16_t type, const char *data) {
        if (f->n_records >= FAKE_RECORDS_MAX)
                abort();
        FakeRecord *r = &f->records[f->n_records++];
        if (strlen(name) >= sizeof r->name || strlen(data) >= sizeof r->data)
                abort();
        memcpy(r->name, name, strlen(name) + 1);
        r->type = type;
        memcpy(r->data, data, strlen(data) + 1);
}

static inline bool fake_has(const FakeDns *f, const char *name, uint16_t type, const char *data) {
        for (size_t i = 0; i < f->n_records; i++)
                if (f->records[i].type == type && dns_name_equal(f->records[i].name, name) &&
                    (!data || streq(f->records[i].data, data)))
                        return true;
        return false;
}

static inline void fake_remove(FakeDns *f, const char *name, uint16_t type, const char *data) {
        for (size_t i = 0; i < f->n_records; i++)
                if (f->records[i].type == type && dns_name_equal(f->records[i].name, name) &&
                    streq(f->records[i].data, data)) {
                        f->records[i] = f->records[--f->n_records];
                        return;
                }
}

/* The SOA record of the zone name is in (the longest SOA owner above it), or NULL. */
static inline const FakeRecord *fake_zone_of(const FakeDns *f, const char *name) {
        const FakeRecord *best = NULL;
        uint8_t w[DNS_NAME_WIRE_MAX];

        for (size_t i = 0; i < f->n_records; i++)
                if (f->records[i].type == DNS_TYPE_SOA && dns_name_is_in_zone(name, f->records[i].name) &&
                    (!best || dns_name_to_wire(f->records[i].name, w) > dns_name_to_wire(best->name, w)))
                        best = &f->records[i];
        return best;
}

static inline void fake_write_record(DnsWriter *w, const FakeRecord *r, uint32_t ttl) {
        size_t pos = dns_writer_record_begin(w, r->name, r->type, DNS_CLASS_IN, ttl);
        struct in6_addr a6;
        struct in_addr a4;

        switch (r->type) {
        case DNS_TYPE_A:
                if (inet_pton(AF_INET, r->data, &a4) != 1)
                        abort();
                dns_writer_bytes(w, &a4, sizeof a4);
                break;
        case DNS_TYPE_AAAA:
                if (inet_pton(AF_INET6, r->data, &a6) != 1)
                        abort();
                dns_writer_bytes(w, &a6, sizeof a6);
                break;
        case DNS_TYPE_NS:
        case DNS_TYPE_CNAME:
                dns_writer_name(w, r->data, false);
                break;
        case DNS_TYPE_TXT:
                dns_writer_character_strings(w, r->data, strlen(r->data));
                break;
        case DNS_TYPE_SOA:
                dns_writer_name(w, r->data, false);
                dns_writer_name(w, "hostmaster.invalid", false);
                for (int i = 0; i < 5; i++)
                        dns_writer_u32(w, 60);
                break;
        }
        dns_writer_record_end(w, pos);
}

/* Answer a query from the store. */
static inline void fake_answer_query(FakeDns *f, const DnsMessage *q, DnsWriter *w) {
        const DnsQuestion *qu = &q->questions[0];
        const FakeRecord *zone = fake_zone_of(f, qu->name);
        size_t n_answer = 0;
        bool name_exists = false;

        if (qu->type == DNS_TYPE_TXT)
                f->txt_queries++;
        if (qu->type == DNS_TYPE_SOA)
                f->soa_queries++;
        if (f->add_txt_name && f->txt_queries == f->add_after_queries)
                fake_add(f, f->add_txt_name, DNS_TYPE_TXT, f->add_txt_value);

        if (!zone) {
                dns_writer_header(w, q->id, DNS_FLAGS_MAKE(true, DNS_OPCODE_QUERY, DNS_RCODE_REFUSED), 1, 0, 0, 0);
                dns_writer_name(w, qu->name, false);
                dns_writer_u16(w, qu->type);
                dns_writer_u16(w, qu->class);
                return;
        }
        for (size_t i = 0; i < f->n_records; i++)
                if (dns_name_is_in_zone(f->records[i].name, qu->name)) {
                        name_exists = true; /* the name, or an empty non-terminal above a name */
                        if (dns_name_equal(f->records[i].name, qu->name) &&
                            (f->records[i].type == qu->type || f->records[i].type == DNS_TYPE_CNAME))
                                n_answer++;
                }
        bool authority = n_answer == 0 && !f->no_authority;
        unsigned rcode = name_exists ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN;
        dns_writer_header(w, q->id, DNS_FLAGS_MAKE(true, DNS_OPCODE_QUERY, rcode) | DNS_FLAG_AA | (q->flags & DNS_FLAG_RD),
                          1, (uint16_t) n_answer, authority ? 1 : 0, 0);
        dns_writer_name(w, qu->name, false);
        dns_writer_u16(w, qu->type);
        dns_writer_u16(w, qu->class);
        for (size_t i = 0; i < f->n_records; i++)
                if (dns_name_equal(f->records[i].name, qu->name) &&
                    (f->records[i].type == qu->type || f->records[i].type == DNS_TYPE_CNAME))
                        fake_write_record(w, &f->records[i], 60);
        if (authority)
                fake_write_record(w, zone, 60);
}

/* Sign (or not) an update answer in w with the request's MAC. */
static inline void fake_finish_update(FakeDns *f, DnsWriter *w, const uint8_t *request_mac, uint16_t tsig_error,
                                      bool sign) {
        uint8_t *msg = NULL;
        size_t size = 0;
        const TsigKey *k = f->sign_key ?: f->key;

        if (!sign || !k)
                return;
        if (dns_writer_finish(w, &msg, &size) < 0)
                abort();
        if (tsig_sign(k, (uint64_t) ((int64_t) fake_now() + f->time_offset), request_mac, TSIG_MAC_SIZE, tsig_error,
                      &msg, &size, NULL) < 0)
                abort();
        *w = (DnsWriter) { .data = msg, .size = size, .allocated = size };
}

/* An unsigned answer carrying a TSIG error (as BADKEY and BADSIG are sent). */
static inline void fake_append_tsig_error(DnsWriter *w, const char *key_name, uint16_t id, uint16_t error) {
        size_t pos;

        dns_writer_patch_u16(w, 10, 1);
        pos = dns_writer_record_begin(w, key_name, DNS_TYPE_TSIG, DNS_CLASS_ANY, 0);
        dns_writer_name(w, TSIG_ALGORITHM, true);
        dns_writer_u48(w, fake_now());
        dns_writer_u16(w, TSIG_FUDGE);
        dns_writer_u16(w, 0);
        dns_writer_u16(w, id);
        dns_writer_u16(w, error);
        dns_writer_u16(w, 0);
        dns_writer_record_end(w, pos);
}

/* Verify, apply and answer an UPDATE. */
static inline void fake_answer_update(FakeDns *f, const uint8_t *data, size_t size, const DnsMessage *q, DnsWriter *w) {
        const uint8_t *request_mac = NULL;
        TsigInfo info;
        unsigned rcode = DNS_RCODE_NOERROR;
        uint16_t tsig_error = 0;
        int r;

        f->updates++;
        r = f->key ? tsig_verify(f->key, NULL, 0, data, size, q, fake_now(), NULL) : -ENOKEY;
        if (r == -ENOKEY)
                tsig_error = DNS_RCODE_BADKEY;
        else if (r == -EKEYREJECTED)
                tsig_error = DNS_RCODE_BADSIG;
        else if (r == -EKEYEXPIRED)
                tsig_error = DNS_RCODE_BADTIME;
        else if (r < 0)
                rcode = DNS_RCODE_FORMERR;
        if (f->force_tsig_error > 0)
                tsig_error = (uint16_t) f->force_tsig_error;
        if (q->tsig && tsig_info(data, size, q, &info) >= 0 && info.mac_size == TSIG_MAC_SIZE)
                request_mac = data + q->tsig->rdata_offset + q->tsig->rdlength - 6 - TSIG_MAC_SIZE;

        if (tsig_error == 0 && rcode == 0) {
                const FakeRecord *zone = q->n_questions == 1 ? fake_zone_of(f, q->questions[0].name) : NULL;

                if (!zone || !dns_name_equal(zone->name, q->questions[0].name))
                        rcode = DNS_RCODE_NOTAUTH;
                for (size_t i = 0; rcode == 0 && i < q->n_records[DNS_SECTION_AUTHORITY]; i++) {
                        const DnsResourceRecord *rr = &q->records[DNS_SECTION_AUTHORITY][i];
                        char value[1024] = "";
                        size_t off = 0;

                        if (!dns_name_is_in_zone(rr->name, zone->name)) {
                                rcode = DNS_RCODE_NOTZONE;
                                break;
                        }
                        for (size_t k = 0; k < rr->n_txt && off + rr->txt[k].len < sizeof value; k++) {
                                memcpy(value + off, rr->txt[k].data, rr->txt[k].len);
                                off += rr->txt[k].len;
                        }
                        value[off] = 0;
                        if (rr->type != DNS_TYPE_TXT)
                                rcode = DNS_RCODE_FORMERR;
                        else if (rr->class == DNS_CLASS_IN && !fake_has(f, rr->name, DNS_TYPE_TXT, value))
                                fake_add(f, rr->name, DNS_TYPE_TXT, value);
                        else if (rr->class == DNS_CLASS_NONE)
                                fake_remove(f, rr->name, DNS_TYPE_TXT, value);
                }
        }
        if (f->force_rcode > 0)
                rcode = (unsigned) f->force_rcode;
        if (tsig_error != 0)
                rcode = DNS_RCODE_NOTAUTH;

        dns_writer_header(w, q->id, DNS_FLAGS_MAKE(true, DNS_OPCODE_UPDATE, rcode), q->n_questions ? 1 : 0, 0, 0, 0);
        if (q->n_questions) {
                dns_writer_name(w, q->questions[0].name, false);
                dns_writer_u16(w, q->questions[0].type);
                dns_writer_u16(w, q->questions[0].class);
        }
        if (f->update_unsigned)
                return;
        if ((tsig_error == DNS_RCODE_BADKEY || tsig_error == DNS_RCODE_BADSIG) && q->tsig) {
                fake_append_tsig_error(w, q->tsig->name, q->id, tsig_error);
                return;
        }
        fake_finish_update(f, w, request_mac, tsig_error, request_mac != NULL);
}

/* The answer to one message, into w (left empty: no answer). */
static inline void fake_handle(FakeDns *f, const uint8_t *data, size_t size, bool tcp, DnsWriter *w) {
        _cleanup_(dns_message_freep) DnsMessage *q = NULL;

        if (f->drop)
                return;
        if (dns_message_parse(data, size, &q) < 0 || q->n_questions != 1) {
                if (size >= 2) {
                        dns_writer_header(w, (uint16_t) (data[0] << 8 | data[1]),
                                          DNS_FLAGS_MAKE(true, DNS_OPCODE_QUERY, DNS_RCODE_FORMERR), 0, 0, 0, 0);
                }
                return;
        }
        if (!tcp && f->truncate_udp) {
                dns_writer_header(w, q->id, (uint16_t) (DNS_FLAGS_MAKE(true, dns_message_opcode(q), 0) | DNS_FLAG_TC), 1, 0, 0, 0);
                dns_writer_name(w, q->questions[0].name, false);
                dns_writer_u16(w, q->questions[0].type);
                dns_writer_u16(w, q->questions[0].class);
                return;
        }
        if (dns_message_opcode(q) == DNS_OPCODE_UPDATE)
                fake_answer_update(f, data, size, q, w);
        else
                fake_answer_query(f, q, w);
}

_unused_ static int fake_on_udp(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FakeDns *f = userdata;
        uint8_t buf[65536];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n;

        n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &fromlen);
        if (n < 0)
                return 0;
        f->udp_queries++;
        if (f->drop_first > 0) {
                f->drop_first--;
                return 0;
        }

        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        fake_handle(f, buf, (size_t) n, false, &w);
        if (w.error < 0 || w.size == 0)
                return 0;
        if ((f->wrong_id_first || f->wrong_id_only) && w.size >= 2) {
                w.data[0] ^= 0x5a;
                (void) sendto(fd, w.data, w.size, 0, (struct sockaddr *) &from, fromlen);
                w.data[0] ^= 0x5a;
                if (f->wrong_id_only)
                        return 0;
        }
        (void) sendto(fd, w.data, w.size, 0, (struct sockaddr *) &from, fromlen);
        return 0;
}

_unused_ static void fake_conn_close(FakeConn *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        c->buf = mfree(c->buf);
        c->got = 0;
}

/* Serve a complete framed message on connection c, if there is one. */
_unused_ static void fake_conn_serve(FakeDns *f, FakeConn *c) {
        size_t len;

        if (c->got < 2)
                return;
        len = (size_t) c->buf[0] << 8 | c->buf[1];
        if (c->got < 2 + len)
                return;
        f->tcp_queries++;

        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        fake_handle(f, c->buf + 2, len, true, &w);
        if (w.error >= 0 && w.size > 0) {
                if (f->wrong_id_only)
                        w.data[0] ^= 0x5a;
                uint8_t hdr[2] = { (uint8_t) (w.size >> 8), (uint8_t) w.size };
                /* Small answers to a local peer: two plain writes do. */
                (void) send(c->fd, hdr, 2, MSG_NOSIGNAL);
                (void) send(c->fd, w.data, w.size, MSG_NOSIGNAL);
        }
        fake_conn_close(c);
}

_unused_ static int fake_on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FakeDns *f = userdata;

        for (size_t i = 0; i < FAKE_CONNS_MAX; i++)
                if (f->conns[i].io == s) {
                        FakeConn *c = &f->conns[i];
                        ssize_t n = recv(fd, c->buf + c->got, 2 + 65535 - c->got, MSG_DONTWAIT);

                        if (n < 0 && errno == EAGAIN)
                                break;
                        if (n <= 0) {
                                fake_conn_close(c);
                                break;
                        }
                        c->got += (size_t) n;
                        fake_conn_serve(f, c);
                        break;
                }
        return 0;
}

_unused_ static int fake_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FakeDns *f = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
                return 0;
        for (size_t i = 0; i < FAKE_CONNS_MAX; i++)
                if (f->conns[i].fd < 0) {
                        FakeConn *c = &f->conns[i];
                        c->fd = cfd;
                        c->buf = malloc(2 + 65535);
                        if (!c->buf || sd_event_add_io(f->event, &c->io, cfd, EPOLLIN, fake_on_conn_io, f) < 0)
                                fake_conn_close(c);
                        return 0;
                }
        close(cfd);
        return 0;
}

/* Start serving on 127.0.0.1: a free UDP port, and TCP on the same port (another
 * free port is tried if that one is taken for TCP). Returns 0 or a negative errno. */
_unused_ static int fake_dns_start(FakeDns *f, sd_event *e) {
        *f = (FakeDns) { .udp_fd = -EBADF, .tcp_fd = -EBADF };
        for (size_t i = 0; i < FAKE_CONNS_MAX; i++)
                f->conns[i].fd = -EBADF;
        f->event = sd_event_ref(e);

        for (int attempt = 0; attempt < 20; attempt++) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t len = sizeof sa;

                f->udp_fd = safe_close(f->udp_fd);
                f->tcp_fd = safe_close(f->tcp_fd);
                f->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                f->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (f->udp_fd < 0 || f->tcp_fd < 0)
                        return -errno;
                if (bind(f->udp_fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
                    getsockname(f->udp_fd, (struct sockaddr *) &sa, &len) < 0)
                        return -errno;
                if (bind(f->tcp_fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        continue;
                if (listen(f->tcp_fd, 8) < 0)
                        return -errno;
                f->port = ntohs(sa.sin_port);
                snprintf(f->address, sizeof f->address, "127.0.0.1:%u", f->port);
                if (sd_event_add_io(e, &f->udp_io, f->udp_fd, EPOLLIN, fake_on_udp, f) < 0 ||
                    sd_event_add_io(e, &f->tcp_io, f->tcp_fd, EPOLLIN, fake_on_accept, f) < 0)
                        return -ENOMEM;
                return 0;
        }
        return -EADDRINUSE;
}

_unused_ static void fake_dns_stop(FakeDns *f) {
        for (size_t i = 0; i < FAKE_CONNS_MAX; i++)
                fake_conn_close(&f->conns[i]);
        f->udp_io = sd_event_source_disable_unref(f->udp_io);
        f->tcp_io = sd_event_source_disable_unref(f->tcp_io);
        f->udp_fd = safe_close(f->udp_fd);
        f->tcp_fd = safe_close(f->tcp_fd);
        f->key = tsig_key_free(f->key);
        f->sign_key = tsig_key_free(f->sign_key);
        f->event = sd_event_unref(f->event);
}

/* A zone: SOA at origin (mname ns.ORIGIN), NS ns.ORIGIN, A ns.ORIGIN 127.0.0.1. */
_unused_ static void fake_add_zone(FakeDns *f, const char *origin) {
        char ns[300];

        snprintf(ns, sizeof ns, "ns.%s", origin);
        fake_add(f, origin, DNS_TYPE_SOA, ns);
        fake_add(f, origin, DNS_TYPE_NS, ns);
        fake_add(f, ns, DNS_TYPE_A, "127.0.0.1");
}

/* Run the loop until *done is set or the (generous) time limit passes. Returns 0 or
 * -ETIMEDOUT. The limit only guards against hangs: tests assert on outcomes. */
_unused_ static int fake_run_until(sd_event *e, const bool *done, uint64_t limit_usec) {
        uint64_t start, now;

        if (sd_event_now(e, CLOCK_MONOTONIC, &start) < 0)
                return -EIO;
        while (!*done) {
                if (sd_event_run(e, 100 * USEC_PER_MSEC) < 0)
                        return -EIO;
                if (sd_event_now(e, CLOCK_MONOTONIC, &now) < 0)
                        return -EIO;
                if (now - start > limit_usec)
                        return -ETIMEDOUT;
        }
        return 0;
}
