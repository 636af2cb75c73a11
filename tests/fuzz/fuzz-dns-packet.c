/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the DNS message parser (what any server, or anyone forging
 * its address, can send us), to the TSIG checks of a parsed message, to the name parser
 * (the same bytes as a presentation-form name) and to the resolv.conf reader. Nothing
 * may crash or leak, and whatever is accepted must keep the parser's promises: every
 * name it produces is a valid name that converts to wire form and back unchanged. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns-packet.h"
#include "dns-resolver.h"
#include "tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A name from the parser must survive text → wire → text. */
static void check_name(const char *name) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        char *back = NULL;
        int len;

        if (!name)
                abort();
        len = dns_name_to_wire(name, wire);
        if (len <= 0 || dns_name_from_wire(wire, (size_t) len, &back) < 0)
                abort();
        if (strcmp(back, name) != 0 || !dns_name_equal(back, name))
                abort();
        free(back);
}

static void fuzz_message(const uint8_t *data, size_t size) {
        static const uint8_t secret[32] = "fuzzing-fuzzing-fuzzing-fuzzing";
        DnsMessage *m = NULL;
        TsigKey *key = NULL;
        TsigInfo info;
        uint16_t error = 0;

        if (dns_message_parse(data, size, &m) < 0)
                return;
        for (size_t i = 0; i < m->n_questions; i++)
                check_name(m->questions[i].name);
        for (size_t s = 0; s < _DNS_SECTION_MAX; s++)
                for (size_t i = 0; i < m->n_records[s]; i++) {
                        const DnsResourceRecord *rr = &m->records[s][i];

                        check_name(rr->name);
                        if (rr->rdata_offset + rr->rdlength > size || rr->offset >= rr->rdata_offset)
                                abort();
                        if (rr->type == DNS_TYPE_NS || rr->type == DNS_TYPE_CNAME)
                                check_name(rr->target);
                        if (rr->type == DNS_TYPE_SOA) {
                                check_name(rr->soa.mname);
                                check_name(rr->soa.rname);
                        }
                        if (rr->type == DNS_TYPE_TXT) {
                                for (size_t k = 0; k < rr->n_txt; k++)
                                        if (rr->txt[k].len > 255 || rr->txt[k].data[rr->txt[k].len] != 0)
                                                abort();
                                (void) dns_record_txt_has(rr, "fuzz");
                        }
                }
        if (m->tsig) {
                if (m->n_records[DNS_SECTION_ADDITIONAL] == 0 ||
                    m->tsig != &m->records[DNS_SECTION_ADDITIONAL][m->n_records[DNS_SECTION_ADDITIONAL] - 1])
                        abort();
                (void) tsig_info(data, size, m, &info);
                if (tsig_key_new(m->tsig->name, secret, sizeof secret, &key) >= 0) {
                        (void) tsig_verify(key, NULL, 0, data, size, m, 0, &error);
                        (void) tsig_verify(key, secret, sizeof secret, data, size, m, 0, &error);
                        tsig_key_free(key);
                }
        } else if (tsig_info(data, size, m, &info) != -ENOMSG)
                abort();
        dns_message_free(m);
}

static void fuzz_name(const char *s) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        char *text = NULL, *norm = NULL;
        int len = dns_name_to_wire(s, wire);

        if (len < 0) {
                if (dns_name_normalize(s, &norm) >= 0)
                        abort();
                return;
        }
        if (len == 0 || len > DNS_NAME_WIRE_MAX || dns_name_from_wire(wire, (size_t) len, &text) < 0)
                abort();
        if (!dns_name_equal(text, s))
                abort();
        check_name(text);
        if (dns_name_normalize(s, &norm) < 0 || !dns_name_equal(norm, s))
                abort();
        (void) dns_name_parent(s);
        (void) dns_name_is_in_zone(s, "example.test");
        free(text);
        free(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DnsServer *servers = NULL;
        char *s;
        int n;

        if (size > DNS_MESSAGE_MAX)
                return 0;
        fuzz_message(data, size);

        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        fuzz_name(s);
        free(s);

        n = dns_resolv_conf_parse((const char *) data, size, &servers);
        if (n < 0 || n > DNS_RESOLVERS_MAX || (n == 0) != (servers == NULL))
                abort();
        free(servers);
        return 0;
}
