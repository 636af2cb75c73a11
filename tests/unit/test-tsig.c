/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "dns-packet.h"
#include "macro.h"
#include "test.h"
#include "tsig.h"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

/* The keys BIND's tsig-keygen made for the vectors below. */
#define TESTKEY_SECRET "eMhAVz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1o="
#define OTHERKEY_SECRET "wfxsCCkOy666Z9W9OdTCY/BYabwLTtoWnxloRi8oOqs="
static const char testkey_file[] =
        "key \"testkey\" {\n"
        "\talgorithm hmac-sha256;\n"
        "\tsecret \"" TESTKEY_SECRET "\";\n"
        "};\n";
static const char otherkey_file[] =
        "key \"otherkey\" {\n"
        "\talgorithm hmac-sha256;\n"
        "\tsecret \"" OTHERKEY_SECRET "\";\n"
        "};\n";

/* Captured between BIND 9.18's nsupdate and named (zone example.test, allow-update
 * { key testkey; }), adding _acme-challenge.www.example.test TXT "LoqX…":
 *   add_*      signed with testkey: accepted, NOERROR signed by named;
 *   badsig_*   testkey's name with another secret: NOTAUTH, TSIG error BADSIG, unsigned;
 *   badkey_*   key "nosuchkey": NOTAUTH, BADKEY, unsigned;
 *   refused_*  otherkey, known to named but not allowed: REFUSED signed with otherkey. */
static const char add_req[] =
        "f29f28000001000000010001076578616d706c65047465737400000600010f5f61636d652d6368616c6c656e6765"
        "03777777076578616d706c65047465737400001000010000003c002c2b4c6f71586359563871354f4e624a517862"
        "6d52375343544e6f337469415844666f77796a78416a4575583007746573746b65790000fa00ff00000000003d0b"
        "686d61632d7368613235360000006b1351f6012c0020d37e21384d71a3392ec819af0e4f43f898b959a360232665"
        "fe3cac2e8bd7d9f8f29f00000000";
static const char add_resp[] =
        "f29fa8000001000000000001076578616d706c650474657374000006000107746573746b65790000fa00ff000000"
        "00003d0b686d61632d7368613235360000006b1351f6012c00205610d4e4000f9c860426e2597e95c48997579677"
        "3606777dc079b7dbe5f685bef29f00000000";
static const char badsig_resp[] =
        "085da8090001000000000001076578616d706c650474657374000006000107746573746b65790000fa00ff000000"
        "00001d0b686d61632d7368613235360000006b1351de012c0000085d00100000";
static const char badkey_resp[] =
        "de15a8090001000000000001076578616d706c6504746573740000060001096e6f737563686b65790000fa00ff00"
        "000000001d0b686d61632d7368613235360000006b1351de012c0000de1500110000";
static const char refused_req[] =
        "ddb628000001000000010001076578616d706c65047465737400000600010f5f61636d652d6368616c6c656e6765"
        "03777777076578616d706c65047465737400001000010000003c002c2b4c6f71586359563871354f4e624a517862"
        "6d52375343544e6f337469415844666f77796a78416a45755830086f746865726b65790000fa00ff00000000003d"
        "0b686d61632d7368613235360000006b1351de012c002086dcf95561336fa266232d886993c674c770cb35af55cb"
        "347300ce5e94abc13dddb600000000";
static const char refused_resp[] =
        "ddb6a8050001000000000001076578616d706c6504746573740000060001086f746865726b65790000fa00ff0000"
        "0000003d0b686d61632d7368613235360000006b1351de012c0020f239c504ba77e15fa06da0cc006caa6c92721c"
        "4bf33b3088c1896385696c5db0ddb600000000";
#define ADD_TIME UINT64_C(0x6b1351f6)
#define REFUSED_TIME UINT64_C(0x6b1351de)

typedef struct Bytes {
        uint8_t data[512];
        size_t size;
} Bytes;

static Bytes unhex(const char *hex) {
        Bytes b = {};

        b.size = strlen(hex) / 2;
        if (b.size > sizeof b.data)
                return (Bytes) {};
        for (size_t i = 0; i < b.size; i++) {
                unsigned v = 0;
                if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                        return (Bytes) {};
                b.data[i] = (uint8_t) v;
        }
        return b;
}

static TsigKey *parse_key(const char *text) {
        TsigKey *k = NULL;
        char *error = NULL;
        int r = tsig_key_parse(text, strlen(text), &k, &error);

        if (r < 0)
                fprintf(stderr, "key parse failed: %d %s\n", r, strna(error));
        free(error);
        return k;
}

/* Parse msg and verify it; returns what tsig_verify() does. */
static int verify(const TsigKey *k, const uint8_t *request_mac, const Bytes *msg, uint64_t now, uint16_t *ret_error) {
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        int r = dns_message_parse(msg->data, msg->size, &m);

        if (r < 0)
                return r;
        return tsig_verify(k, request_mac, request_mac ? TSIG_MAC_SIZE : 0, msg->data, msg->size, m, now, ret_error);
}

/* Where the TSIG record of msg starts (0 if none). */
static size_t tsig_offset(const Bytes *msg) {
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;

        if (dns_message_parse(msg->data, msg->size, &m) < 0 || !m->tsig)
                return 0;
        return m->tsig->offset;
}

/* The MAC of a signed message (its last 32 + 6 bytes hold MAC, original ID, error and
 * other len 0 when the MAC is full size). */
static const uint8_t *mac_of(const Bytes *msg) {
        return msg->data + msg->size - 6 - TSIG_MAC_SIZE;
}

TEST(key_file_from_tsig_keygen) {
        _cleanup_(tsig_key_freep) TsigKey *k = parse_key(testkey_file);
        static const uint8_t secret[] = {
                0x78, 0xc8, 0x40, 0x57, 0x3d, 0xae, 0xed, 0xff, 0xab, 0xa3, 0x32, 0x0f, 0x89, 0x38, 0xd7, 0xa6,
                0xaa, 0x5b, 0xda, 0x61, 0xe9, 0xf3, 0x39, 0x3e, 0xbd, 0x1c, 0xd1, 0x30, 0x62, 0x0a, 0x13, 0x5a,
        };

        REQUIRE(k);
        CHECK_STR(k->name, "testkey");
        CHECK_INT(k->secret_size, 32);
        CHECK(k->secret_size == sizeof secret && memcmp(k->secret, secret, sizeof secret) == 0);
}

TEST(key_file_variants) {
        static const char *const good[] = {
                /* unquoted, comments of every kind, odd spacing, keywords in capitals */
                "# generated\nkey acme.example. { // the key\n algorithm \"HMAC-SHA256\" ; /* ok */ secret\n"
                " \"" TESTKEY_SECRET "\";};",
                "KEY \"Acme.Example\"{ALGORITHM hmac-sha256;SECRET " TESTKEY_SECRET ";};\n\n",
                "key \"acme.example\" {\r\n\tsecret \"eMhAVz2u7f+rozIPiTjXpqpb \t 2mHp8zk+vRzRMGIKE1o=\";\r\n"
                "\talgorithm hmac-sha256;\r\n};\r\n",
                "/* multi\nline */ key acme.example#comment\n{algorithm hmac-sha256//c\n;secret \"" TESTKEY_SECRET "\";}\n;",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(tsig_key_freep) TsigKey *k = parse_key(good[i]);

                REQUIRE(k);
                CHECK_STR(k->name, "acme.example");
                CHECK_INT(k->secret_size, 32);
                CHECK_INT(k->secret[0], 0x78);
                CHECK_INT(k->secret[31], 0x5a);
        }
}

TEST(key_file_errors) {
        static const struct {
                const char *text, *error;
        } bad[] = {
                { "", "no key statement found" },
                { "# only a comment\n", "no key statement found" },
                { "options { };", "line 1: expected a key statement (only one key, nothing else, may be in the file)" },
                { "key {", "line 1: expected a value after key" },
                { "key k algorithm", "line 1: expected '{' after the key name" },
                { "key k {\n algorithm hmac-sha256\n secret \"" TESTKEY_SECRET "\";\n};",
                  "line 3: expected ';' after the algorithm" },
                { "key k {\n algorithm hmac-sha256;\n secret \"" TESTKEY_SECRET "\";\n", "line 4: missing '}' at the end of the key" },
                { "key k {\n algorithm hmac-sha256;\n secret \"" TESTKEY_SECRET "\";\n}", "line 4: expected ';' after '}'" },
                { "key k {\n algorithm hmac-sha256;\n secret \"" TESTKEY_SECRET "\";\n};\nkey j { };",
                  "line 5: more after the key statement (only one key may be in the file)" },
                { "key k {\n algorithm hmac-md5;\n secret \"" TESTKEY_SECRET "\";\n};",
                  "line 2: algorithm hmac-md5 is not supported, only hmac-sha256 is" },
                { "key k {\n algorithm hmac-sha512;\n secret \"" TESTKEY_SECRET "\";\n};",
                  "line 2: algorithm hmac-sha512 is not supported, only hmac-sha256 is" },
                /* the secret where the algorithm should be: not quoted back */
                { "key k {\n algorithm \"" TESTKEY_SECRET "\";\n};", "line 2: unknown algorithm, only hmac-sha256 is supported" },
                { "key k {\n algorithm hmac-sha256;\n algorithm hmac-sha256;\n};", "line 3: algorithm given twice" },
                { "key k {\n secret \"" TESTKEY_SECRET "\";\n secret \"" TESTKEY_SECRET "\";\n};", "line 3: secret given twice" },
                { "key k {\n secret \"" TESTKEY_SECRET "\";\n};", "the key has no algorithm (algorithm hmac-sha256;)" },
                { "key k {\n algorithm hmac-sha256;\n};", "the key has no secret" },
                { "key k {\n algorithm hmac-sha256;\n " TESTKEY_SECRET ";\n};",
                  "line 3: unknown statement in the key (only algorithm and secret may be there)" },
                { "key k {\n algorithm hmac-sha256;\n secret;\n};", "line 3: expected a value after secret" },
                { "key k {\n algorithm hmac-sha256;\n secret \"\";\n};", "line 3: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eMhAVz2u7f-rozIPiTjXpqpb2mHp8zk_vRzRMGIKE1o=\"; };",
                  "line 1: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eMhAVz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1o\"; };",
                  "line 1: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eMhAVz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1o==\"; };",
                  "line 1: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eMhA=Vz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1o\"; };",
                  "line 1: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eMhAVz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1p=\"; };",
                  "line 1: the secret is not valid base64" },
                { "key k { algorithm hmac-sha256; secret \"eM*AVz2u7f+rozIPiTjXpqpb2mHp8zk+vRzRMGIKE1o=\"; };",
                  "line 1: the secret is not valid base64" },
                { "key \"a..b\" { algorithm hmac-sha256; secret \"" TESTKEY_SECRET "\"; };",
                  "the key name is not a valid DNS name" },
                { "key \".\" { algorithm hmac-sha256; secret \"" TESTKEY_SECRET "\"; };",
                  "the key name is not a valid DNS name" },
                { "key k {\n/* never closed\n algorithm hmac-sha256;", "line 2: unterminated /* comment" },
                { "key k {\n secret \"" TESTKEY_SECRET "\n\";", "line 2: unterminated string" },
                { "key k {\n secret \"" TESTKEY_SECRET, "line 2: unterminated string" },
                { "key \"a\\\"b\" {", "line 1: backslashes are not supported in strings" },
                { "key k {\n\x01", "line 2: unexpected control character" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                TsigKey *k = NULL;
                _cleanup_free_ char *error = NULL;

                CHECK_INT(tsig_key_parse(bad[i].text, strlen(bad[i].text), &k, &error), -EINVAL);
                CHECK(!k);
                CHECK_STR(error, bad[i].error);
                /* Whatever went wrong, the secret is not in the text. */
                CHECK(!error || !strstr(error, "eMhAVz2u7f"));
        }

        /* A NUL inside a quoted string. */
        static const char nul[] = "key \"k\0x\" { algorithm hmac-sha256; secret \"" TESTKEY_SECRET "\"; };";
        TsigKey *k = NULL;
        _cleanup_free_ char *error = NULL;
        CHECK_INT(tsig_key_parse(nul, sizeof nul - 1, &k, &error), -EINVAL);
        CHECK_STR(error, "line 1: NUL byte in a value");
        /* No error text wanted: still an error. */
        CHECK_INT(tsig_key_parse("key", 3, &k, NULL), -EINVAL);
        CHECK(!k);
}

TEST(key_load) {
        _cleanup_tmpdir_ char *dir = test_tmpdir();
        _cleanup_free_ char *path = NULL, *missing = NULL, *error = NULL;
        _cleanup_(tsig_key_freep) TsigKey *k = NULL;
        _cleanup_close_ int fd = -EBADF;

        REQUIRE(dir);
        REQUIRE(asprintf(&path, "%s/tsig.key", dir) > 0);
        REQUIRE(asprintf(&missing, "%s/none.key", dir) > 0);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, otherkey_file, strlen(otherkey_file)) == (ssize_t) strlen(otherkey_file));

        CHECK_INT(tsig_key_load(path, &k, &error), 0);
        REQUIRE(k);
        CHECK_STR(k->name, "otherkey");
        CHECK(!error);

        TsigKey *none = NULL;
        CHECK_INT(tsig_key_load(missing, &none, &error), -ENOENT);
        CHECK(!none);
        REQUIRE(error);
        CHECK(strstr(error, "none.key: No such file or directory") != NULL);
        error = mfree(error);

        REQUIRE(write(fd, "junk", 4) == 4);
        CHECK_INT(tsig_key_load(path, &none, &error), -EINVAL);
        REQUIRE(error);
        CHECK(startswith(error, path));
        CHECK(endswith(error, ": line 5: more after the key statement (only one key may be in the file)"));
}

TEST(key_new) {
        TsigKey *k = NULL;

        CHECK_INT(tsig_key_new("k", "", 0, &k), -EINVAL);
        CHECK_INT(tsig_key_new("", "s", 1, &k), -EINVAL);
        CHECK_INT(tsig_key_new("a..b", "s", 1, &k), -EINVAL);
        CHECK(!k);
        CHECK_INT(tsig_key_new("Key.Example.", "s", 1, &k), 0);
        CHECK_STR(k->name, "key.example");
        tsig_key_free(k);
        CHECK(!tsig_key_free(NULL));
}

/* Our signature of nsupdate's request, at the same time, is byte for byte nsupdate's;
 * named's answer verifies, and signing its unsigned part as a server gives named's bytes. */
TEST(bind_vectors_add) {
        _cleanup_(tsig_key_freep) TsigKey *k = parse_key(testkey_file);
        _cleanup_free_ uint8_t *msg = NULL;
        Bytes req = unhex(add_req), resp = unhex(add_resp);
        uint8_t mac[TSIG_MAC_SIZE];
        uint16_t error = 0xffff;
        size_t size;

        REQUIRE(k && req.size > 0 && resp.size > 0);
        CHECK_INT(tsig_offset(&req), 118);

        /* named's view: the request verifies, as a request. */
        CHECK_INT(verify(k, NULL, &req, ADD_TIME, &error), 0);
        CHECK_INT(error, 0);

        /* Signing it again. */
        size = tsig_offset(&req);
        msg = malloc(size);
        REQUIRE(msg);
        memcpy(msg, req.data, size);
        msg[11] = 0; /* ARCOUNT before signing */
        CHECK_INT(tsig_sign(k, ADD_TIME, NULL, 0, 0, &msg, &size, mac), 0);
        CHECK_INT(size, req.size);
        CHECK(size == req.size && memcmp(msg, req.data, size) == 0);
        CHECK(memcmp(mac, mac_of(&req), TSIG_MAC_SIZE) == 0);

        /* The client's view of the answer. */
        error = 0xffff;
        CHECK_INT(verify(k, mac, &resp, ADD_TIME + 1, &error), 0);
        CHECK_INT(error, 0);

        /* Answering as named did. */
        msg = mfree(msg);
        size = tsig_offset(&resp);
        REQUIRE(size > 0);
        msg = malloc(size);
        REQUIRE(msg);
        memcpy(msg, resp.data, size);
        msg[11] = 0;
        CHECK_INT(tsig_sign(k, ADD_TIME, mac, sizeof mac, 0, &msg, &size, NULL), 0);
        CHECK(size == resp.size && memcmp(msg, resp.data, size) == 0);
}

TEST(bind_vectors_errors) {
        _cleanup_(tsig_key_freep) TsigKey *k = parse_key(testkey_file), *other = parse_key(otherkey_file);
        Bytes badsig = unhex(badsig_resp), badkey = unhex(badkey_resp), req = unhex(refused_req),
              resp = unhex(refused_resp), add = unhex(add_req);
        TsigInfo info = {};
        uint16_t error = 0xffff;

        REQUIRE(k && other && badsig.size && badkey.size && req.size && resp.size);

        /* BADSIG: unsigned, the error in the TSIG record. */
        {
                _cleanup_(dns_message_freep) DnsMessage *m = NULL;
                REQUIRE(dns_message_parse(badsig.data, badsig.size, &m) == 0);
                CHECK_INT(dns_message_rcode(m), DNS_RCODE_NOTAUTH);
                CHECK_INT(tsig_info(badsig.data, badsig.size, m, &info), 0);
                CHECK_INT(info.error, DNS_RCODE_BADSIG);
                CHECK_INT(info.mac_size, 0);
                CHECK_INT(info.time_signed, REFUSED_TIME);
                CHECK_INT(info.fudge, 300);
                CHECK_INT(info.original_id, 0x085d);
        }
        CHECK_INT(verify(k, mac_of(&add), &badsig, REFUSED_TIME, &error), -EKEYREJECTED);
        /* BADKEY: names a key we do not have. */
        {
                _cleanup_(dns_message_freep) DnsMessage *m = NULL;
                REQUIRE(dns_message_parse(badkey.data, badkey.size, &m) == 0);
                CHECK_INT(tsig_info(badkey.data, badkey.size, m, &info), 0);
                CHECK_INT(info.error, DNS_RCODE_BADKEY);
        }
        CHECK_INT(verify(k, mac_of(&add), &badkey, REFUSED_TIME, &error), -ENOKEY);

        /* REFUSED, signed with otherkey: verifies with it, not with testkey. */
        CHECK_INT(verify(other, NULL, &req, REFUSED_TIME, &error), 0);
        CHECK_INT(verify(other, mac_of(&req), &resp, REFUSED_TIME - 10, &error), 0);
        CHECK_INT(error, 0);
        CHECK_INT(verify(k, mac_of(&req), &resp, REFUSED_TIME, &error), -ENOKEY);
        /* With another request's MAC it does not verify. */
        CHECK_INT(verify(other, mac_of(&add), &resp, REFUSED_TIME, &error), -EKEYREJECTED);
        CHECK_INT(error, 0); /* untouched on failure (it was 0 from above) */
}

TEST(verify_failures) {
        _cleanup_(tsig_key_freep) TsigKey *k = parse_key(testkey_file), *wrong = NULL;
        Bytes req = unhex(add_req), b;
        uint16_t error = 0xffff;
        static const uint8_t zeros[32] = {};

        REQUIRE(k && req.size);
        REQUIRE(tsig_key_new("testkey", zeros, sizeof zeros, &wrong) == 0);

        /* The time window: 300 s either way, not more. */
        CHECK_INT(verify(k, NULL, &req, ADD_TIME + 300, &error), 0);
        CHECK_INT(verify(k, NULL, &req, ADD_TIME - 300, &error), 0);
        CHECK_INT(verify(k, NULL, &req, ADD_TIME + 301, &error), -EKEYEXPIRED);
        CHECK_INT(verify(k, NULL, &req, ADD_TIME - 301, &error), -EKEYEXPIRED);
        CHECK_INT(verify(wrong, NULL, &req, ADD_TIME, &error), -EKEYREJECTED);

        /* Any changed byte before the TSIG record (the ID aside: the MAC covers the
         * Original ID of the record instead), or in the MAC, breaks it. */
        for (size_t i = 2; i < 118; i++) {
                b = req;
                b.data[i] ^= 0x20;
                CHECK(verify(k, NULL, &b, ADD_TIME, &error) < 0);
        }
        b = req;
        b.data[b.size - 10] ^= 1;
        CHECK_INT(verify(k, NULL, &b, ADD_TIME, &error), -EKEYREJECTED);
        /* A changed Original ID is what the MAC covers instead of the header's. */
        b = req;
        b.data[0] ^= 1;
        CHECK_INT(verify(k, NULL, &b, ADD_TIME, &error), 0);
        b.data[b.size - 6] ^= 1;
        CHECK_INT(verify(k, NULL, &b, ADD_TIME, &error), -EKEYREJECTED);
        /* The fudge of the record (if smaller) is the limit. */
        b = req;
        b.data[b.size - 6 - 32 - 4] = 0;
        b.data[b.size - 6 - 32 - 3] = 10;
        CHECK_INT(verify(k, NULL, &b, ADD_TIME + 5, &error), -EKEYREJECTED); /* the fudge is signed */

        /* Unsigned. */
        Bytes unsigned_msg = req;
        unsigned_msg.size = 118;
        unsigned_msg.data[11] = 0;
        CHECK_INT(verify(k, NULL, &unsigned_msg, ADD_TIME, &error), -ENOMSG);
        {
                _cleanup_(dns_message_freep) DnsMessage *m = NULL;
                TsigInfo info;
                REQUIRE(dns_message_parse(unsigned_msg.data, unsigned_msg.size, &m) == 0);
                CHECK_INT(tsig_info(unsigned_msg.data, unsigned_msg.size, m, &info), -ENOMSG);
        }

        /* A MAC truncated below half its size. */
        b = req;
        b.data[b.size - 6 - 32 - 2] = 0;
        b.data[b.size - 6 - 32 - 1] = 10;
        memmove(b.data + b.size - 6 - 22, b.data + b.size - 6, 6);
        b.size -= 22;
        b.data[118 + 9 + 2 + 2 + 4 + 1] -= 22; /* RDLENGTH: after owner (9), type, class, TTL */
        error = 0xffff;
        CHECK_INT(verify(k, NULL, &b, ADD_TIME, &error), -EBADMSG);
        CHECK_INT(error, 0xffff);
}

TEST(sign_round_trip) {
        _cleanup_(tsig_key_freep) TsigKey *k = NULL;
        _cleanup_free_ uint8_t *q = NULL, *a = NULL;
        uint8_t qmac[TSIG_MAC_SIZE], amac[TSIG_MAC_SIZE];
        size_t qsize = 0, asize = 0;
        uint16_t error = 0xffff;
        Bytes b;

        REQUIRE(tsig_key_new("Round.Trip", "0123456789", 10, &k) == 0);
        REQUIRE(dns_message_build_query(77, "x.test", DNS_TYPE_SOA, false, &q, &qsize) == 0);
        CHECK_INT(tsig_sign(k, 1000000, NULL, 0, 0, &q, &qsize, qmac), 0);
        b.size = qsize;
        memcpy(b.data, q, qsize);
        CHECK_INT(verify(k, NULL, &b, 1000000, &error), 0);
        CHECK_INT(error, 0);

        /* A response with a TSIG error, signed (as BADTIME answers are). */
        REQUIRE(dns_message_build_query(77, "x.test", DNS_TYPE_SOA, false, &a, &asize) == 0);
        a[2] |= 0x80;
        CHECK_INT(tsig_sign(k, 1000100, qmac, sizeof qmac, DNS_RCODE_BADTIME, &a, &asize, amac), 0);
        b.size = asize;
        memcpy(b.data, a, asize);
        CHECK_INT(verify(k, qmac, &b, 1000000, &error), 0);
        CHECK_INT(error, DNS_RCODE_BADTIME);
        /* As a request (without the request MAC) it does not verify. */
        CHECK_INT(verify(k, NULL, &b, 1000000, &error), -EKEYREJECTED);

        /* Bad arguments, and a message already full. */
        CHECK_INT(tsig_sign(k, UINT64_C(1) << 48, NULL, 0, 0, &a, &asize, NULL), -EINVAL);
        a[10] = 0xff;
        a[11] = 0xff;
        CHECK_INT(tsig_sign(k, 0, NULL, 0, 0, &a, &asize, NULL), -EMSGSIZE);
        size_t tiny = 5;
        CHECK_INT(tsig_sign(k, 0, NULL, 0, 0, &a, &tiny, NULL), -EINVAL);
}

TEST_MAIN(T(key_file_from_tsig_keygen), T(key_file_variants), T(key_file_errors), T(key_load), T(key_new),
          T(bind_vectors_add), T(bind_vectors_errors), T(verify_failures), T(sign_round_trip));
