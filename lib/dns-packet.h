/* SPDX-License-Identifier: MIT */
#pragma once

/* DNS messages on the wire (RFC 1035) as dns-01 over RFC 2136 needs them: queries,
 * UPDATE messages that add or delete one TXT record, and a strict parser of answers.
 *
 * Names are handled in presentation form: labels separated by '.', no trailing dot
 * ("." alone is the root), bytes other than printable ASCII written as \DDD, and '.'
 * or '\' inside a label escaped with '\'. The parser produces that form; the functions
 * taking names accept it (a trailing dot is allowed). Names compare without regard to
 * ASCII case.
 *
 * The parser refuses anything malformed (-EBADMSG): compression pointers that do not
 * point strictly backwards (which also rules out loops), labels over 63 bytes, names
 * over 255 bytes, records running past their RDATA or the message, trailing bytes,
 * a TSIG record anywhere but last. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define DNS_PORT 53
#define DNS_HEADER_SIZE 12
#define DNS_MESSAGE_MAX 65535
#define DNS_NAME_WIRE_MAX 255
#define DNS_LABEL_MAX 63
/* The TTL of TXT records added by an UPDATE. */
#define DNS_UPDATE_TXT_TTL 60

enum {
        DNS_TYPE_A = 1,
        DNS_TYPE_NS = 2,
        DNS_TYPE_CNAME = 5,
        DNS_TYPE_SOA = 6,
        DNS_TYPE_TXT = 16,
        DNS_TYPE_AAAA = 28,
        DNS_TYPE_OPT = 41,
        DNS_TYPE_TSIG = 250,
        DNS_TYPE_ANY = 255,
};

enum {
        DNS_CLASS_IN = 1,
        DNS_CLASS_NONE = 254,
        DNS_CLASS_ANY = 255,
};

enum {
        DNS_OPCODE_QUERY = 0,
        DNS_OPCODE_UPDATE = 5,
};

enum {
        DNS_RCODE_NOERROR = 0,
        DNS_RCODE_FORMERR = 1,
        DNS_RCODE_SERVFAIL = 2,
        DNS_RCODE_NXDOMAIN = 3,
        DNS_RCODE_NOTIMP = 4,
        DNS_RCODE_REFUSED = 5,
        DNS_RCODE_YXDOMAIN = 6,
        DNS_RCODE_YXRRSET = 7,
        DNS_RCODE_NXRRSET = 8,
        DNS_RCODE_NOTAUTH = 9,
        DNS_RCODE_NOTZONE = 10,
        /* TSIG errors (RFC 8945), carried in the TSIG record's Error field. */
        DNS_RCODE_BADSIG = 16,
        DNS_RCODE_BADKEY = 17,
        DNS_RCODE_BADTIME = 18,
        DNS_RCODE_BADTRUNC = 22,
};

/* Bits of the second header word. */
#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RA 0x0080u
#define DNS_FLAGS_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_FLAGS_RCODE(f) ((f) & 0xfu)
#define DNS_FLAGS_MAKE(qr, opcode, rcode) \
        ((uint16_t) (((qr) ? DNS_FLAG_QR : 0u) | (((unsigned) (opcode) & 0xfu) << 11) | ((unsigned) (rcode) & 0xfu)))

/* ---- names ---- */

/* Convert a name in presentation form to uncompressed wire form in buf (at least
 * DNS_NAME_WIRE_MAX bytes). Returns the length, or -EINVAL for an empty label, a label
 * over 63 bytes, a name over 255 bytes or a bad escape. "" and "." are the root. */
int dns_name_to_wire(const char *name, uint8_t *buf);
/* The presentation form of a wire name of len bytes (uncompressed, ending in the root
 * label). Returns 0, -EBADMSG if it is malformed, -ENOMEM. */
int dns_name_from_wire(const uint8_t *wire, size_t len, char **ret);
/* Canonical presentation form: lower case, no trailing dot, escapes normalised. Returns
 * 0, -EINVAL for an invalid name, -ENOMEM. */
int dns_name_normalize(const char *name, char **ret);
/* Equality without regard to ASCII case; invalid names equal nothing. */
bool dns_name_equal(const char *a, const char *b);
/* True if name is zone or below it (whole labels; every name is below the root). */
bool dns_name_is_in_zone(const char *name, const char *zone);
/* The name without its first label ("b.c" for "a.b.c", "." for "c"), pointing into
 * name; NULL for the root. */
const char *dns_name_parent(const char *name);

/* ---- building ---- */

/* A growing message buffer with a sticky error: after a failure (-ENOMEM, -EMSGSIZE
 * past 65535 bytes, -EINVAL for a bad name) every later write is a no-op and
 * dns_writer_finish() returns the first error. Initialise with DNS_WRITER_INIT. */
typedef struct DnsWriter {
        uint8_t *data;
        size_t size, allocated;
        int error;
} DnsWriter;
#define DNS_WRITER_INIT ((DnsWriter) {})

void dns_writer_u8(DnsWriter *w, uint8_t v);
void dns_writer_u16(DnsWriter *w, uint16_t v);
void dns_writer_u32(DnsWriter *w, uint32_t v);
void dns_writer_u48(DnsWriter *w, uint64_t v);
void dns_writer_bytes(DnsWriter *w, const void *p, size_t n);
/* A name, uncompressed; lower-cased when canonical (as TSIG computes its MAC). */
void dns_writer_name(DnsWriter *w, const char *name, bool canonical);
/* s as one or more <character-string>s of at most 255 bytes each. */
void dns_writer_character_strings(DnsWriter *w, const char *s, size_t len);
/* The 12-byte header. */
void dns_writer_header(DnsWriter *w, uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t ancount,
                       uint16_t nscount, uint16_t arcount);
/* Start a resource record: owner, type, class, TTL and a placeholder RDLENGTH, whose
 * position is returned for dns_writer_record_end() once the RDATA is written. */
size_t dns_writer_record_begin(DnsWriter *w, const char *name, uint16_t type, uint16_t class, uint32_t ttl);
void dns_writer_record_end(DnsWriter *w, size_t rdlength_pos);
/* Overwrite the 16-bit value at pos (which must have been written). */
void dns_writer_patch_u16(DnsWriter *w, size_t pos, uint16_t v);
/* Hand out the buffer (0), or return the sticky error; the writer is emptied either way. */
int dns_writer_finish(DnsWriter *w, uint8_t **ret, size_t *ret_size);
void dns_writer_done(DnsWriter *w);

/* A random message ID (from OpenSSL's CSPRNG). Returns 0 or -EIO. */
int dns_random_id(uint16_t *ret);
/* A query for name/type (class IN), with RD set if recursion_desired. */
int dns_message_build_query(uint16_t id, const char *name, uint16_t type, bool recursion_desired, uint8_t **ret,
                            size_t *ret_size);

typedef enum DnsTxtChange {
        DNS_TXT_ADD,    /* add name TXT value, class IN, TTL 60 */
        DNS_TXT_DELETE, /* delete that one record: class NONE, TTL 0, same RDATA */
        _DNS_TXT_CHANGE_MAX,
} DnsTxtChange;

/* An UPDATE (RFC 2136) for zone (zone section: zone SOA IN) changing one TXT record of
 * name, which must be in the zone. value is put in strings of at most 255 bytes. No
 * prerequisites; sign it with tsig_sign() before sending. Returns 0, -EINVAL, -ENOMEM. */
int dns_message_build_update_txt(uint16_t id, const char *zone, const char *name, const char *value,
                                 DnsTxtChange change, uint8_t **ret, size_t *ret_size);

/* ---- parsing ---- */

/* A cursor over a whole message (so that compression pointers can be followed). Every
 * read fails with -EBADMSG rather than run past size. */
typedef struct DnsReader {
        const uint8_t *data;
        size_t size;
        size_t pos;
} DnsReader;

int dns_reader_u8(DnsReader *r, uint8_t *ret);
int dns_reader_u16(DnsReader *r, uint16_t *ret);
int dns_reader_u32(DnsReader *r, uint32_t *ret);
int dns_reader_u48(DnsReader *r, uint64_t *ret);
int dns_reader_bytes(DnsReader *r, size_t n, const uint8_t **ret);
/* A possibly compressed name, in presentation form. */
int dns_reader_name(DnsReader *r, char **ret);

typedef struct DnsQuestion {
        char *name;
        uint16_t type, class;
} DnsQuestion;

/* One <character-string> of a TXT record; data is NUL-terminated too, but may hold NULs. */
typedef struct DnsString {
        char *data;
        size_t len;
} DnsString;

typedef struct DnsResourceRecord {
        char *name;
        uint16_t type, class;
        uint32_t ttl;
        size_t offset;   /* where the record starts in the message */
        size_t rdata_offset;
        uint16_t rdlength;

        /* Decoded RDATA of the types read here; other types only have the offsets. */
        DnsString *txt;  /* TXT */
        size_t n_txt;
        char *target;    /* NS, CNAME */
        struct {
                char *mname, *rname;
                uint32_t serial, refresh, retry, expire, minimum;
        } soa;
        struct in_addr a;
        struct in6_addr aaaa;
} DnsResourceRecord;

typedef enum DnsSection {
        DNS_SECTION_ANSWER,     /* prerequisites in an UPDATE */
        DNS_SECTION_AUTHORITY,  /* updates in an UPDATE */
        DNS_SECTION_ADDITIONAL,
        _DNS_SECTION_MAX,
} DnsSection;

typedef struct DnsMessage {
        uint16_t id;
        uint16_t flags;
        DnsQuestion *questions; /* the zone section in an UPDATE */
        size_t n_questions;
        DnsResourceRecord *records[_DNS_SECTION_MAX];
        size_t n_records[_DNS_SECTION_MAX];
        /* The TSIG record (the last additional one), or NULL. */
        const DnsResourceRecord *tsig;
} DnsMessage;

/* Parse a whole message. Returns 0, -EBADMSG for anything malformed, -ENOMEM. */
int dns_message_parse(const uint8_t *data, size_t size, DnsMessage **ret);
DnsMessage *dns_message_free(DnsMessage *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsMessage *, dns_message_free);

static inline unsigned dns_message_rcode(const DnsMessage *m) {
        return DNS_FLAGS_RCODE(m->flags);
}
static inline unsigned dns_message_opcode(const DnsMessage *m) {
        return DNS_FLAGS_OPCODE(m->flags);
}

/* True if the TXT record holds value: as one of its strings, or as all of them joined
 * (how values longer than 255 bytes are stored). */
bool dns_record_txt_has(const DnsResourceRecord *rr, const char *value);

/* "NOERROR", "NXDOMAIN", …, "BADKEY"; NULL for codes without a name here. */
const char *dns_rcode_to_string(unsigned rcode);
/* "A", "TXT", …; NULL for others. */
const char *dns_type_to_string(uint16_t type);
/* A negative errno for an RCODE or TSIG error: REFUSED -EACCES, NOTAUTH -EPERM, NOTZONE
 * -EPROTO, NXDOMAIN/NXRRSET -ENOENT, YXDOMAIN/YXRRSET -EEXIST, FORMERR -EBADMSG,
 * SERVFAIL -EIO, NOTIMP -EOPNOTSUPP, BADSIG -EKEYREJECTED, BADKEY -ENOKEY, BADTIME
 * -EKEYEXPIRED, anything else -EPROTO; 0 for NOERROR. */
int dns_rcode_to_errno(unsigned rcode);
