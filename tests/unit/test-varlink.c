/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "test.h"
#include "varlink.h"

static VarlinkReader *reader(size_t cap) {
        VarlinkReader *r = NULL;

        if (varlink_reader_new(cap, &r) < 0)
                abort();
        return r;
}

static int feed_str(VarlinkReader *r, const char *s) {
        return varlink_reader_feed(r, s, strlen(s));
}

/* Feed n bytes of s (which may hold NULs). */
static int feed_bytes(VarlinkReader *r, const char *s, size_t n) {
        return varlink_reader_feed(r, s, n);
}

/* Take the next message, which must exist, and return its text (freed by the caller). */
static char *next_text(VarlinkReader *r) {
        _cleanup_json_ cJSON *j = NULL;

        if (varlink_reader_next(r, &j) != 1)
                return NULL;
        return json_print(j);
}

/* Parse a JSON text (no NUL) into an object. */
static cJSON *obj(const char *s) {
        cJSON *j = NULL;

        if (json_parse_object(s, strlen(s), &j) < 0)
                return NULL;
        return j;
}

static int parse_call_str(const char *s, VarlinkCall *ret) {
        _cleanup_json_ cJSON *j = obj(s);

        if (!j)
                return -EBADMSG;        /* not what these tests are about */
        return varlink_call_parse(j, ret);
}

static int parse_reply_str(const char *s, bool more, VarlinkReply *ret) {
        _cleanup_json_ cJSON *j = obj(s);

        if (!j)
                return -EBADMSG;
        return varlink_reply_parse(j, more, ret);
}

static void check_call_fails(const char *s) {
        VarlinkCall c = { .method = (char *) "sentinel" };
        int k = parse_call_str(s, &c);

        if (k != -EBADMSG)
                fprintf(stderr, "call accepted or wrong error (%d): %s\n", k, s);
        CHECK_INT(k, -EBADMSG);
        CHECK_STR(c.method, "sentinel");        /* untouched */
        CHECK(!c.parameters);
}

static void check_reply_fails(const char *s, bool more) {
        VarlinkReply r = { .error = (char *) "sentinel" };
        int k = parse_reply_str(s, more, &r);

        if (k != -EBADMSG)
                fprintf(stderr, "reply accepted or wrong error (%d): %s\n", k, s);
        CHECK_INT(k, -EBADMSG);
        CHECK_STR(r.error, "sentinel");
        CHECK(!r.parameters);
}

/* A JSON text of exactly n bytes: {"a":"xxx…"}. */
static char *json_of_size(size_t n) {
        char *s;

        if (n < 8)
                abort();
        s = malloc(n + 1);
        if (!s)
                abort();
        memcpy(s, "{\"a\":\"", 6);
        memset(s + 6, 'x', n - 8);
        memcpy(s + n - 2, "\"}", 2);
        s[n] = 0;
        return s;
}

TEST(names) {
        static const char *const good_methods[] = {
                "io.renewd.List",
                "io.renewd.Status",
                "org.varlink.service.GetInfo",
                "org.varlink.service.GetInterfaceDescription",
                "io.systemd.Resolve.Monitor.SubscribeQueryResults",     /* upper case in interface */
                "com.example-1.a-b.X9",
                "a.b.C",
                "io.2fa.Login",         /* later labels may start with a digit */
                "org.example--x.Ping",  /* dash runs inside a label (spec grammar [-]*) */
        };
        static const char *const bad_methods[] = {
                "",
                "io",
                "io.renewd",            /* interface "io": one label */
                "io.renewd.list",       /* method must start upper-case */
                "io.renewd.",
                ".io.renewd.List",
                "io..renewd.List",
                "io.renewd.List.",
                "List",
                ".List",
                "io.List",              /* interface "io": one label */
                "1o.renewd.List",       /* interface starts with a letter */
                "-io.renewd.List",
                "io-.renewd.List",
                "io.-renewd.List",
                "io.renewd-.List",
                "io.renewd.Li-st",
                "io.renewd.Li_st",
                "io.renewd.Li st",
                "io.renewd.1List",
                "io.re_newd.List",
                "io.renéwd.List",
                "io.renewd.Lïst",
        };
        _cleanup_free_ char *longname = NULL;

        for (size_t i = 0; i < ELEMENTSOF(good_methods); i++) {
                if (!varlink_method_name_is_valid(good_methods[i]))
                        fprintf(stderr, "refused: %s\n", good_methods[i]);
                CHECK(varlink_method_name_is_valid(good_methods[i]));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_methods); i++) {
                if (varlink_method_name_is_valid(bad_methods[i]))
                        fprintf(stderr, "accepted: %s\n", bad_methods[i]);
                CHECK(!varlink_method_name_is_valid(bad_methods[i]));
        }
        CHECK(!varlink_method_name_is_valid(NULL));

        CHECK(varlink_interface_name_is_valid("io.renewd"));
        CHECK(varlink_interface_name_is_valid("org.varlink.service"));
        CHECK(varlink_interface_name_is_valid("io.systemd.Resolve"));
        CHECK(!varlink_interface_name_is_valid("io"));
        CHECK(!varlink_interface_name_is_valid(""));
        CHECK(!varlink_interface_name_is_valid(NULL));
        CHECK(!varlink_interface_name_is_valid("io."));
        CHECK(!varlink_interface_name_is_valid("io.renewd-"));
        CHECK(!varlink_interface_name_is_valid("9.renewd"));

        /* 255 characters at most. */
        longname = malloc(300);
        REQUIRE(longname);
        memset(longname, 'a', 300);
        longname[1] = '.';
        memcpy(longname + 250, ".Abcd", 5);
        longname[255] = 0;
        CHECK_INT(strlen(longname), 255);
        CHECK(varlink_method_name_is_valid(longname));
        memcpy(longname + 250, ".Abcde", 6);
        longname[256] = 0;
        CHECK(!varlink_method_name_is_valid(longname));
}

TEST(reader_new) {
        VarlinkReader *r = (VarlinkReader *) &r;

        CHECK_INT(varlink_reader_new(2, &r), -EINVAL);
        CHECK_INT(varlink_reader_new(VARLINK_MESSAGE_SIZE_LIMIT + 1, &r), -EINVAL);
        CHECK(r == (VarlinkReader *) &r);
        CHECK_INT(varlink_reader_new(0, NULL), -EINVAL);
        CHECK_INT(varlink_reader_new(3, &r), 0);
        r = varlink_reader_free(r);
        CHECK(!r);
        CHECK(!varlink_reader_free(NULL));
        CHECK_INT(varlink_reader_next(NULL, NULL), -EINVAL);
        CHECK_INT(varlink_reader_feed(NULL, "x", 1), -EINVAL);
}

TEST(reader_one) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        _cleanup_free_ char *t = NULL;
        cJSON *j = (cJSON *) &j;

        CHECK_INT(varlink_reader_next(r, &j), 0);
        CHECK(j == (cJSON *) &j);
        CHECK_INT(varlink_reader_feed(r, NULL, 0), 0);
        CHECK_INT(varlink_reader_next(r, &j), 0);

        static const char msg[] = "{\"method\":\"io.renewd.List\"}";
        CHECK_INT(feed_bytes(r, msg, sizeof(msg)), 0);       /* with its NUL */
        t = next_text(r);
        CHECK_STR(t, "{\"method\":\"io.renewd.List\"}");
        CHECK_INT(varlink_reader_next(r, &j), 0);
        CHECK_INT(varlink_reader_buffered(r), 0);

        /* Whitespace around the object is JSON. */
        static const char ws[] = " \n{ \"a\" : 1 }\t ";
        CHECK_INT(feed_bytes(r, ws, sizeof(ws)), 0);
        free(t);
        t = next_text(r);
        CHECK_STR(t, "{\"a\":1}");
}

/* Three messages, fed one byte at a time: each comes out as soon as its NUL is in. */
TEST(reader_split_bytes) {
        static const char stream[] =
                "{\"method\":\"io.renewd.Status\"}\0"
                "{\"method\":\"io.renewd.Show\",\"parameters\":{\"name\":\"www\"}}\0"
                "{\"method\":\"io.renewd.Renew\",\"more\":true,\"parameters\":{\"name\":\"ünïcödé\"}}";
        static const char *const expect[] = {
                "{\"method\":\"io.renewd.Status\"}",
                "{\"method\":\"io.renewd.Show\",\"parameters\":{\"name\":\"www\"}}",
                "{\"method\":\"io.renewd.Renew\",\"more\":true,\"parameters\":{\"name\":\"ünïcödé\"}}",
        };
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        size_t got = 0;

        /* sizeof includes the final NUL of the literal: the last message's terminator. */
        for (size_t i = 0; i < sizeof(stream); i++) {
                cJSON *j = NULL;
                int k;

                CHECK_INT(feed_bytes(r, stream + i, 1), 0);
                k = varlink_reader_next(r, &j);
                if (stream[i] == 0) {
                        char *t;

                        REQUIRE(k == 1);
                        REQUIRE(got < ELEMENTSOF(expect));
                        t = json_print(j);
                        CHECK_STR(t, expect[got]);
                        free(t);
                        cJSON_Delete(j);
                        got++;
                        CHECK_INT(varlink_reader_buffered(r), 0);
                } else {
                        CHECK_INT(k, 0);
                        CHECK(varlink_reader_pending(r) > 0);
                }
        }
        CHECK_INT(got, 3);
}

/* Several messages in one feed, and a message split in the middle of the next feed. */
TEST(reader_pipelined) {
        static const char a[] = "{\"n\":1}\0{\"n\":2}\0{\"n\":3}\0{\"n\":";
        static const char b[] = "4}\0{\"n\":5}";
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        cJSON *j = NULL;
        int n = 0;

        CHECK_INT(feed_bytes(r, a, sizeof(a) - 1), 0);
        for (;;) {
                int64_t v = 0;
                int k = varlink_reader_next(r, &j);

                if (k == 0)
                        break;
                REQUIRE(k == 1);
                CHECK_INT(json_get_int64(j, "n", &v), 0);
                CHECK_INT(v, ++n);
                j = (cJSON_Delete(j), NULL);
        }
        CHECK_INT(n, 3);
        CHECK_INT(varlink_reader_pending(r), 5);

        CHECK_INT(feed_bytes(r, b, sizeof(b)), 0);
        for (;;) {
                int64_t v = 0;
                int k = varlink_reader_next(r, &j);

                if (k == 0)
                        break;
                REQUIRE(k == 1);
                CHECK_INT(json_get_int64(j, "n", &v), 0);
                CHECK_INT(v, ++n);
                j = (cJSON_Delete(j), NULL);
        }
        CHECK_INT(n, 5);
        CHECK_INT(varlink_reader_buffered(r), 0);
}

/* Many messages through a small cap: the buffer is reused, never grows without bound. */
TEST(reader_many) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(64);

        for (int i = 0; i < 10000; i++) {
                char m[64];
                cJSON *j = NULL;
                int64_t v = -1;
                int n = snprintf(m, sizeof m, "{\"i\":%d}", i);

                /* Fed in two pieces, the second one with the NUL. */
                CHECK_INT(feed_bytes(r, m, 3), 0);
                CHECK_INT(feed_bytes(r, m + 3, (size_t) n - 3 + 1), 0);
                REQUIRE(varlink_reader_next(r, &j) == 1);
                CHECK_INT(json_get_int64(j, "i", &v), 0);
                CHECK_INT(v, i);
                cJSON_Delete(j);
        }
}

static void check_cap(size_t cap, size_t chunk) {
        _cleanup_(varlink_reader_freep) VarlinkReader *ok = reader(cap), *big = reader(cap);
        _cleanup_free_ char *fits = json_of_size(cap - 1), *over = json_of_size(cap);
        cJSON *j = NULL;

        /* cap-1 bytes of JSON plus NUL: exactly cap, accepted. */
        for (size_t i = 0; i < cap; i += chunk)
                CHECK_INT(feed_bytes(ok, fits + i, i + chunk <= cap ? chunk : cap - i), 0);
        CHECK_INT(varlink_reader_next(ok, &j), 1);
        cJSON_Delete(j);
        j = NULL;
        CHECK_INT(varlink_reader_next(ok, &j), 0);

        /* cap bytes of JSON: refused once the cap-th byte is in, before any NUL. */
        for (size_t i = 0; i < cap; i += chunk) {
                size_t n = i + chunk <= cap ? chunk : cap - i;
                int k;

                CHECK_INT(feed_bytes(big, over + i, n), 0);
                CHECK(varlink_reader_pending(big) < cap);
                k = varlink_reader_next(big, &j);
                if (i + n < cap)
                        CHECK_INT(k, 0);
                else
                        CHECK_INT(k, -E2BIG);
        }
        CHECK_INT(varlink_reader_next(big, &j), -E2BIG);
        CHECK_INT(varlink_reader_buffered(big), 0);
        CHECK_INT(varlink_reader_error(big), -E2BIG);
}

TEST(reader_cap) {
        check_cap(VARLINK_MESSAGE_SIZE_DEFAULT, VARLINK_MESSAGE_SIZE_DEFAULT);
        check_cap(VARLINK_MESSAGE_SIZE_DEFAULT, 1000);
        check_cap(VARLINK_MESSAGE_SIZE_DEFAULT, 1);
        check_cap(100, 7);
        check_cap(100, 100);

        /* The smallest cap takes "{}" and nothing bigger. */
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(3);
        cJSON *j = NULL;
        CHECK_INT(feed_bytes(r, "{}\0{ }", 6), 0);
        CHECK_INT(varlink_reader_next(r, &j), 1);
        cJSON_Delete(j);
        CHECK_INT(varlink_reader_next(r, &j), -E2BIG);
}

/* A message over the cap with its NUL in the same feed; those before it still come out. */
TEST(reader_cap_after_good) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(16);
        static const char s[] = "{\"a\":1}\0{\"b\":2}\0{\"ccccccccccccccc\":3}\0{\"d\":4}";
        cJSON *j = NULL;

        CHECK_INT(feed_bytes(r, s, sizeof(s)), 0);
        CHECK(varlink_reader_buffered(r) <= 16);
        CHECK_INT(varlink_reader_next(r, &j), 1);
        cJSON_Delete(j);
        CHECK_INT(varlink_reader_next(r, &j), 1);
        cJSON_Delete(j);
        j = NULL;
        CHECK_INT(varlink_reader_next(r, &j), -E2BIG);
        CHECK(!j);
        /* Broken for good: input is discarded. */
        CHECK_INT(feed_str(r, "{}"), 0);
        CHECK_INT(feed_bytes(r, "", 1), 0);
        CHECK_INT(varlink_reader_buffered(r), 0);
        CHECK_INT(varlink_reader_next(r, &j), -E2BIG);
}

/* 10 MiB without a NUL, in read-sized chunks and in one piece: refused after the cap, with
 * never more than the cap held. */
TEST(reader_flood) {
        const size_t total = 10U * 1024U * 1024U, chunk = 4096;
        _cleanup_free_ char *junk = malloc(total);
        REQUIRE(junk);
        memset(junk, ' ', total);
        junk[0] = '{';

        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        size_t fed = 0;
        int k = 0;
        cJSON *j = NULL;

        while (fed < total) {
                CHECK_INT(feed_bytes(r, junk + fed, chunk), 0);
                fed += chunk;
                CHECK(varlink_reader_buffered(r) <= VARLINK_MESSAGE_SIZE_DEFAULT);
                k = varlink_reader_next(r, &j);
                if (k != 0)
                        break;
        }
        CHECK_INT(k, -E2BIG);
        CHECK_INT(fed, VARLINK_MESSAGE_SIZE_DEFAULT);   /* refused at the cap, not later */
        CHECK_INT(varlink_reader_buffered(r), 0);

        _cleanup_(varlink_reader_freep) VarlinkReader *one = reader(0);
        CHECK_INT(feed_bytes(one, junk, total), 0);
        CHECK_INT(varlink_reader_buffered(one), 0);
        CHECK_INT(varlink_reader_next(one, &j), -E2BIG);

        /* The same after a good message in the same feed. */
        _cleanup_(varlink_reader_freep) VarlinkReader *two = reader(0);
        memcpy(junk, "{}\0{", 4);
        CHECK_INT(feed_bytes(two, junk, total), 0);
        CHECK_INT(varlink_reader_buffered(two), 3);
        CHECK_INT(varlink_reader_next(two, &j), 1);
        cJSON_Delete(j);
        CHECK_INT(varlink_reader_next(two, &j), -E2BIG);
}

static void check_frame_bad(const char *s, size_t n) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        cJSON *j = NULL;

        /* A good message first: it is delivered, then the bad one breaks the reader. */
        CHECK_INT(feed_bytes(r, "{}", 3), 0);
        CHECK_INT(feed_bytes(r, s, n), 0);
        CHECK_INT(varlink_reader_next(r, &j), 1);
        cJSON_Delete(j);
        j = NULL;
        CHECK_INT(varlink_reader_next(r, &j), -EBADMSG);
        CHECK(!j);
        CHECK_INT(varlink_reader_next(r, &j), -EBADMSG);
        CHECK_INT(varlink_reader_buffered(r), 0);
        CHECK_INT(varlink_reader_error(r), -EBADMSG);
}

#define FRAME_BAD(lit) check_frame_bad(lit, sizeof(lit))

TEST(reader_bad_frames) {
        FRAME_BAD("");                          /* empty message: just the NUL */
        FRAME_BAD("   ");                       /* only whitespace */
        FRAME_BAD("[]");
        FRAME_BAD("[{}]");
        FRAME_BAD("1");
        FRAME_BAD("\"io.renewd.List\"");
        FRAME_BAD("null");
        FRAME_BAD("true");
        FRAME_BAD("{");
        FRAME_BAD("{\"a\":}");
        FRAME_BAD("{}x");                       /* trailing garbage inside the frame */
        FRAME_BAD("{} {}");
        FRAME_BAD("{}}");
        FRAME_BAD("{\"a\":1}\n,");
        FRAME_BAD("{'a':1}");
        FRAME_BAD("{\"a\":\"\xff\"}");          /* not UTF-8 */
        FRAME_BAD("{\"a\":\"\xc0\xaf\"}");      /* overlong */
        FRAME_BAD("{\"a\":\"\\u0000\"}");       /* would be truncated by cJSON */
        FRAME_BAD("{\"a\":\"x\ty\"}");          /* raw control character */
        FRAME_BAD("{\"a\":NaN}");
}

TEST(call_parse) {
        VarlinkCall c = {};

        CHECK_INT(parse_call_str("{\"method\":\"io.renewd.List\"}", &c), 0);
        CHECK_STR(c.method, "io.renewd.List");
        CHECK(cJSON_IsObject(c.parameters) && !c.parameters->child);
        CHECK(!c.more && !c.oneway && !c.upgrade);
        varlink_call_done(&c);
        CHECK(!c.method && !c.parameters);
        varlink_call_done(&c);  /* twice is fine */
        varlink_call_done(NULL);

        CHECK_INT(parse_call_str("{\"oneway\":false,\"more\":true,\"upgrade\":false,"
                                 "\"parameters\":{\"name\":\"www\",\"n\":[1,{}]},"
                                 "\"method\":\"io.renewd.Renew\"}", &c), 0);
        CHECK_STR(c.method, "io.renewd.Renew");
        CHECK(c.more && !c.oneway && !c.upgrade);
        {
                const char *s = NULL;
                CHECK_INT(json_get_string(c.parameters, "name", &s), 0);
                CHECK_STR(s, "www");
        }
        varlink_call_done(&c);

        CHECK_INT(parse_call_str("{\"method\":\"io.renewd.Reload\",\"oneway\":true}", &c), 0);
        CHECK(c.oneway && !c.more);
        varlink_call_done(&c);

        CHECK_INT(parse_call_str("{\"method\":\"io.renewd.Upgrade\",\"upgrade\":true}", &c), 0);
        CHECK(c.upgrade && !c.more && !c.oneway);
        varlink_call_done(&c);

        /* null is the same as absent for every optional key. */
        CHECK_INT(parse_call_str("{\"method\":\"io.renewd.List\",\"more\":null,\"oneway\":null,"
                                 "\"upgrade\":null,\"parameters\":null}", &c), 0);
        CHECK(!c.more && !c.oneway && !c.upgrade);
        CHECK(cJSON_IsObject(c.parameters) && !c.parameters->child);
        varlink_call_done(&c);

        /* The parameters are a copy: the message may go. */
        {
                cJSON *m = obj("{\"method\":\"io.renewd.Show\",\"parameters\":{\"name\":\"x\"}}");
                const char *s = NULL;

                REQUIRE(m);
                CHECK_INT(varlink_call_parse(m, &c), 0);
                cJSON_Delete(m);
                CHECK_INT(json_get_string(c.parameters, "name", &s), 0);
                CHECK_STR(s, "x");
                varlink_call_done(&c);
        }

        CHECK_INT(varlink_call_parse(NULL, &c), -EINVAL);
}

/* Absent, null and {} parameters are the same; the result always is an empty object. */
TEST(call_parameters_equivalent) {
        static const char *const forms[] = {
                "{\"method\":\"org.varlink.service.GetInfo\"}",
                "{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":null}",
                "{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":{}}",
                "{\"parameters\":{},\"method\":\"org.varlink.service.GetInfo\"}",
        };

        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                VarlinkCall c = {};
                char *t;

                CHECK_INT(parse_call_str(forms[i], &c), 0);
                t = json_print(c.parameters);
                CHECK_STR(t, "{}");
                free(t);
                varlink_call_done(&c);
        }
}

TEST(call_strict) {
        /* Not an object at all. */
        {
                _cleanup_json_ cJSON *a = cJSON_CreateArray();
                VarlinkCall c = {};
                REQUIRE(a);
                CHECK_INT(varlink_call_parse(a, &c), -EBADMSG);
        }

        /* method: mandatory, a string, a valid name. */
        check_call_fails("{}");
        check_call_fails("{\"parameters\":{}}");
        check_call_fails("{\"method\":null}");
        check_call_fails("{\"method\":1}");
        check_call_fails("{\"method\":true}");
        check_call_fails("{\"method\":[\"io.renewd.List\"]}");
        check_call_fails("{\"method\":{}}");
        check_call_fails("{\"method\":\"\"}");
        check_call_fails("{\"method\":\"io\"}");
        check_call_fails("{\"method\":\"io.renewd\"}");
        check_call_fails("{\"method\":\"io.renewd.list\"}");
        check_call_fails("{\"method\":\"List\"}");
        check_call_fails("{\"method\":\"io.renewd.List \"}");

        /* parameters: object or null. */
        check_call_fails("{\"method\":\"io.renewd.List\",\"parameters\":[]}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"parameters\":\"\"}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"parameters\":0}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"parameters\":false}");

        /* more / oneway / upgrade: booleans or null. */
        static const char *const flags[] = { "more", "oneway", "upgrade" };
        static const char *const wrong[] = { "1", "0", "\"true\"", "[]", "{}", "[true]" };
        for (size_t f = 0; f < ELEMENTSOF(flags); f++)
                for (size_t w = 0; w < ELEMENTSOF(wrong); w++) {
                        char s[128];
                        snprintf(s, sizeof s, "{\"method\":\"io.renewd.List\",\"%s\":%s}", flags[f], wrong[w]);
                        check_call_fails(s);
                }

        /* Combinations. */
        check_call_fails("{\"method\":\"io.renewd.List\",\"more\":true,\"oneway\":true}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"oneway\":true,\"more\":true}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"upgrade\":true,\"more\":true}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"upgrade\":true,\"oneway\":true}");

        /* Unknown keys, including near-misses and reply keys. */
        check_call_fails("{\"method\":\"io.renewd.List\",\"x\":1}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"Method\":\"io.renewd.List\"}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"continues\":true}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"error\":\"io.renewd.X\"}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"params\":{}}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"\":null}");

        /* Duplicate keys, even when one of them is null. */
        check_call_fails("{\"method\":\"io.renewd.List\",\"method\":\"io.renewd.List\"}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"parameters\":{},\"parameters\":{}}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"more\":false,\"more\":true}");
        check_call_fails("{\"method\":\"io.renewd.List\",\"oneway\":null,\"oneway\":null}");
}

TEST(reply_parse) {
        VarlinkReply r = {};

        CHECK_INT(parse_reply_str("{\"parameters\":{\"a\":1}}", false, &r), 0);
        CHECK(!r.error && !r.continues);
        CHECK(cJSON_IsObject(r.parameters) && r.parameters->child);
        varlink_reply_done(&r);
        CHECK(!r.parameters && !r.error);
        varlink_reply_done(NULL);

        static const char *const empties[] = { "{}", "{\"parameters\":null}", "{\"parameters\":{}}",
                                               "{\"continues\":false}", "{\"continues\":null,\"error\":null}" };
        for (size_t i = 0; i < ELEMENTSOF(empties); i++) {
                char *t;

                CHECK_INT(parse_reply_str(empties[i], false, &r), 0);
                t = json_print(r.parameters);
                CHECK_STR(t, "{}");
                free(t);
                CHECK(!r.error && !r.continues);
                varlink_reply_done(&r);
        }

        CHECK_INT(parse_reply_str("{\"parameters\":{},\"continues\":true}", true, &r), 0);
        CHECK(r.continues);
        varlink_reply_done(&r);

        CHECK_INT(parse_reply_str("{\"error\":\"io.renewd.NoSuchCertificate\",\"parameters\":{\"name\":\"x\"}}",
                                  true, &r), 0);
        CHECK_STR(r.error, "io.renewd.NoSuchCertificate");
        CHECK(!r.continues);
        varlink_reply_done(&r);

        /* "continues" only when "more" was asked; never with an error. */
        check_reply_fails("{\"parameters\":{},\"continues\":true}", false);
        check_reply_fails("{\"error\":\"io.renewd.Failed\",\"continues\":true}", true);

        /* Types. */
        check_reply_fails("{\"parameters\":[]}", false);
        check_reply_fails("{\"parameters\":\"x\"}", false);
        check_reply_fails("{\"continues\":1}", true);
        check_reply_fails("{\"continues\":\"true\"}", true);
        check_reply_fails("{\"error\":1}", false);
        check_reply_fails("{\"error\":true}", false);
        check_reply_fails("{\"error\":{}}", false);
        check_reply_fails("{\"error\":\"\"}", false);
        check_reply_fails("{\"error\":\"Failed\"}", false);
        check_reply_fails("{\"error\":\"io.renewd.failed\"}", false);

        /* Unknown and duplicate keys. */
        check_reply_fails("{\"parameters\":{},\"method\":\"io.renewd.List\"}", false);
        check_reply_fails("{\"parameters\":{},\"more\":true}", true);
        check_reply_fails("{\"parameters\":{},\"upgraded\":true}", false);
        check_reply_fails("{\"parameters\":{},\"parameters\":{}}", false);
        check_reply_fails("{\"error\":\"io.renewd.A\",\"error\":\"io.renewd.B\"}", false);

        {
                _cleanup_json_ cJSON *a = cJSON_CreateString("x");
                REQUIRE(a);
                CHECK_INT(varlink_reply_parse(a, false, &r), -EBADMSG);
                CHECK_INT(varlink_reply_parse(NULL, false, &r), -EINVAL);
        }
}

/* Build a message, push it through a reader in small pieces, return what comes out. */
static cJSON *through_reader(const char *buf, size_t len) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        cJSON *j = NULL;

        if (len == 0 || buf[len - 1] != 0 || strlen(buf) != len - 1)
                return NULL;    /* exactly one NUL, at the end */
        for (size_t i = 0; i < len; i += 5)
                if (varlink_reader_feed(r, buf + i, len - i < 5 ? len - i : 5) < 0)
                        return NULL;
        if (varlink_reader_next(r, &j) != 1)
                return NULL;
        return j;
}

TEST(build_reply) {
        _cleanup_json_ cJSON *p = obj("{\"name\":\"www\",\"domains\":[\"a.test\",\"b.test\"],\"n\":3}");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        VarlinkReply r = {};
        cJSON *m;

        REQUIRE(p);

        CHECK_INT(varlink_reply(NULL, false, &buf, &len), 0);
        CHECK_STR(buf, "{\"parameters\":{}}");
        CHECK_INT(len, strlen("{\"parameters\":{}}") + 1);
        buf = mfree(buf);

        CHECK_INT(varlink_reply(p, true, &buf, &len), 0);
        CHECK_STR(buf, "{\"parameters\":{\"name\":\"www\",\"domains\":[\"a.test\",\"b.test\"],\"n\":3},"
                       "\"continues\":true}");
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_reply_parse(m, true, &r), 0);
        CHECK(r.continues && !r.error);
        CHECK(cJSON_Compare(r.parameters, p, true));
        varlink_reply_done(&r);
        /* ...which a call without "more" must not get. */
        CHECK_INT(varlink_reply_parse(m, false, &r), -EBADMSG);
        cJSON_Delete(m);
        buf = mfree(buf);

        /* The caller's object is only referenced, and still whole afterwards. */
        CHECK(cJSON_GetObjectItemCaseSensitive(p, "domains"));

        CHECK_INT(varlink_reply(p, false, &buf, &len), 0);
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_reply_parse(m, false, &r), 0);
        CHECK(!r.continues);
        CHECK(cJSON_Compare(r.parameters, p, true));
        varlink_reply_done(&r);
        cJSON_Delete(m);
        buf = mfree(buf);

        /* Strings that need escaping survive. */
        {
                _cleanup_json_ cJSON *q = cJSON_CreateObject();
                REQUIRE(q);
                REQUIRE(cJSON_AddStringToObject(q, "s", "quote\" backslash\\ nl\n tab\t ctl\x01 ü"));
                CHECK_INT(varlink_reply(q, false, &buf, &len), 0);
                m = through_reader(buf, len);
                REQUIRE(m);
                CHECK_INT(varlink_reply_parse(m, false, &r), 0);
                CHECK(cJSON_Compare(r.parameters, q, true));
                varlink_reply_done(&r);
                cJSON_Delete(m);
                buf = mfree(buf);
        }

        /* Parameters must be an object. */
        {
                _cleanup_json_ cJSON *a = cJSON_CreateArray();
                char *sentinel = (char *) "x", *b = sentinel;
                REQUIRE(a);
                CHECK_INT(varlink_reply(a, false, &b, &len), -EINVAL);
                CHECK(b == sentinel);
                CHECK_INT(varlink_reply(NULL, false, NULL, &len), -EINVAL);
                CHECK_INT(varlink_reply(NULL, false, &b, NULL), -EINVAL);
        }
}

TEST(build_error) {
        _cleanup_json_ cJSON *p = obj("{\"name\":\"www\"}");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        VarlinkReply r = {};
        cJSON *m;

        REQUIRE(p);
        CHECK_INT(varlink_error("io.renewd.NoSuchCertificate", p, &buf, &len), 0);
        CHECK_STR(buf, "{\"error\":\"io.renewd.NoSuchCertificate\",\"parameters\":{\"name\":\"www\"}}");
        CHECK_INT(len, strlen(buf) + 1);
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_reply_parse(m, true, &r), 0);
        CHECK_STR(r.error, "io.renewd.NoSuchCertificate");
        CHECK(!r.continues);
        CHECK(cJSON_Compare(r.parameters, p, true));
        varlink_reply_done(&r);
        cJSON_Delete(m);
        buf = mfree(buf);

        CHECK_INT(varlink_error(VARLINK_ERROR_EXPECTED_MORE, NULL, &buf, &len), 0);
        CHECK_STR(buf, "{\"error\":\"org.varlink.service.ExpectedMore\",\"parameters\":{}}");
        buf = mfree(buf);

        CHECK_INT(varlink_error_invalid_parameter("name", &buf, &len), 0);
        CHECK_STR(buf, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"name\"}}");
        buf = mfree(buf);

        /* A name the peer made up is escaped, not pasted. */
        CHECK_INT(varlink_error_invalid_parameter("a\"b\\", &buf, &len), 0);
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_reply_parse(m, false, &r), 0);
        {
                const char *s = NULL;
                CHECK_INT(json_get_string(r.parameters, "parameter", &s), 0);
                CHECK_STR(s, "a\"b\\");
        }
        varlink_reply_done(&r);
        cJSON_Delete(m);
        buf = mfree(buf);

        CHECK_INT(varlink_error_method_not_found("io.renewd.Nope", &buf, &len), 0);
        CHECK_STR(buf, "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"io.renewd.Nope\"}}");
        buf = mfree(buf);

        /* Every standard error name is valid. */
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_INTERFACE_NOT_FOUND));
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_METHOD_NOT_FOUND));
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_METHOD_NOT_IMPLEMENTED));
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_INVALID_PARAMETER));
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_PERMISSION_DENIED));
        CHECK(varlink_method_name_is_valid(VARLINK_ERROR_EXPECTED_MORE));

        CHECK_INT(varlink_error("NoSuchCertificate", NULL, &buf, &len), -EINVAL);
        CHECK_INT(varlink_error("io.renewd.x", NULL, &buf, &len), -EINVAL);
        CHECK_INT(varlink_error(NULL, NULL, &buf, &len), -EINVAL);
        CHECK_INT(varlink_error_invalid_parameter(NULL, &buf, &len), -EINVAL);
        CHECK(!buf);
}

TEST(build_call) {
        _cleanup_json_ cJSON *p = obj("{\"name\":\"www\",\"force\":true}");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        VarlinkCall c = {};
        cJSON *m;

        REQUIRE(p);
        CHECK_INT(varlink_call_build("io.renewd.Renew", p, true, false, &buf, &len), 0);
        CHECK_STR(buf, "{\"method\":\"io.renewd.Renew\",\"parameters\":{\"name\":\"www\",\"force\":true},\"more\":true}");
        CHECK_INT(len, strlen(buf) + 1);
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_call_parse(m, &c), 0);
        CHECK_STR(c.method, "io.renewd.Renew");
        CHECK(c.more && !c.oneway && !c.upgrade);
        CHECK(cJSON_Compare(c.parameters, p, true));
        varlink_call_done(&c);
        cJSON_Delete(m);
        buf = mfree(buf);

        CHECK_INT(varlink_call_build("io.renewd.Reload", NULL, false, true, &buf, &len), 0);
        CHECK_STR(buf, "{\"method\":\"io.renewd.Reload\",\"parameters\":{},\"oneway\":true}");
        m = through_reader(buf, len);
        REQUIRE(m);
        CHECK_INT(varlink_call_parse(m, &c), 0);
        CHECK(c.oneway && !c.more);
        varlink_call_done(&c);
        cJSON_Delete(m);
        buf = mfree(buf);

        CHECK_INT(varlink_call_build("org.varlink.service.GetInfo", NULL, false, false, &buf, &len), 0);
        CHECK_STR(buf, "{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":{}}");
        buf = mfree(buf);

        CHECK_INT(varlink_call_build("io.renewd.List", NULL, true, true, &buf, &len), -EINVAL);
        CHECK_INT(varlink_call_build("io.renewd.list", NULL, false, false, &buf, &len), -EINVAL);
        CHECK_INT(varlink_call_build("io.renewd", NULL, false, false, &buf, &len), -EINVAL);
        CHECK_INT(varlink_call_build(NULL, NULL, false, false, &buf, &len), -EINVAL);
        {
                _cleanup_json_ cJSON *s = cJSON_CreateString("x");
                REQUIRE(s);
                CHECK_INT(varlink_call_build("io.renewd.List", s, false, false, &buf, &len), -EINVAL);
        }
        CHECK(!buf);
}

/* Pipelined replies built by the codec, read back in one go. */
TEST(build_pipeline) {
        _cleanup_(varlink_reader_freep) VarlinkReader *r = reader(0);
        VarlinkReply rep = {};
        cJSON *m = NULL;

        for (int i = 0; i < 3; i++) {
                _cleanup_json_ cJSON *p = cJSON_CreateObject();
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;

                REQUIRE(p && cJSON_AddNumberToObject(p, "i", i));
                CHECK_INT(varlink_reply(p, i < 2, &buf, &len), 0);
                CHECK_INT(varlink_reader_feed(r, buf, len), 0);
        }
        for (int i = 0; i < 3; i++) {
                int64_t v = -1;

                REQUIRE(varlink_reader_next(r, &m) == 1);
                CHECK_INT(varlink_reply_parse(m, true, &rep), 0);
                CHECK_INT(json_get_int64(rep.parameters, "i", &v), 0);
                CHECK_INT(v, i);
                CHECK(rep.continues == (i < 2));
                varlink_reply_done(&rep);
                cJSON_Delete(m);
        }
        CHECK_INT(varlink_reader_next(r, &m), 0);
}

typedef struct Params {
        const char *name;
        bool force;
        int64_t count;
        char **domains;
        const cJSON *extra;
} Params;

static const VarlinkField params_table[] = {
        { "name",    VARLINK_FIELD_STRING, true,  offsetof(Params, name) },
        { "force",   VARLINK_FIELD_BOOL,   false, offsetof(Params, force) },
        { "count",   VARLINK_FIELD_INT64,  false, offsetof(Params, count) },
        { "domains", VARLINK_FIELD_STRV,   false, offsetof(Params, domains) },
        { "extra",   VARLINK_FIELD_OBJECT, false, offsetof(Params, extra) },
};

/* Dispatch s (kept in *keep, as the results borrow from it) into p. */
static int dispatch_str(const char *s, cJSON **keep, Params *p, const char **bad) {
        cJSON_Delete(*keep);
        *keep = obj(s);
        if (!*keep)
                return -EIO;
        return varlink_dispatch(*keep, params_table, ELEMENTSOF(params_table), p, bad);
}

static void check_dispatch_bad(const char *s, const char *field) {
        _cleanup_json_ cJSON *keep = NULL;
        Params p = { .name = "default", .count = 7 };
        const char *bad = NULL;
        int k = dispatch_str(s, &keep, &p, &bad);

        CHECK_INT(k, -EBADMSG);
        CHECK_STR(bad, field);
        /* Nothing stored. */
        CHECK_STR(p.name, "default");
        CHECK(!p.force);
        CHECK_INT(p.count, 7);
        CHECK(!p.domains);
        CHECK(!p.extra);
}

TEST(dispatch) {
        _cleanup_json_ cJSON *j = obj("{\"name\":\"www\",\"force\":true,\"count\":-42,"
                                      "\"domains\":[\"a.test\",\"b.test\"],\"extra\":{\"x\":1}}");
        Params p = { .count = 7 };
        const char *bad = NULL;

        REQUIRE(j);
        CHECK_INT(varlink_dispatch(j, params_table, ELEMENTSOF(params_table), &p, &bad), 0);
        CHECK_STR(p.name, "www");
        CHECK(p.force);
        CHECK_INT(p.count, -42);
        CHECK_INT(strv_length(p.domains), 2);
        CHECK_STR(p.domains[0], "a.test");
        CHECK_STR(p.domains[1], "b.test");
        CHECK(cJSON_IsObject(p.extra));
        CHECK(!bad);

        /* Dispatching again replaces (and frees) the list. */
        {
                _cleanup_json_ cJSON *k = obj("{\"name\":\"x\",\"domains\":[]}");
                REQUIRE(k);
                CHECK_INT(varlink_dispatch(k, params_table, ELEMENTSOF(params_table), &p, NULL), 0);
                CHECK(p.domains && !p.domains[0]);
                CHECK_STR(p.name, "x");
                CHECK(p.force);         /* absent: untouched */
        }
        p.domains = strv_free(p.domains);

        /* Optional keys absent or null keep their defaults. */
        _cleanup_json_ cJSON *keep = NULL;
        Params q = { .force = true, .count = 7 };
        CHECK_INT(dispatch_str("{\"name\":\"n\",\"force\":null,\"count\":null,\"domains\":null,\"extra\":null}", &keep, &q, &bad), 0);
        CHECK_STR(q.name, "n");
        CHECK(q.force);
        CHECK_INT(q.count, 7);
        CHECK(!q.domains && !q.extra);

        /* The integer range: exact doubles only. */
        CHECK_INT(dispatch_str("{\"name\":\"n\",\"count\":9007199254740992}", &keep, &q, &bad), 0);
        CHECK_INT(q.count, INT64_C(9007199254740992));
        CHECK_INT(dispatch_str("{\"name\":\"n\",\"count\":-9007199254740992}", &keep, &q, &bad), 0);
        CHECK_INT(q.count, -INT64_C(9007199254740992));
        CHECK_INT(dispatch_str("{\"name\":\"n\",\"count\":1e3}", &keep, &q, &bad), 0);
        CHECK_INT(q.count, 1000);

        /* Unknown keys. */
        check_dispatch_bad("{\"name\":\"n\",\"bogus\":1}", "bogus");
        check_dispatch_bad("{\"bogus\":null,\"name\":\"n\"}", "bogus");
        check_dispatch_bad("{\"name\":\"n\",\"Name\":\"n\"}", "Name");
        check_dispatch_bad("{\"name\":\"n\",\"\":1}", "");

        /* Wrong types, one per field. */
        check_dispatch_bad("{\"name\":1}", "name");
        check_dispatch_bad("{\"name\":[\"n\"]}", "name");
        check_dispatch_bad("{\"name\":\"n\",\"force\":\"yes\"}", "force");
        check_dispatch_bad("{\"name\":\"n\",\"force\":1}", "force");
        check_dispatch_bad("{\"name\":\"n\",\"count\":\"1\"}", "count");
        check_dispatch_bad("{\"name\":\"n\",\"count\":1.5}", "count");
        check_dispatch_bad("{\"name\":\"n\",\"count\":9007199254740994}", "count");
        check_dispatch_bad("{\"name\":\"n\",\"count\":1e300}", "count");
        check_dispatch_bad("{\"name\":\"n\",\"count\":true}", "count");
        check_dispatch_bad("{\"name\":\"n\",\"domains\":\"a.test\"}", "domains");
        check_dispatch_bad("{\"name\":\"n\",\"domains\":[\"a.test\",1]}", "domains");
        check_dispatch_bad("{\"name\":\"n\",\"domains\":[null]}", "domains");
        check_dispatch_bad("{\"name\":\"n\",\"domains\":{}}", "domains");
        check_dispatch_bad("{\"name\":\"n\",\"extra\":[]}", "extra");
        check_dispatch_bad("{\"name\":\"n\",\"extra\":\"{}\"}", "extra");

        /* Required missing or null. */
        check_dispatch_bad("{}", "name");
        check_dispatch_bad("{\"force\":true}", "name");
        check_dispatch_bad("{\"name\":null}", "name");

        /* A key twice. */
        check_dispatch_bad("{\"name\":\"a\",\"name\":\"b\"}", "name");
        check_dispatch_bad("{\"name\":\"a\",\"force\":true,\"force\":null}", "force");

        /* Bad arguments. */
        {
                _cleanup_json_ cJSON *a = cJSON_CreateArray();
                static const VarlinkField bad_table[] = { { NULL, VARLINK_FIELD_STRING, false, 0 } };
                static const VarlinkField bad_type[] = { { "x", _VARLINK_FIELD_TYPE_MAX, false, 0 } };
                REQUIRE(a);
                CHECK_INT(varlink_dispatch(a, params_table, ELEMENTSOF(params_table), &p, &bad), -EINVAL);
                CHECK_INT(varlink_dispatch(j, bad_table, 1, &p, &bad), -EINVAL);
                CHECK_INT(varlink_dispatch(j, bad_type, 1, &p, &bad), -EINVAL);
                CHECK_INT(varlink_dispatch(NULL, params_table, 1, &p, &bad), -EINVAL);
                CHECK_INT(varlink_dispatch(j, params_table, 1, NULL, &bad), -EINVAL);
        }
}

/* No parameters allowed (GetInfo): an empty table. */
TEST(dispatch_empty_table) {
        _cleanup_json_ cJSON *e = obj("{}"), *x = obj("{\"interface\":\"io.renewd\"}");
        int dummy = 0;
        const char *bad = NULL;

        REQUIRE(e && x);
        CHECK_INT(varlink_dispatch(e, NULL, 0, &dummy, &bad), 0);
        CHECK_INT(varlink_dispatch(x, NULL, 0, &dummy, &bad), -EBADMSG);
        CHECK_STR(bad, "interface");
}

/* Dispatch into the call's parameters and answer with InvalidParameter: the server's path. */
TEST(dispatch_to_error) {
        VarlinkCall c = {};
        Params p = {};
        const char *bad = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        CHECK_INT(parse_call_str("{\"method\":\"io.renewd.Add\",\"parameters\":{\"name\":\"w\",\"domain\":[\"a\"]}}", &c), 0);
        CHECK_INT(varlink_dispatch(c.parameters, params_table, ELEMENTSOF(params_table), &p, &bad), -EBADMSG);
        CHECK_STR(bad, "domain");
        CHECK_INT(varlink_error_invalid_parameter(bad, &buf, &len), 0);
        CHECK_STR(buf, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"domain\"}}");
        varlink_call_done(&c);
}

TEST(get_info) {
        char *ifaces[] = { (char *) "io.renewd", (char *) "com.example.b", (char *) "io.renewd", NULL };
        char *bad_ifaces[] = { (char *) "io", NULL };
        _cleanup_json_ cJSON *o = NULL;
        _cleanup_free_ char *t = NULL;
        cJSON *n = (cJSON *) &n;

        CHECK_INT(varlink_get_info_build("renewd", "renewd", "0.1.0", "https://example.org/renewd", ifaces, &o), 0);
        REQUIRE(o);
        t = json_print(o);
        CHECK_STR(t, "{\"vendor\":\"renewd\",\"product\":\"renewd\",\"version\":\"0.1.0\","
                     "\"url\":\"https://example.org/renewd\","
                     "\"interfaces\":[\"com.example.b\",\"io.renewd\",\"org.varlink.service\"]}");
        t = mfree(t);
        cJSON_Delete(o);
        o = NULL;

        /* No interfaces: still org.varlink.service, and named once. */
        char *svc[] = { (char *) "org.varlink.service", NULL };
        CHECK_INT(varlink_get_info_build("v", "p", "1", "u", NULL, &o), 0);
        t = json_print(o);
        CHECK(strstr(t, "\"interfaces\":[\"org.varlink.service\"]"));
        t = mfree(t);
        cJSON_Delete(o);
        o = NULL;
        CHECK_INT(varlink_get_info_build("v", "p", "1", "u", svc, &o), 0);
        t = json_print(o);
        CHECK(strstr(t, "\"interfaces\":[\"org.varlink.service\"]"));

        /* The reply is a valid reply. */
        {
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;
                VarlinkReply r = {};
                cJSON *m;

                CHECK_INT(varlink_reply(o, false, &buf, &len), 0);
                m = through_reader(buf, len);
                REQUIRE(m);
                CHECK_INT(varlink_reply_parse(m, false, &r), 0);
                CHECK(cJSON_Compare(r.parameters, o, true));
                varlink_reply_done(&r);
                cJSON_Delete(m);
        }

        CHECK_INT(varlink_get_info_build("v", "p", "1", "u", bad_ifaces, &n), -EINVAL);
        CHECK_INT(varlink_get_info_build(NULL, "p", "1", "u", NULL, &n), -EINVAL);
        CHECK_INT(varlink_get_info_build("v", "p", "1", NULL, NULL, &n), -EINVAL);
        CHECK(n == (cJSON *) &n);
}

TEST(service_description) {
        const char *d = varlink_service_interface_description;
        static const char *const needles[] = {
                "\ninterface org.varlink.service\n",
                "\nmethod GetInfo() -> (\n",
                "interfaces: []string\n)\n",
                "\nmethod GetInterfaceDescription(interface: string) -> (description: string)\n",
                "\nerror InterfaceNotFound (interface: string)\n",
                "\nerror MethodNotFound (method: string)\n",
                "\nerror MethodNotImplemented (method: string)\n",
                "\nerror InvalidParameter (parameter: string)\n",
                "\nerror PermissionDenied ()\n",
                "\nerror ExpectedMore ()\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(needles); i++)
                CHECK(strstr(d, needles[i]));
        /* Only comments before the interface keyword. */
        for (const char *l = d; l && *l && !startswith(l, "interface "); l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                CHECK(*l == '#' || *l == '\n');
        CHECK(endswith(d, "\n"));
}

TEST_MAIN(T(names), T(reader_new), T(reader_one), T(reader_split_bytes), T(reader_pipelined), T(reader_many),
          T(reader_cap), T(reader_cap_after_good), T(reader_flood), T(reader_bad_frames), T(call_parse),
          T(call_parameters_equivalent), T(call_strict), T(reply_parse), T(build_reply), T(build_error),
          T(build_call), T(build_pipeline), T(dispatch), T(dispatch_empty_table), T(dispatch_to_error),
          T(get_info), T(service_description))
