/* SPDX-License-Identifier: MIT */
/* Building and parsing DNS messages (RFC 1035, UPDATE from RFC 2136). Nothing here does
 * I/O. Messages we build are never compressed: they are small, and an uncompressed
 * message is what TSIG signs anyway. */

#include <openssl/rand.h>

#include "dns-packet.h"

static inline uint8_t ascii_lower(uint8_t c) {
        return c >= 'A' && c <= 'Z' ? (uint8_t) (c - 'A' + 'a') : c;
}

/* ---- names ---- */

int dns_name_to_wire(const char *name, uint8_t *buf) {
        const char *p = name;
        size_t len = 0;

        if (streq(name, ".") || streq(name, "")) {
                buf[0] = 0;
                return 1;
        }

        for (;;) {
                size_t label_start = len++, n = 0;

                /* One label up to an unescaped '.' or the end. */
                while (*p && *p != '.') {
                        unsigned c = (unsigned char) *p++;

                        if (c == '\\') {
                                if (p[0] >= '0' && p[0] <= '9') {
                                        if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
                                                return -EINVAL;
                                        c = (unsigned) (p[0] - '0') * 100 + (unsigned) (p[1] - '0') * 10 +
                                            (unsigned) (p[2] - '0');
                                        if (c > 255)
                                                return -EINVAL;
                                        p += 3;
                                } else if (*p)
                                        c = (unsigned char) *p++;
                                else
                                        return -EINVAL;
                        }
                        if (n >= DNS_LABEL_MAX || len + 1 >= DNS_NAME_WIRE_MAX)
                                return -EINVAL;
                        buf[len++] = (uint8_t) c;
                        n++;
                }
                if (n == 0)
                        return -EINVAL; /* "a..b", ".a", or "a.." */
                buf[label_start] = (uint8_t) n;
                if (!*p || (p[0] == '.' && !p[1]))
                        break;
                p++;
        }
        buf[len++] = 0;
        return (int) len;
}

/* The offset of each label in a valid wire name, and their number (the root excluded). */
static size_t wire_labels(const uint8_t *wire, size_t offsets[static DNS_NAME_WIRE_MAX / 2]) {
        size_t n = 0;

        for (size_t i = 0; wire[i] != 0; i += 1 + wire[i])
                offsets[n++] = i;
        return n;
}

int dns_name_from_wire(const uint8_t *wire, size_t len, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t i = 0, o = 0;

        if (len == 0 || len > DNS_NAME_WIRE_MAX)
                return -EBADMSG;
        /* At most 4 characters per byte (\DDD), plus dots and the NUL. */
        s = malloc(len * 4 + 2);
        if (!s)
                return -ENOMEM;

        while (i < len && wire[i] != 0) {
                size_t n = wire[i];

                if (n > DNS_LABEL_MAX || i + 1 + n >= len)
                        return -EBADMSG;
                if (o > 0)
                        s[o++] = '.';
                for (size_t k = i + 1; k <= i + n; k++) {
                        uint8_t c = wire[k];

                        if (c == '.' || c == '\\') {
                                s[o++] = '\\';
                                s[o++] = (char) c;
                        } else if (c > 0x20 && c < 0x7f)
                                s[o++] = (char) c;
                        else
                                o += (size_t) sprintf(s + o, "\\%03u", c);
                }
                i += 1 + n;
        }
        if (i != len - 1 || wire[i] != 0)
                return -EBADMSG;
        if (o == 0)
                s[o++] = '.';
        s[o] = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

int dns_name_normalize(const char *name, char **ret) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        int len;

        len = dns_name_to_wire(name, wire);
        if (len < 0)
                return len;
        for (int i = 0; i < len; i++)
                wire[i] = ascii_lower(wire[i]); /* length bytes are < 64: unchanged */
        return dns_name_from_wire(wire, (size_t) len, ret);
}

static bool wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
        if (alen != blen)
                return false;
        for (size_t i = 0; i < alen; i++)
                if (ascii_lower(a[i]) != ascii_lower(b[i]))
                        return false;
        return true;
}

bool dns_name_equal(const char *a, const char *b) {
        uint8_t wa[DNS_NAME_WIRE_MAX], wb[DNS_NAME_WIRE_MAX];
        int la, lb;

        if (!a || !b)
                return false;
        la = dns_name_to_wire(a, wa);
        lb = dns_name_to_wire(b, wb);
        return la > 0 && lb > 0 && wire_equal(wa, (size_t) la, wb, (size_t) lb);
}

bool dns_name_is_in_zone(const char *name, const char *zone) {
        uint8_t wn[DNS_NAME_WIRE_MAX], wz[DNS_NAME_WIRE_MAX];
        size_t offsets[DNS_NAME_WIRE_MAX / 2], n;
        int ln, lz;

        if (!name || !zone)
                return false;
        ln = dns_name_to_wire(name, wn);
        lz = dns_name_to_wire(zone, wz);
        if (ln < 0 || lz < 0)
                return false;
        if (lz == 1)
                return true;
        n = wire_labels(wn, offsets);
        for (size_t i = 0; i < n; i++)
                if (wire_equal(wn + offsets[i], (size_t) ln - offsets[i], wz, (size_t) lz))
                        return true;
        return false;
}

const char *dns_name_parent(const char *name) {
        const char *p = name;

        if (!name || streq(name, ".") || streq(name, ""))
                return NULL;
        for (; *p; p++) {
                if (*p == '\\' && p[1])
                        p++;
                else if (*p == '.')
                        return p[1] ? p + 1 : ".";
        }
        return ".";
}

/* ---- building ---- */

static bool writer_reserve(DnsWriter *w, size_t n) {
        if (w->error < 0)
                return false;
        if (n > DNS_MESSAGE_MAX - w->size) {
                w->error = -EMSGSIZE;
                return false;
        }
        if (w->size + n > w->allocated) {
                size_t a = w->allocated ? w->allocated : 512;
                uint8_t *d;

                while (a < w->size + n)
                        a *= 2;
                d = realloc(w->data, a);
                if (!d) {
                        w->error = -ENOMEM;
                        return false;
                }
                w->data = d;
                w->allocated = a;
        }
        return true;
}

void dns_writer_bytes(DnsWriter *w, const void *p, size_t n) {
        if (n == 0 || !writer_reserve(w, n))
                return;
        memcpy(w->data + w->size, p, n);
        w->size += n;
}

void dns_writer_u8(DnsWriter *w, uint8_t v) {
        dns_writer_bytes(w, &v, 1);
}

void dns_writer_u16(DnsWriter *w, uint16_t v) {
        uint8_t b[2] = { (uint8_t) (v >> 8), (uint8_t) v };
        dns_writer_bytes(w, b, sizeof b);
}

void dns_writer_u32(DnsWriter *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
        dns_writer_bytes(w, b, sizeof b);
}

void dns_writer_u48(DnsWriter *w, uint64_t v) {
        dns_writer_u16(w, (uint16_t) (v >> 32));
        dns_writer_u32(w, (uint32_t) v);
}

void dns_writer_name(DnsWriter *w, const char *name, bool canonical) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        int len;

        if (w->error < 0)
                return;
        len = dns_name_to_wire(name, wire);
        if (len < 0) {
                w->error = len;
                return;
        }
        if (canonical)
                for (int i = 0; i < len; i++)
                        wire[i] = ascii_lower(wire[i]);
        dns_writer_bytes(w, wire, (size_t) len);
}

void dns_writer_character_strings(DnsWriter *w, const char *s, size_t len) {
        do {
                size_t n = len > 255 ? 255 : len;

                dns_writer_u8(w, (uint8_t) n);
                dns_writer_bytes(w, s, n);
                s += n;
                len -= n;
        } while (len > 0);
}

void dns_writer_header(DnsWriter *w, uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t ancount,
                       uint16_t nscount, uint16_t arcount) {
        dns_writer_u16(w, id);
        dns_writer_u16(w, flags);
        dns_writer_u16(w, qdcount);
        dns_writer_u16(w, ancount);
        dns_writer_u16(w, nscount);
        dns_writer_u16(w, arcount);
}

size_t dns_writer_record_begin(DnsWriter *w, const char *name, uint16_t type, uint16_t class, uint32_t ttl) {
        size_t pos;

        dns_writer_name(w, name, false);
        dns_writer_u16(w, type);
        dns_writer_u16(w, class);
        dns_writer_u32(w, ttl);
        pos = w->size;
        dns_writer_u16(w, 0);
        return pos;
}

void dns_writer_patch_u16(DnsWriter *w, size_t pos, uint16_t v) {
        if (w->error < 0 || pos + 2 > w->size)
                return;
        w->data[pos] = (uint8_t) (v >> 8);
        w->data[pos + 1] = (uint8_t) v;
}

void dns_writer_record_end(DnsWriter *w, size_t rdlength_pos) {
        if (w->error < 0 || rdlength_pos + 2 > w->size)
                return;
        /* At most 65535 - 12 bytes fit after any RDLENGTH position. */
        dns_writer_patch_u16(w, rdlength_pos, (uint16_t) (w->size - rdlength_pos - 2));
}

void dns_writer_done(DnsWriter *w) {
        w->data = mfree(w->data);
        w->size = w->allocated = 0;
}

int dns_writer_finish(DnsWriter *w, uint8_t **ret, size_t *ret_size) {
        int r = w->error;

        if (r < 0) {
                dns_writer_done(w);
                return r;
        }
        *ret = TAKE_PTR(w->data);
        *ret_size = w->size;
        w->size = w->allocated = 0;
        return 0;
}

int dns_random_id(uint16_t *ret) {
        uint8_t b[2];

        if (RAND_bytes(b, sizeof b) != 1)
                return -EIO;
        *ret = (uint16_t) (b[0] << 8 | b[1]);
        return 0;
}

int dns_message_build_query(uint16_t id, const char *name, uint16_t type, bool recursion_desired, uint8_t **ret,
                            size_t *ret_size) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;

        if (!name || !ret || !ret_size)
                return -EINVAL;
        dns_writer_header(&w, id, recursion_desired ? DNS_FLAG_RD : 0, 1, 0, 0, 0);
        dns_writer_name(&w, name, false);
        dns_writer_u16(&w, type);
        dns_writer_u16(&w, DNS_CLASS_IN);
        return dns_writer_finish(&w, ret, ret_size);
}

int dns_message_build_update_txt(uint16_t id, const char *zone, const char *name, const char *value,
                                 DnsTxtChange change, uint8_t **ret, size_t *ret_size) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        bool add = change == DNS_TXT_ADD;
        size_t rdlength_pos;

        if (!zone || !name || !value || change < 0 || change >= _DNS_TXT_CHANGE_MAX || !ret || !ret_size)
                return -EINVAL;
        if (!dns_name_is_in_zone(name, zone))
                return -EINVAL;

        dns_writer_header(&w, id, DNS_FLAGS_MAKE(false, DNS_OPCODE_UPDATE, 0), 1, 0, 1, 0);
        /* Zone section. */
        dns_writer_name(&w, zone, false);
        dns_writer_u16(&w, DNS_TYPE_SOA);
        dns_writer_u16(&w, DNS_CLASS_IN);
        /* Update section: one RR to add (class IN) or to delete (class NONE, TTL 0). */
        rdlength_pos = dns_writer_record_begin(&w, name, DNS_TYPE_TXT, add ? DNS_CLASS_IN : DNS_CLASS_NONE,
                                               add ? DNS_UPDATE_TXT_TTL : 0);
        dns_writer_character_strings(&w, value, strlen(value));
        dns_writer_record_end(&w, rdlength_pos);
        return dns_writer_finish(&w, ret, ret_size);
}

/* ---- parsing ---- */

int dns_reader_bytes(DnsReader *r, size_t n, const uint8_t **ret) {
        if (r->pos > r->size || n > r->size - r->pos)
                return -EBADMSG;
        *ret = r->data + r->pos;
        r->pos += n;
        return 0;
}

int dns_reader_u8(DnsReader *r, uint8_t *ret) {
        const uint8_t *p;

        if (dns_reader_bytes(r, 1, &p) < 0)
                return -EBADMSG;
        *ret = p[0];
        return 0;
}

int dns_reader_u16(DnsReader *r, uint16_t *ret) {
        const uint8_t *p;

        if (dns_reader_bytes(r, 2, &p) < 0)
                return -EBADMSG;
        *ret = (uint16_t) (p[0] << 8 | p[1]);
        return 0;
}

int dns_reader_u32(DnsReader *r, uint32_t *ret) {
        const uint8_t *p;

        if (dns_reader_bytes(r, 4, &p) < 0)
                return -EBADMSG;
        *ret = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
        return 0;
}

int dns_reader_u48(DnsReader *r, uint64_t *ret) {
        uint16_t hi;
        uint32_t lo;

        if (dns_reader_u16(r, &hi) < 0 || dns_reader_u32(r, &lo) < 0)
                return -EBADMSG;
        *ret = (uint64_t) hi << 32 | lo;
        return 0;
}

/* Follow labels and compression pointers. A pointer must lead to an offset before the
 * start of the labels being read (and past the header), so every jump goes strictly
 * backwards and no loop is possible; the 255-byte limit is checked as we go. */
int dns_reader_name(DnsReader *r, char **ret) {
        uint8_t wire[DNS_NAME_WIRE_MAX];
        size_t pos = r->pos, run_start = r->pos, len = 0, end = 0;
        bool jumped = false;
        int k;

        for (;;) {
                uint8_t c;

                if (pos >= r->size)
                        return -EBADMSG;
                c = r->data[pos];
                if ((c & 0xc0) == 0xc0) {
                        size_t target;

                        if (pos + 1 >= r->size)
                                return -EBADMSG;
                        target = (size_t) (c & 0x3f) << 8 | r->data[pos + 1];
                        if (target >= run_start || target < DNS_HEADER_SIZE)
                                return -EBADMSG;
                        if (!jumped)
                                end = pos + 2;
                        jumped = true;
                        pos = run_start = target;
                        continue;
                }
                if (c & 0xc0)
                        return -EBADMSG; /* the obsolete extended label types */
                if (c == 0)
                        break;
                if (c > r->size - pos - 1 || len + 1 + c + 1 > DNS_NAME_WIRE_MAX)
                        return -EBADMSG;
                memcpy(wire + len, r->data + pos, 1 + (size_t) c);
                len += 1 + (size_t) c;
                pos += 1 + (size_t) c;
        }
        wire[len++] = 0;

        k = dns_name_from_wire(wire, len, ret);
        if (k < 0)
                return k;
        r->pos = jumped ? end : pos + 1;
        return 0;
}

static void record_clear(DnsResourceRecord *rr) {
        free(rr->name);
        for (size_t i = 0; i < rr->n_txt; i++)
                free(rr->txt[i].data);
        free(rr->txt);
        free(rr->target);
        free(rr->soa.mname);
        free(rr->soa.rname);
}

DnsMessage *dns_message_free(DnsMessage *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_questions; i++)
                free(m->questions[i].name);
        free(m->questions);
        for (size_t s = 0; s < _DNS_SECTION_MAX; s++) {
                for (size_t i = 0; i < m->n_records[s]; i++)
                        record_clear(&m->records[s][i]);
                free(m->records[s]);
        }
        free(m);
        return NULL;
}

static int parse_txt(DnsReader *r, size_t end, DnsResourceRecord *rr) {
        while (r->pos < end) {
                const uint8_t *p;
                uint8_t n;
                DnsString *a;

                if (dns_reader_u8(r, &n) < 0 || n > end - r->pos || dns_reader_bytes(r, n, &p) < 0)
                        return -EBADMSG;
                a = reallocarray(rr->txt, rr->n_txt + 1, sizeof *a);
                if (!a)
                        return -ENOMEM;
                rr->txt = a;
                a[rr->n_txt].data = malloc((size_t) n + 1);
                if (!a[rr->n_txt].data)
                        return -ENOMEM;
                memcpy(a[rr->n_txt].data, p, n); /* every byte, NULs included */
                a[rr->n_txt].data[n] = 0;
                a[rr->n_txt].len = n;
                rr->n_txt++;
        }
        return 0;
}

/* Decode the RDATA of the types we read; r is at the RDATA, which ends at end. */
static int parse_rdata(DnsReader *r, size_t end, DnsResourceRecord *rr) {
        const uint8_t *p;
        int k;

        switch (rr->type) {
        case DNS_TYPE_A:
                if (end - r->pos != sizeof rr->a || dns_reader_bytes(r, sizeof rr->a, &p) < 0)
                        return -EBADMSG;
                memcpy(&rr->a, p, sizeof rr->a);
                return 0;
        case DNS_TYPE_AAAA:
                if (end - r->pos != sizeof rr->aaaa || dns_reader_bytes(r, sizeof rr->aaaa, &p) < 0)
                        return -EBADMSG;
                memcpy(&rr->aaaa, p, sizeof rr->aaaa);
                return 0;
        case DNS_TYPE_NS:
        case DNS_TYPE_CNAME:
                return dns_reader_name(r, &rr->target);
        case DNS_TYPE_SOA:
                k = dns_reader_name(r, &rr->soa.mname);
                if (k < 0)
                        return k;
                k = dns_reader_name(r, &rr->soa.rname);
                if (k < 0)
                        return k;
                if (dns_reader_u32(r, &rr->soa.serial) < 0 || dns_reader_u32(r, &rr->soa.refresh) < 0 ||
                    dns_reader_u32(r, &rr->soa.retry) < 0 || dns_reader_u32(r, &rr->soa.expire) < 0 ||
                    dns_reader_u32(r, &rr->soa.minimum) < 0)
                        return -EBADMSG;
                return 0;
        case DNS_TYPE_TXT:
                return parse_txt(r, end, rr);
        default:
                r->pos = end;
                return 0;
        }
}

static int parse_record(DnsReader *r, DnsResourceRecord *rr) {
        size_t end;
        int k;

        rr->offset = r->pos;
        k = dns_reader_name(r, &rr->name);
        if (k < 0)
                return k;
        if (dns_reader_u16(r, &rr->type) < 0 || dns_reader_u16(r, &rr->class) < 0 ||
            dns_reader_u32(r, &rr->ttl) < 0 || dns_reader_u16(r, &rr->rdlength) < 0)
                return -EBADMSG;
        if (rr->rdlength > r->size - r->pos)
                return -EBADMSG;
        rr->rdata_offset = r->pos;
        end = r->pos + rr->rdlength;

        /* A name in the RDATA may point anywhere before it, but must end inside it. */
        DnsReader sub = { .data = r->data, .size = end, .pos = r->pos };
        k = parse_rdata(&sub, end, rr);
        if (k < 0)
                return k;
        if (sub.pos != end)
                return -EBADMSG;
        r->pos = end;
        return 0;
}

int dns_message_parse(const uint8_t *data, size_t size, DnsMessage **ret) {
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        DnsReader r = { .data = data, .size = size };
        uint16_t counts[1 + _DNS_SECTION_MAX];
        int k;

        if (!data || !ret)
                return -EINVAL;
        if (size < DNS_HEADER_SIZE || size > DNS_MESSAGE_MAX)
                return -EBADMSG;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        (void) dns_reader_u16(&r, &m->id);
        (void) dns_reader_u16(&r, &m->flags);
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                (void) dns_reader_u16(&r, &counts[i]);

        /* Counts beyond what the rest could hold are lies: refuse them before allocating
         * (a question takes at least 5 bytes, a record 11). */
        if (counts[0] > (size - r.pos) / 5)
                return -EBADMSG;
        if (counts[0] > 0) {
                m->questions = calloc(counts[0], sizeof *m->questions);
                if (!m->questions)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < counts[0]; i++) {
                DnsQuestion *q = &m->questions[m->n_questions++];

                k = dns_reader_name(&r, &q->name);
                if (k < 0)
                        return k;
                if (dns_reader_u16(&r, &q->type) < 0 || dns_reader_u16(&r, &q->class) < 0)
                        return -EBADMSG;
        }

        for (size_t s = 0; s < _DNS_SECTION_MAX; s++) {
                size_t n = counts[1 + s];

                if (n == 0)
                        continue;
                if (n > (size - r.pos) / 11)
                        return -EBADMSG;
                m->records[s] = calloc(n, sizeof(DnsResourceRecord));
                if (!m->records[s])
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        DnsResourceRecord *rr = &m->records[s][m->n_records[s]++];

                        k = parse_record(&r, rr);
                        if (k < 0)
                                return k;
                        /* TSIG must be the very last record (RFC 8945 §5.1), once. */
                        if (rr->type == DNS_TYPE_TSIG) {
                                if (s != DNS_SECTION_ADDITIONAL || i != n - 1)
                                        return -EBADMSG;
                                m->tsig = rr;
                        }
                }
        }
        if (r.pos != size)
                return -EBADMSG;

        *ret = TAKE_PTR(m);
        return 0;
}

bool dns_record_txt_has(const DnsResourceRecord *rr, const char *value) {
        size_t vlen, off = 0;
        bool joined = true;

        if (!rr || !value || rr->type != DNS_TYPE_TXT)
                return false;
        vlen = strlen(value);
        for (size_t i = 0; i < rr->n_txt; i++) {
                const DnsString *t = &rr->txt[i];

                if (t->len == vlen && memcmp(t->data, value, vlen) == 0)
                        return true;
                if (joined && t->len <= vlen - off && memcmp(t->data, value + off, t->len) == 0)
                        off += t->len;
                else
                        joined = false;
        }
        return joined && rr->n_txt > 0 && off == vlen;
}

static const char *const rcode_names[] = {
        [DNS_RCODE_NOERROR] = "NOERROR",   [DNS_RCODE_FORMERR] = "FORMERR",   [DNS_RCODE_SERVFAIL] = "SERVFAIL",
        [DNS_RCODE_NXDOMAIN] = "NXDOMAIN", [DNS_RCODE_NOTIMP] = "NOTIMP",     [DNS_RCODE_REFUSED] = "REFUSED",
        [DNS_RCODE_YXDOMAIN] = "YXDOMAIN", [DNS_RCODE_YXRRSET] = "YXRRSET",   [DNS_RCODE_NXRRSET] = "NXRRSET",
        [DNS_RCODE_NOTAUTH] = "NOTAUTH",   [DNS_RCODE_NOTZONE] = "NOTZONE",   [DNS_RCODE_BADSIG] = "BADSIG",
        [DNS_RCODE_BADKEY] = "BADKEY",     [DNS_RCODE_BADTIME] = "BADTIME",   [DNS_RCODE_BADTRUNC] = "BADTRUNC",
};

const char *dns_rcode_to_string(unsigned rcode) {
        return rcode < ELEMENTSOF(rcode_names) ? rcode_names[rcode] : NULL;
}

const char *dns_type_to_string(uint16_t type) {
        switch (type) {
        case DNS_TYPE_A:
                return "A";
        case DNS_TYPE_NS:
                return "NS";
        case DNS_TYPE_CNAME:
                return "CNAME";
        case DNS_TYPE_SOA:
                return "SOA";
        case DNS_TYPE_TXT:
                return "TXT";
        case DNS_TYPE_AAAA:
                return "AAAA";
        case DNS_TYPE_OPT:
                return "OPT";
        case DNS_TYPE_TSIG:
                return "TSIG";
        case DNS_TYPE_ANY:
                return "ANY";
        default:
                return NULL;
        }
}

int dns_rcode_to_errno(unsigned rcode) {
        switch (rcode) {
        case DNS_RCODE_NOERROR:
                return 0;
        case DNS_RCODE_FORMERR:
                return -EBADMSG;
        case DNS_RCODE_SERVFAIL:
                return -EIO;
        case DNS_RCODE_NXDOMAIN:
        case DNS_RCODE_NXRRSET:
                return -ENOENT;
        case DNS_RCODE_NOTIMP:
                return -EOPNOTSUPP;
        case DNS_RCODE_REFUSED:
                return -EACCES;
        case DNS_RCODE_YXDOMAIN:
        case DNS_RCODE_YXRRSET:
                return -EEXIST;
        case DNS_RCODE_NOTAUTH:
                return -EPERM;
        case DNS_RCODE_BADSIG:
                return -EKEYREJECTED;
        case DNS_RCODE_BADKEY:
                return -ENOKEY;
        case DNS_RCODE_BADTIME:
                return -EKEYEXPIRED;
        default:
                return -EPROTO;
        }
}
