/* SPDX-License-Identifier: MIT */
/* TSIG keys and signatures (RFC 8945), hmac-sha256 only.
 *
 * The key file reader is a small tokenizer over BIND's syntax with a recursive-descent
 * reader of exactly `key NAME { algorithm ALG; secret "B64"; };`. Its error texts quote
 * nothing from the file but the names of known algorithms, so a secret written in the
 * wrong place cannot end up in a log. */

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <strings.h>

#include "b64url.h"
#include "fileio.h"
#include "ssl-util.h"
#include "tsig.h"

/* ---- keys ---- */

TsigKey *tsig_key_free(TsigKey *k) {
        if (!k)
                return NULL;
        if (k->secret) {
                OPENSSL_cleanse(k->secret, k->secret_size);
                free(k->secret);
        }
        free(k->name);
        free(k);
        return NULL;
}

int tsig_key_new(const char *name, const void *secret, size_t secret_size, TsigKey **ret) {
        _cleanup_(tsig_key_freep) TsigKey *k = NULL;
        int r;

        if (!name || !secret || secret_size == 0 || !ret)
                return -EINVAL;
        if (streq(name, ".") || streq(name, ""))
                return -EINVAL;
        k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        r = dns_name_normalize(name, &k->name);
        if (r < 0)
                return r;
        k->secret = malloc(secret_size);
        if (!k->secret)
                return -ENOMEM;
        memcpy(k->secret, secret, secret_size);
        k->secret_size = secret_size;
        *ret = TAKE_PTR(k);
        return 0;
}

int tsig_key_copy(const TsigKey *k, TsigKey **ret) {
        if (!k)
                return -EINVAL;
        return tsig_key_new(k->name, k->secret, k->secret_size, ret);
}

/* ---- the key file ---- */

typedef enum TokenType {
        TOKEN_END,
        TOKEN_WORD,
        TOKEN_STRING,
        TOKEN_LBRACE,
        TOKEN_RBRACE,
        TOKEN_SEMICOLON,
} TokenType;

typedef struct Lexer {
        const char *p, *end;
        unsigned line;
        /* The current token: its type, text (into the input) and line. */
        TokenType type;
        const char *text;
        size_t len;
        unsigned token_line;
        char *error;
} Lexer;

_printf_(2, 3) static int lexer_error(Lexer *l, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        free(l->error);
        l->error = s;
        return -EINVAL;
}

/* Skip whitespace and comments; -EINVAL for an unterminated comment. */
static int lexer_skip(Lexer *l) {
        while (l->p < l->end) {
                char c = *l->p;

                if (c == '\n') {
                        l->line++;
                        l->p++;
                } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
                        l->p++;
                else if (c == '#' || (c == '/' && l->end - l->p > 1 && l->p[1] == '/')) {
                        while (l->p < l->end && *l->p != '\n')
                                l->p++;
                } else if (c == '/' && l->end - l->p > 1 && l->p[1] == '*') {
                        unsigned start = l->line;

                        l->p += 2;
                        for (;;) {
                                if (l->end - l->p < 2) {
                                        l->line = start;
                                        return lexer_error(l, "line %u: unterminated /* comment", start);
                                }
                                if (l->p[0] == '*' && l->p[1] == '/')
                                        break;
                                if (*l->p == '\n')
                                        l->line++;
                                l->p++;
                        }
                        l->p += 2;
                } else
                        break;
        }
        return 0;
}

static bool is_word_char(char c) {
        return (unsigned char) c > ' ' && c != 0x7f && c != '{' && c != '}' && c != ';' && c != '"';
}

/* Advance to the next token. */
static int lexer_next(Lexer *l) {
        int r;

        r = lexer_skip(l);
        if (r < 0)
                return r;
        l->token_line = l->line;
        l->text = l->p;
        l->len = 0;
        if (l->p >= l->end) {
                l->type = TOKEN_END;
                return 0;
        }
        switch (*l->p) {
        case '{':
                l->type = TOKEN_LBRACE;
                l->p++;
                return 0;
        case '}':
                l->type = TOKEN_RBRACE;
                l->p++;
                return 0;
        case ';':
                l->type = TOKEN_SEMICOLON;
                l->p++;
                return 0;
        case '"':
                l->type = TOKEN_STRING;
                l->text = ++l->p;
                while (l->p < l->end && *l->p != '"') {
                        if (*l->p == '\\')
                                return lexer_error(l, "line %u: backslashes are not supported in strings", l->line);
                        if (*l->p == '\n')
                                return lexer_error(l, "line %u: unterminated string", l->token_line);
                        l->p++;
                }
                if (l->p >= l->end)
                        return lexer_error(l, "line %u: unterminated string", l->token_line);
                l->len = (size_t) (l->p - l->text);
                l->p++;
                return 0;
        default:
                if (!is_word_char(*l->p))
                        return lexer_error(l, "line %u: unexpected control character", l->line);
                l->type = TOKEN_WORD;
                /* A comment may follow a word directly. */
                while (l->p < l->end && is_word_char(*l->p) && *l->p != '#' &&
                       !(*l->p == '/' && l->end - l->p > 1 && (l->p[1] == '/' || l->p[1] == '*')))
                        l->p++;
                l->len = (size_t) (l->p - l->text);
                return 0;
        }
}

static bool token_is(const Lexer *l, const char *keyword) {
        return l->type == TOKEN_WORD && l->len == strlen(keyword) && strncasecmp(l->text, keyword, l->len) == 0;
}

/* Expect a token of type t (described as what) and move past it. */
static int lexer_expect(Lexer *l, TokenType t, const char *what, const char *after) {
        if (l->type != t)
                return lexer_error(l, "line %u: expected %s after %s", l->token_line, what, after);
        return lexer_next(l);
}

/* The value of a statement: a word or a quoted string, copied. */
static int lexer_value(Lexer *l, const char *after, char **ret) {
        char *s;

        if (l->type != TOKEN_WORD && l->type != TOKEN_STRING)
                return lexer_error(l, "line %u: expected a value after %s", l->token_line, after);
        s = strndup(l->text, l->len);
        if (!s)
                return -ENOMEM;
        if (strlen(s) != l->len) {
                free(s);
                return lexer_error(l, "line %u: NUL byte in a value", l->token_line);
        }
        *ret = s;
        return lexer_next(l);
}

static void erase_freep(char **p) {
        if (*p) {
                OPENSSL_cleanse(*p, strlen(*p));
                free(*p);
        }
}

/* Standard base64 (RFC 4648 §4) with padding; whitespace inside is ignored, as BIND
 * does. Decoded by b64url_decode() after mapping the alphabet, so that the secret goes
 * through the constant-time decoder. */
static int secret_decode(const char *s, uint8_t **ret, size_t *ret_len) {
        _cleanup_(erase_freep) char *t = NULL;
        size_t n = 0, pad = 0;

        /* Zeroed, so that it is a string (for erase_freep()) on every early return. */
        t = calloc(strlen(s) + 1, 1);
        if (!t)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                char c = *p;

                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                if (c == '-' || c == '_')
                        return -EINVAL;  /* base64url, not base64 */
                if (c == '=') {
                        pad++;
                        continue;
                }
                if (pad > 0)
                        return -EINVAL;  /* data after padding */
                t[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
        }
        t[n] = 0;
        if (n == 0 || pad > 2 || (n + pad) % 4 != 0)
                return -EINVAL;
        return b64url_decode(t, n, ret, ret_len);
}

/* Algorithm names BIND knows: quoting one in an error is safe (and helpful). */
static bool algorithm_is_known(const char *a) {
        static const char *const known[] = {
                "hmac-md5", "hmac-md5.sig-alg.reg.int", "hmac-sha1", "hmac-sha224", "hmac-sha384",
                "hmac-sha512", "hmac-sha256-128", "hmac-sha1-80", "gss-tsig",
        };

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcasecmp(a, known[i]) == 0)
                        return true;
        return false;
}

/* key NAME { algorithm ALG; secret "B64"; }; — with the lexer at the first token. */
static int parse_key(Lexer *l, TsigKey **ret) {
        _cleanup_free_ char *name = NULL, *algorithm = NULL;
        _cleanup_(erase_freep) char *secret = NULL;
        _cleanup_free_ uint8_t *raw = NULL;
        size_t raw_len = 0;
        unsigned secret_line = 0;
        int r;

        if (l->type == TOKEN_END)
                return lexer_error(l, "no key statement found");
        if (!token_is(l, "key"))
                return lexer_error(l, "line %u: expected a key statement (only one key, nothing else, may be in the file)",
                                   l->token_line);
        r = lexer_next(l);
        if (r < 0)
                return r;
        r = lexer_value(l, "key", &name);
        if (r < 0)
                return r;
        r = lexer_expect(l, TOKEN_LBRACE, "'{'", "the key name");
        if (r < 0)
                return r;

        while (l->type != TOKEN_RBRACE) {
                unsigned line = l->token_line;

                if (token_is(l, "algorithm")) {
                        if (algorithm)
                                return lexer_error(l, "line %u: algorithm given twice", line);
                        r = lexer_next(l);
                        if (r >= 0)
                                r = lexer_value(l, "algorithm", &algorithm);
                        if (r >= 0)
                                r = lexer_expect(l, TOKEN_SEMICOLON, "';'", "the algorithm");
                        if (r < 0)
                                return r;
                        if (strcasecmp(algorithm, TSIG_ALGORITHM) != 0) {
                                if (algorithm_is_known(algorithm))
                                        return lexer_error(l, "line %u: algorithm %s is not supported, only " TSIG_ALGORITHM " is",
                                                           line, algorithm);
                                return lexer_error(l, "line %u: unknown algorithm, only " TSIG_ALGORITHM " is supported", line);
                        }
                } else if (token_is(l, "secret")) {
                        if (secret)
                                return lexer_error(l, "line %u: secret given twice", line);
                        r = lexer_next(l);
                        if (r >= 0)
                                r = lexer_value(l, "secret", &secret);
                        if (r >= 0)
                                r = lexer_expect(l, TOKEN_SEMICOLON, "';'", "the secret");
                        if (r < 0)
                                return r;
                        secret_line = line;
                } else if (l->type == TOKEN_END)
                        return lexer_error(l, "line %u: missing '}' at the end of the key", line);
                else
                        return lexer_error(l, "line %u: unknown statement in the key (only algorithm and secret may be there)",
                                           line);
        }
        r = lexer_next(l);
        if (r < 0)
                return r;
        r = lexer_expect(l, TOKEN_SEMICOLON, "';'", "'}'");
        if (r < 0)
                return r;
        if (l->type != TOKEN_END)
                return lexer_error(l, "line %u: more after the key statement (only one key may be in the file)",
                                   l->token_line);

        if (!algorithm)
                return lexer_error(l, "the key has no algorithm (algorithm " TSIG_ALGORITHM ";)");
        if (!secret)
                return lexer_error(l, "the key has no secret");
        r = secret_decode(secret, &raw, &raw_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return lexer_error(l, "line %u: the secret is not valid base64", secret_line);
        r = tsig_key_new(name, raw, raw_len, ret);
        OPENSSL_cleanse(raw, raw_len);
        if (r == -EINVAL)
                return lexer_error(l, "the key name is not a valid DNS name");
        return r;
}

int tsig_key_parse(const char *text, size_t len, TsigKey **ret, char **ret_error) {
        Lexer l = { .p = text, .end = text + len, .line = 1 };
        int r;

        if (!text || !ret)
                return -EINVAL;
        r = lexer_next(&l);
        if (r >= 0)
                r = parse_key(&l, ret);
        if (r < 0 && ret_error && l.error)
                *ret_error = TAKE_PTR(l.error);
        free(l.error);
        return r;
}

int tsig_key_load(const char *path, TsigKey **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t len = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = read_file_at_full(AT_FDCWD, path, 0, TSIG_KEY_FILE_MAX, &text, &len);
        if (r < 0) {
                if (ret_error && asprintf(&error, "%s: %s", path,
                                          r == -EFBIG ? "larger than a key file can be" : strerror(-r)) >= 0)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        r = tsig_key_parse(text, len, ret, &error);
        OPENSSL_cleanse(text, len);
        if (r < 0 && ret_error && error) {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s: %s", path, error) >= 0)
                        *ret_error = TAKE_PTR(full);
        }
        return r;
}

/* ---- signing and verifying ---- */

/* The MAC of: [request MAC size and MAC,] the message as it was before the TSIG record
 * was added, then the TSIG variables (RFC 8945 §4.3.3). */
static int compute_mac(const TsigKey *key, const uint8_t *request_mac, size_t request_mac_size, const uint8_t *msg,
                       size_t size, uint64_t time_signed, uint16_t fudge, uint16_t error, const uint8_t *other,
                       uint16_t other_len, uint8_t mac[static TSIG_MAC_SIZE]) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        size_t mac_len = 0;

        if (request_mac) {
                dns_writer_u16(&w, (uint16_t) request_mac_size);
                dns_writer_bytes(&w, request_mac, request_mac_size);
        }
        dns_writer_bytes(&w, msg, size);
        dns_writer_name(&w, key->name, true);
        dns_writer_u16(&w, DNS_CLASS_ANY);
        dns_writer_u32(&w, 0);
        dns_writer_name(&w, TSIG_ALGORITHM, true);
        dns_writer_u48(&w, time_signed);
        dns_writer_u16(&w, fudge);
        dns_writer_u16(&w, error);
        dns_writer_u16(&w, other_len);
        dns_writer_bytes(&w, other, other_len);
        if (w.error < 0)
                return w.error;

        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->secret, key->secret_size, w.data, w.size, mac,
                       TSIG_MAC_SIZE, &mac_len) ||
            mac_len != TSIG_MAC_SIZE)
                return ssl_error(-EIO);
        return 0;
}

int tsig_sign(const TsigKey *key, uint64_t now, const uint8_t *request_mac, size_t request_mac_size, uint16_t error,
              uint8_t **msg, size_t *size, uint8_t *ret_mac) {
        _cleanup_(dns_writer_done) DnsWriter w = DNS_WRITER_INIT;
        uint8_t mac[TSIG_MAC_SIZE];
        uint16_t arcount;
        size_t rdlength_pos;
        int r;

        if (!key || !msg || !*msg || !size || *size < DNS_HEADER_SIZE || request_mac_size > UINT16_MAX ||
            now > UINT64_C(0xffffffffffff))
                return -EINVAL;
        arcount = (uint16_t) ((*msg)[10] << 8 | (*msg)[11]);
        if (arcount == UINT16_MAX)
                return -EMSGSIZE;

        r = compute_mac(key, request_mac, request_mac_size, *msg, *size, now, TSIG_FUDGE, error, NULL, 0, mac);
        if (r < 0)
                return r;

        dns_writer_bytes(&w, *msg, *size);
        dns_writer_patch_u16(&w, 10, (uint16_t) (arcount + 1));
        rdlength_pos = dns_writer_record_begin(&w, key->name, DNS_TYPE_TSIG, DNS_CLASS_ANY, 0);
        dns_writer_name(&w, TSIG_ALGORITHM, true);
        dns_writer_u48(&w, now);
        dns_writer_u16(&w, TSIG_FUDGE);
        dns_writer_u16(&w, TSIG_MAC_SIZE);
        dns_writer_bytes(&w, mac, sizeof mac);
        dns_writer_bytes(&w, *msg, 2); /* original ID */
        dns_writer_u16(&w, error);
        dns_writer_u16(&w, 0);         /* other len */
        dns_writer_record_end(&w, rdlength_pos);

        uint8_t *out = NULL;
        size_t out_size = 0;
        r = dns_writer_finish(&w, &out, &out_size);
        if (r < 0)
                return r;
        free(*msg);
        *msg = out;
        *size = out_size;
        if (ret_mac)
                memcpy(ret_mac, mac, sizeof mac);
        return 0;
}

/* The fields of the TSIG record, and where its MAC and other data are. */
typedef struct TsigFields {
        TsigInfo info;
        char *algorithm;
        const uint8_t *mac, *other;
        uint16_t other_len;
} TsigFields;

static void tsig_fields_done(TsigFields *f) {
        f->algorithm = mfree(f->algorithm);
}

static int tsig_fields_parse(const uint8_t *msg, size_t size, const DnsMessage *m, TsigFields *ret) {
        const DnsResourceRecord *rr;
        DnsReader r;
        int k;

        if (!msg || !m)
                return -EINVAL;
        rr = m->tsig;
        if (!rr)
                return -ENOMSG;
        if (rr->class != DNS_CLASS_ANY || rr->rdata_offset + rr->rdlength > size)
                return -EBADMSG;

        r = (DnsReader) { .data = msg, .size = rr->rdata_offset + rr->rdlength, .pos = rr->rdata_offset };
        k = dns_reader_name(&r, &ret->algorithm);
        if (k < 0)
                return k;
        if (dns_reader_u48(&r, &ret->info.time_signed) < 0 || dns_reader_u16(&r, &ret->info.fudge) < 0 ||
            dns_reader_u16(&r, &ret->info.mac_size) < 0 || dns_reader_bytes(&r, ret->info.mac_size, &ret->mac) < 0 ||
            dns_reader_u16(&r, &ret->info.original_id) < 0 || dns_reader_u16(&r, &ret->info.error) < 0 ||
            dns_reader_u16(&r, &ret->other_len) < 0 || dns_reader_bytes(&r, ret->other_len, &ret->other) < 0 ||
            r.pos != r.size) {
                tsig_fields_done(ret);
                return -EBADMSG;
        }
        return 0;
}

int tsig_info(const uint8_t *msg, size_t size, const DnsMessage *m, TsigInfo *ret) {
        TsigFields f = {};
        int r;

        if (!ret)
                return -EINVAL;
        r = tsig_fields_parse(msg, size, m, &f);
        if (r < 0)
                return r;
        *ret = f.info;
        tsig_fields_done(&f);
        return 0;
}

int tsig_verify(const TsigKey *key, const uint8_t *request_mac, size_t request_mac_size, const uint8_t *msg,
                size_t size, const DnsMessage *m, uint64_t now, uint16_t *ret_error) {
        _cleanup_(tsig_fields_done) TsigFields f = {};
        _cleanup_free_ uint8_t *unsigned_msg = NULL;
        uint8_t mac[TSIG_MAC_SIZE];
        size_t unsigned_size;
        uint16_t arcount;
        uint64_t fudge, skew;
        int r;

        if (!key || (!request_mac && request_mac_size > 0) || request_mac_size > UINT16_MAX)
                return -EINVAL;
        r = tsig_fields_parse(msg, size, m, &f);
        if (r < 0)
                return r;
        if (!dns_name_equal(m->tsig->name, key->name) || !dns_name_equal(f.algorithm, TSIG_ALGORITHM))
                return -ENOKEY;
        if (f.info.mac_size == 0)
                return -EKEYREJECTED;
        /* A truncated MAC must keep at least half of it (RFC 8945 §5.2.2.1). */
        if (f.info.mac_size < TSIG_MAC_SIZE / 2 || f.info.mac_size > TSIG_MAC_SIZE)
                return -EBADMSG;

        /* The message as it was signed: without the TSIG record, the original ID. */
        unsigned_size = m->tsig->offset;
        unsigned_msg = malloc(unsigned_size);
        if (!unsigned_msg)
                return -ENOMEM;
        memcpy(unsigned_msg, msg, unsigned_size);
        arcount = (uint16_t) (msg[10] << 8 | msg[11]);
        if (arcount == 0)
                return -EBADMSG;
        arcount--;
        unsigned_msg[0] = (uint8_t) (f.info.original_id >> 8);
        unsigned_msg[1] = (uint8_t) f.info.original_id;
        unsigned_msg[10] = (uint8_t) (arcount >> 8);
        unsigned_msg[11] = (uint8_t) arcount;

        r = compute_mac(key, request_mac, request_mac_size, unsigned_msg, unsigned_size, f.info.time_signed,
                        f.info.fudge, f.info.error, f.other, f.other_len, mac);
        if (r < 0)
                return r;
        if (CRYPTO_memcmp(mac, f.mac, f.info.mac_size) != 0)
                return -EKEYREJECTED;

        fudge = f.info.fudge < TSIG_FUDGE ? f.info.fudge : TSIG_FUDGE;
        skew = now > f.info.time_signed ? now - f.info.time_signed : f.info.time_signed - now;
        if (skew > fudge)
                return -EKEYEXPIRED;

        if (ret_error)
                *ret_error = f.info.error;
        return 0;
}
