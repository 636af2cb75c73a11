/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "certstate.h"
#include "fileio.h"
#include "store.h"
#include "test.h"

/* 2025-03-01T10:00:00Z and friends. */
#define T0 ((time_t) 1740823200)

static int parse(const char *s, CertState *ret) {
        return cert_state_from_json(s, strlen(s), ret);
}

/* Parsing s must fail with err and leave *ret alone. */
static void check_parse_fails(const char *s, int err) {
        CertState sentinel = { .consecutive_failures = 4242, .last_error = (char *) "untouched" };
        CertState st = sentinel;

        CHECK_INT(parse(s, &st), err);
        if (st.consecutive_failures != 4242 || st.last_error != sentinel.last_error) {
                fprintf(stderr, "    output written on failure for: %s\n", s);
                test_failures++;
        }
}

static bool state_equal(const CertState *a, const CertState *b) {
        return a->consecutive_failures == b->consecutive_failures && a->last_attempt == b->last_attempt &&
               a->last_success == b->last_success && a->last_failure == b->last_failure &&
               a->next_attempt == b->next_attempt && streq_ptr(a->last_error, b->last_error) &&
               a->have_ari == b->have_ari && a->ari_start == b->ari_start && a->ari_end == b->ari_end &&
               a->ari_next_poll == b->ari_next_poll && streq_ptr(a->ari_explanation_url, b->ari_explanation_url) &&
               streq_ptr(a->ari_cert_id, b->ari_cert_id) && a->scheduled == b->scheduled;
}

/* Serialise and parse again; the result must equal s. */
static void check_round_trip(const CertState *s) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cert_state_done) CertState back = {};

        REQUIRE(cert_state_to_json(s, &text) == 0);
        REQUIRE(text);
        CHECK(text[strlen(text) - 1] == '\n');
        REQUIRE(cert_state_from_json(text, strlen(text), &back) == 0);
        if (!state_equal(s, &back)) {
                fprintf(stderr, "    round trip changed the state:\n%s", text);
                test_failures++;
        }
}

static CertState full_state(void) {
        return (CertState) {
                .consecutive_failures = 3,
                .last_attempt = T0,
                .last_success = T0 - 30 * 86400 + 17,
                .last_failure = T0 - 1,
                .next_attempt = T0 + 6000,
                .last_error = strdup("rateLimited: too many certificates (\"quoted\", back\\slash, é)"),
                .have_ari = true,
                .ari_start = T0 + 86400,
                .ari_end = T0 + 3 * 86400,
                .ari_next_poll = T0 + 21600,
                .ari_explanation_url = strdup("https://ca.example/docs/ari?x=1&y=2"),
                .ari_cert_id = strdup("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"),
                .scheduled = T0 + 2 * 86400 + 4321,
        };
}

TEST(round_trip_every_field) {
        _cleanup_(cert_state_done) CertState s = full_state();
        _cleanup_(cert_state_done) CertState back = {};
        _cleanup_free_ char *text = NULL;

        REQUIRE(s.last_error && s.ari_explanation_url && s.ari_cert_id);
        check_round_trip(&s);

        /* The documented format: versioned, readable UTC times, nested ARI. */
        REQUIRE(cert_state_to_json(&s, &text) == 0);
        CHECK(strstr(text, "\"version\":\t1"));
        CHECK(strstr(text, "\"consecutiveFailures\":\t3"));
        CHECK(strstr(text, "\"lastAttempt\":\t\"2025-03-01T10:00:00Z\""));
        CHECK(strstr(text, "\"lastFailure\":\t\"2025-03-01T09:59:59Z\""));
        CHECK(strstr(text, "\"nextAttempt\":\t\"2025-03-01T11:40:00Z\""));
        CHECK(strstr(text, "\"scheduled\":\t\"2025-03-03T11:12:01Z\""));
        CHECK(strstr(text, "\"start\":\t\"2025-03-02T10:00:00Z\""));
        CHECK(strstr(text, "\"end\":\t\"2025-03-04T10:00:00Z\""));
        CHECK(strstr(text, "\"nextPoll\":\t\"2025-03-01T16:00:00Z\""));
        CHECK(strstr(text, "\"certID\":\t\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\""));
        CHECK(strstr(text, "\"explanationURL\":\t\"https://ca.example/docs/ari?x=1&y=2\""));

        /* Parsing a hand-written file with the same content. */
        REQUIRE(parse("{\"version\":1,\"consecutiveFailures\":3,"
                      "\"lastAttempt\":\"2025-03-01T10:00:00Z\",\"lastSuccess\":\"2025-01-30T10:00:17Z\","
                      "\"lastFailure\":\"2025-03-01T09:59:59Z\",\"nextAttempt\":\"2025-03-01T11:40:00Z\","
                      "\"lastError\":\"rateLimited: too many certificates (\\\"quoted\\\", back\\\\slash, \\u00e9)\","
                      "\"scheduled\":\"2025-03-03T11:12:01Z\","
                      "\"ari\":{\"certID\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\","
                      "\"window\":{\"start\":\"2025-03-02T10:00:00Z\",\"end\":\"2025-03-04T10:00:00Z\"},"
                      "\"nextPoll\":\"2025-03-01T16:00:00Z\","
                      "\"explanationURL\":\"https://ca.example/docs/ari?x=1&y=2\"}}",
                      &back) == 0);
        CHECK(state_equal(&s, &back));
}

TEST(round_trip_partial) {
        CertState zero = {};
        _cleanup_free_ char *text = NULL;

        /* Nothing set: only the version and the count are written. */
        check_round_trip(&zero);
        REQUIRE(cert_state_to_json(&zero, &text) == 0);
        CHECK_STR(text, "{\n\t\"version\":\t1,\n\t\"consecutiveFailures\":\t0\n}\n");

        /* ARI data without a window (a poll that failed), and a window at the epoch. */
        _cleanup_(cert_state_done) CertState a = {
                .ari_next_poll = T0,
                .ari_cert_id = strdup("abc.def"),
        };
        check_round_trip(&a);

        CertState b = { .have_ari = true, .ari_start = 0, .ari_end = 1 };
        check_round_trip(&b);

        /* Extremes of the range and of the count. */
        CertState c = {
                .consecutive_failures = UINT_MAX,
                .last_attempt = 1,
                .scheduled = CERT_STATE_TIME_MAX,
                .have_ari = true,
                .ari_start = CERT_STATE_TIME_MAX - 1,
                .ari_end = CERT_STATE_TIME_MAX,
        };
        check_round_trip(&c);

        /* A leap day. */
        CertState d = { .last_success = 1709164800 /* 2024-02-29T00:00:00Z */ };
        check_round_trip(&d);

        /* Window times are only meaningful with have_ari and are not stored without it. */
        _cleanup_(cert_state_done) CertState back = {};
        _cleanup_free_ char *t2 = NULL;
        CertState e = { .have_ari = false, .ari_start = 5, .ari_end = 10 };
        REQUIRE(cert_state_to_json(&e, &t2) == 0);
        REQUIRE(parse(t2, &back) == 0);
        CHECK(!back.have_ari);
        CHECK_INT(back.ari_start, 0);
        CHECK_INT(back.ari_end, 0);
}

/* All members null: kept apart from the array below, where clang's -Wstring-concatenation
 * would take the two halves for a missing comma. */
static const char all_null[] =
        "{\"version\":1,\"consecutiveFailures\":null,\"lastAttempt\":null,\"lastSuccess\":null,"
        "\"lastFailure\":null,\"nextAttempt\":null,\"lastError\":null,\"scheduled\":null,\"ari\":null}";

TEST(defaults) {
        static const char *const docs[] = {
                "{\"version\":1}",
                "  {\"version\": 1}\n",
                "{\"version\":1,\"ari\":{}}",
                "{\"version\":1,\"ari\":{\"window\":null}}",
                all_null,
                "{\"version\":1,\"lastError\":\"\",\"ari\":{\"certID\":\"\",\"explanationURL\":\"\"}}",
                "{\"version\":1,\"lastError\":\" \\n\\u0001 \"}",
        };
        CertState zero = {};

        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                CertState s = { .consecutive_failures = 99, .scheduled = 5 };

                CHECK_INT(parse(docs[i], &s), 0);
                CHECK(state_equal(&s, &zero));
                cert_state_done(&s);
        }

        /* The version is required: {} is not a state file. */
        check_parse_fails("{}", -EBADMSG);
}

TEST(unknown_members_ignored) {
        _cleanup_(cert_state_done) CertState s = {};

        REQUIRE(parse("{\"version\":1,\"future\":{\"x\":[1,2,{\"y\":null}]},\"consecutiveFailures\":2,"
                      "\"ari\":{\"newThing\":true,\"window\":{\"start\":\"2025-03-01T10:00:00Z\","
                      "\"end\":\"2025-03-01T10:00:01Z\",\"confidence\":0.5}},\"alsoNew\":\"x\"}",
                      &s) == 0);
        CHECK_INT(s.consecutive_failures, 2);
        CHECK(s.have_ari);
        CHECK_INT(s.ari_start, T0);
        CHECK_INT(s.ari_end, T0 + 1);
}

TEST(wrong_types) {
        static const char *const docs[] = {
                "{\"version\":1,\"consecutiveFailures\":\"3\"}",
                "{\"version\":1,\"consecutiveFailures\":1.5}",
                "{\"version\":1,\"consecutiveFailures\":-1}",
                "{\"version\":1,\"consecutiveFailures\":4294967296}",
                "{\"version\":1,\"consecutiveFailures\":1e300}",
                "{\"version\":1,\"consecutiveFailures\":true}",
                "{\"version\":1,\"lastAttempt\":1740823200}",
                "{\"version\":1,\"lastSuccess\":true}",
                "{\"version\":1,\"lastFailure\":[\"2025-03-01T10:00:00Z\"]}",
                "{\"version\":1,\"nextAttempt\":{}}",
                "{\"version\":1,\"scheduled\":\"\"}",
                "{\"version\":1,\"lastError\":42}",
                "{\"version\":1,\"lastError\":[\"x\"]}",
                "{\"version\":1,\"ari\":true}",
                "{\"version\":1,\"ari\":[]}",
                "{\"version\":1,\"ari\":\"x\"}",
                "{\"version\":1,\"ari\":{\"certID\":1}}",
                "{\"version\":1,\"ari\":{\"explanationURL\":false}}",
                "{\"version\":1,\"ari\":{\"nextPoll\":0}}",
                "{\"version\":1,\"ari\":{\"window\":[]}}",
                "{\"version\":1,\"ari\":{\"window\":\"2025-03-01T10:00:00Z\"}}",
                /* Windows: both ends required, end after start. */
                "{\"version\":1,\"ari\":{\"window\":{}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"start\":\"2025-03-01T10:00:00Z\"}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"end\":\"2025-03-01T10:00:00Z\"}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"start\":\"2025-03-01T10:00:00Z\",\"end\":null}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"start\":\"2025-03-01T10:00:00Z\",\"end\":\"2025-03-01T10:00:00Z\"}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"start\":\"2025-03-02T10:00:00Z\",\"end\":\"2025-03-01T10:00:00Z\"}}}",
                "{\"version\":1,\"ari\":{\"window\":{\"start\":1,\"end\":2}}}",
                /* ARI strings are not cleaned but refused. */
                "{\"version\":1,\"ari\":{\"certID\":\"a\\nb\"}}",
                "{\"version\":1,\"ari\":{\"certID\":\"a\\u009bb\"}}",
                "{\"version\":1,\"ari\":{\"explanationURL\":\"https://x/\\u001b[2J\"}}",
                "{\"version\":1,\"ari\":{\"explanationURL\":\"https://x/\\u007f\"}}",
                /* Not an object, not JSON. */
                "[]",
                "\"version\"",
                "",
                "{\"version\":1}x",
                "{\"version\":1,}",
                "{\"version\":1,\"lastError\":\"a\\u0000b\"}",
                "{\"version\":1,\"lastError\":\"\xff\"}",
        };

        for (size_t i = 0; i < ELEMENTSOF(docs); i++)
                check_parse_fails(docs[i], -EBADMSG);

        /* NULL arguments. */
        CertState s = {};
        CHECK_INT(cert_state_from_json(NULL, 1, &s), -EINVAL);
        CHECK_INT(cert_state_from_json("{}", 2, NULL), -EINVAL);
        CHECK_INT(cert_state_from_json(NULL, 0, &s), -EBADMSG);
}

TEST(version) {
        check_parse_fails("{\"version\":2}", -EPROTONOSUPPORT);
        check_parse_fails("{\"version\":0}", -EPROTONOSUPPORT);
        check_parse_fails("{\"version\":-1}", -EPROTONOSUPPORT);
        check_parse_fails("{\"version\":1000000}", -EPROTONOSUPPORT);
        /* A later version may change types: the version decides first. */
        check_parse_fails("{\"version\":2,\"lastAttempt\":1740823200,\"ari\":[]}", -EPROTONOSUPPORT);
        check_parse_fails("{\"lastAttempt\":1740823200,\"version\":2}", -EPROTONOSUPPORT);

        check_parse_fails("{\"version\":\"1\"}", -EBADMSG);
        check_parse_fails("{\"version\":1.5}", -EBADMSG);
        check_parse_fails("{\"version\":true}", -EBADMSG);
        check_parse_fails("{\"version\":null}", -EBADMSG);
        check_parse_fails("{\"version\":[1]}", -EBADMSG);
        check_parse_fails("{\"Version\":1}", -EBADMSG);
}

TEST(truncated) {
        _cleanup_(cert_state_done) CertState s = full_state();
        _cleanup_free_ char *text = NULL;
        size_t len;

        REQUIRE(cert_state_to_json(&s, &text) == 0);
        len = strlen(text);
        while (len > 0 && strchr(" \t\n", text[len - 1]))
                len--;

        /* Every proper prefix of a valid file is refused, and the output left alone. */
        for (size_t n = 0; n < len; n++) {
                CertState sentinel = { .consecutive_failures = 4242 };
                int r = cert_state_from_json(text, n, &sentinel);
                if (r != -EBADMSG || sentinel.consecutive_failures != 4242) {
                        fprintf(stderr, "    prefix of %zu bytes: %d\n", n, r);
                        test_failures++;
                }
        }
}

TEST(times) {
        static const char *const bad[] = {
                "2025-02-29T00:00:00Z", /* not a leap year */
                "1900-02-29T00:00:00Z",
                "2025-04-31T00:00:00Z",
                "2025-00-10T00:00:00Z",
                "2025-13-10T00:00:00Z",
                "2025-01-00T00:00:00Z",
                "2025-01-32T00:00:00Z",
                "2025-01-01T24:00:00Z",
                "2025-01-01T00:60:00Z",
                "2025-12-31T23:59:60Z", /* leap seconds are not stored */
                "1969-12-31T23:59:59Z", /* before the epoch */
                "0000-01-01T00:00:00Z",
                "10000-01-01T00:00:00Z",
                "+2025-01-01T00:00:00Z",
                "-2025-01-01T00:00:00Z",
                "2025-01-01t00:00:00Z",
                "2025-01-01T00:00:00z",
                "2025-01-01 00:00:00Z",
                "2025-01-01T00:00:00",
                "2025-01-01T00:00:00+00:00",
                "2025-01-01T00:00:00.5Z",
                "2025-01-01T00:00:0Z",
                "2025-1-01T00:00:00Z",
                "2025-01-01T00:00:00Z ",
                " 2025-01-01T00:00:00Z",
                "2025-01-01T0a:00:00Z",
                "2025-01-01T-1:00:00Z",
                "1740823200",
                "",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char doc[128];
                snprintf(doc, sizeof(doc), "{\"version\":1,\"lastAttempt\":\"%s\"}", bad[i]);
                check_parse_fails(doc, -EBADMSG);
        }

        static const struct {
                const char *text;
                time_t t;
        } good[] = {
                { "1970-01-01T00:00:00Z", 0 },
                { "1970-01-01T00:00:01Z", 1 },
                { "2000-02-29T12:34:56Z", 951827696 },
                { "2024-02-29T00:00:00Z", 1709164800 },
                { "2025-03-01T10:00:00Z", T0 },
                { "2038-01-19T03:14:08Z", (time_t) 2147483648LL },
                { "9999-12-31T23:59:59Z", CERT_STATE_TIME_MAX },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char doc[128];
                CertState s = {};
                snprintf(doc, sizeof(doc), "{\"version\":1,\"scheduled\":\"%s\"}", good[i].text);
                CHECK_INT(parse(doc, &s), 0);
                CHECK_INT(s.scheduled, good[i].t);
                check_round_trip(&s);
                cert_state_done(&s);
        }
}

TEST(huge_and_negative_times) {
        static const time_t bad[] = {
                -1, -86400, (time_t) INT64_MIN, CERT_STATE_TIME_MAX + 1, (time_t) INT64_MAX,
        };
        char *text = (char *) "untouched";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CertState s[] = {
                        { .last_attempt = bad[i] },
                        { .last_success = bad[i] },
                        { .last_failure = bad[i] },
                        { .next_attempt = bad[i] },
                        { .ari_next_poll = bad[i] },
                        { .scheduled = bad[i] },
                        { .have_ari = true, .ari_start = bad[i], .ari_end = CERT_STATE_TIME_MAX },
                        { .have_ari = true, .ari_start = 0, .ari_end = bad[i] },
                };
                for (size_t j = 0; j < ELEMENTSOF(s); j++) {
                        CHECK_INT(cert_state_to_json(&s[j], &text), -ERANGE);
                        CHECK_STR(text, "untouched");
                }
        }

        /* A backwards or empty window. */
        CertState w1 = { .have_ari = true, .ari_start = T0, .ari_end = T0 };
        CertState w2 = { .have_ari = true, .ari_start = T0, .ari_end = T0 - 1 };
        CHECK_INT(cert_state_to_json(&w1, &text), -EINVAL);
        CHECK_INT(cert_state_to_json(&w2, &text), -EINVAL);
        CHECK_STR(text, "untouched");

        /* Times written as huge or negative numbers (not our format anyway). */
        check_parse_fails("{\"version\":1,\"scheduled\":-1}", -EBADMSG);
        check_parse_fails("{\"version\":1,\"scheduled\":1e30}", -EBADMSG);
        check_parse_fails("{\"version\":1,\"scheduled\":\"99999-01-01T00:00:00Z\"}", -EBADMSG);

        CHECK_INT(cert_state_to_json(NULL, &text), -EINVAL);
        CertState z = {};
        CHECK_INT(cert_state_to_json(&z, NULL), -EINVAL);
}

TEST(error_control_characters) {
        _cleanup_(cert_state_done) CertState s = {};
        _cleanup_(cert_state_done) CertState back = {};
        _cleanup_free_ char *text = NULL;

        REQUIRE(cert_state_record_failure(&s, T0,
                                          "\r\n line1\nline2\ttab\x01\x1b[31mred\x7f \xc2\x9b end \xff bad\r\n",
                                          T0 + 60) == 0);
        CHECK_STR(s.last_error, "line1 line2 tab[31mred  end ? bad");

        /* A line break of two characters, or several, is one space. */
        REQUIRE(cert_state_record_failure(&s, T0, "a\r\nb\n\n\tc", T0 + 60) == 0);
        CHECK_STR(s.last_error, "a b c");

        /* Only controls and spaces: nothing left. */
        REQUIRE(cert_state_record_failure(&s, T0, " \n\x01\x1b\t ", T0 + 60) == 0);
        CHECK(!s.last_error);
        REQUIRE(cert_state_record_failure(&s, T0, "", T0 + 60) == 0);
        CHECK(!s.last_error);
        REQUIRE(cert_state_record_failure(&s, T0, NULL, T0 + 60) == 0);
        CHECK(!s.last_error);

        /* Non-ASCII text is kept; broken UTF-8 (overlong, surrogate, truncated) is not. */
        REQUIRE(cert_state_record_failure(&s, T0, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 \xc0\xaf \xed\xa0\x80 \xe2\x82", 0) == 0);
        CHECK_STR(s.last_error, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 ?? ??? ??");

        /* Escaped controls in a file are cleaned when loaded. */
        REQUIRE(parse("{\"version\":1,\"lastError\":\"a\\u001b]0;x\\u0007b\\nc\\u0085d\\u009be\"}", &back) == 0);
        CHECK_STR(back.last_error, "a]0;xb cde");

        /* A caller that filled last_error itself still gets clean text on disk. */
        free(s.last_error);
        s.last_error = strdup("x\x1b[2Jy\nz");
        REQUIRE(s.last_error);
        REQUIRE(cert_state_to_json(&s, &text) == 0);
        CHECK(strstr(text, "\"lastError\":\t\"x[2Jy z\""));
        CHECK(!strstr(text, "\\u001b"));
}

TEST(error_capped) {
        _cleanup_(cert_state_done) CertState s = {};
        _cleanup_free_ char *big = NULL, *doc = NULL;
        size_t n;

        big = malloc(100001);
        REQUIRE(big);

        /* ASCII: exactly the cap is kept as is, one more is cut with an ellipsis. */
        memset(big, 'x', CERT_STATE_ERROR_MAX);
        big[CERT_STATE_ERROR_MAX] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        CHECK_STR(s.last_error, big);

        memset(big, 'x', CERT_STATE_ERROR_MAX + 1);
        big[CERT_STATE_ERROR_MAX + 1] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        REQUIRE(s.last_error);
        CHECK_INT(strlen(s.last_error), CERT_STATE_ERROR_MAX);
        CHECK(streq(s.last_error + CERT_STATE_ERROR_MAX - 3, "..."));

        memset(big, 'x', 100000);
        big[100000] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        REQUIRE(s.last_error);
        n = strlen(s.last_error);
        CHECK_INT(n, CERT_STATE_ERROR_MAX);
        CHECK(streq(s.last_error + n - 3, "..."));
        CHECK(strspn(s.last_error, "x") == n - 3);

        /* Two-byte characters: the cut does not split one. */
        for (size_t i = 0; i < 1000; i++)
                memcpy(big + 2 * i, "\xc3\xa9", 2);
        big[2000] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        REQUIRE(s.last_error);
        n = strlen(s.last_error);
        CHECK_INT(n, 1020 + 3);
        CHECK(memcmp(s.last_error, big, 1020) == 0);
        CHECK(streq(s.last_error + 1020, "..."));

        /* Four-byte characters after one ASCII byte. */
        big[0] = 'a';
        for (size_t i = 0; i < 500; i++)
                memcpy(big + 1 + 4 * i, "\xf0\x9f\x94\x92", 4);
        big[2001] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        REQUIRE(s.last_error);
        n = strlen(s.last_error);
        CHECK_INT(n, 1 + 4 * 255 + 3);
        CHECK(streq(s.last_error + n - 3, "..."));

        /* Controls do not count: 2000 controls and 1000 letters fit. */
        for (size_t i = 0; i < 3000; i++)
                big[i] = i % 3 == 1 ? 'y' : '\x01';
        big[3000] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        REQUIRE(s.last_error);
        CHECK_INT(strlen(s.last_error), 1000);
        CHECK(strspn(s.last_error, "y") == 1000);

        /* Cleaning is idempotent: storing the stored text again changes nothing. */
        memset(big, 'z', 5000);
        big[5000] = 0;
        REQUIRE(cert_state_record_failure(&s, T0, big, 0) == 0);
        _cleanup_free_ char *copy = strdup(s.last_error);
        REQUIRE(copy);
        REQUIRE(cert_state_record_failure(&s, T0, copy, 0) == 0);
        CHECK_STR(s.last_error, copy);

        /* From a file: capped as well. */
        cert_state_done(&s);
        memset(big, 'q', 3000);
        big[3000] = 0;
        REQUIRE(asprintf(&doc, "{\"version\":1,\"lastError\":\"%s\"}", big) > 0);
        REQUIRE(parse(doc, &s) == 0);
        REQUIRE(s.last_error);
        CHECK_INT(strlen(s.last_error), CERT_STATE_ERROR_MAX);
        check_round_trip(&s);
}

TEST(ari_strings) {
        char *text = (char *) "untouched";
        _cleanup_free_ char *long_id = NULL;
        CertState s = {};

        s.ari_cert_id = (char *) "a\nb";
        CHECK_INT(cert_state_to_json(&s, &text), -EINVAL);
        s.ari_cert_id = (char *) "a\xff";
        CHECK_INT(cert_state_to_json(&s, &text), -EINVAL);
        s.ari_cert_id = NULL;
        s.ari_explanation_url = (char *) "https://x/\xc2\x9b";
        CHECK_INT(cert_state_to_json(&s, &text), -EINVAL);
        s.ari_explanation_url = NULL;

        long_id = malloc(CERT_STATE_TEXT_MAX + 2);
        REQUIRE(long_id);
        memset(long_id, 'A', CERT_STATE_TEXT_MAX + 1);
        long_id[CERT_STATE_TEXT_MAX + 1] = 0;
        s.ari_cert_id = long_id;
        CHECK_INT(cert_state_to_json(&s, &text), -EINVAL);
        CHECK_STR(text, "untouched");

        /* Exactly the maximum is fine, and round-trips. */
        long_id[CERT_STATE_TEXT_MAX] = 0;
        check_round_trip(&s);
        s.ari_cert_id = NULL;

        /* From a file: the same limit. */
        _cleanup_free_ char *doc = NULL;
        long_id[CERT_STATE_TEXT_MAX] = 'A';
        REQUIRE(asprintf(&doc, "{\"version\":1,\"ari\":{\"explanationURL\":\"%s\"}}", long_id) > 0);
        check_parse_fails(doc, -EBADMSG);
}

TEST(record_outcomes) {
        _cleanup_(cert_state_done) CertState s = full_state();

        /* Failures count up, remember when, why and the backoff. */
        s.consecutive_failures = 0;
        REQUIRE(cert_state_record_failure(&s, T0 + 100, "connection refused", T0 + 160) == 0);
        CHECK_INT(s.consecutive_failures, 1);
        CHECK_INT(s.last_attempt, T0 + 100);
        CHECK_INT(s.last_failure, T0 + 100);
        CHECK_INT(s.next_attempt, T0 + 160);
        CHECK_STR(s.last_error, "connection refused");
        /* ARI and the schedule are left alone by a failure. */
        CHECK(s.have_ari);
        CHECK_INT(s.scheduled, T0 + 2 * 86400 + 4321);
        CHECK_STR(s.ari_cert_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");

        REQUIRE(cert_state_record_failure(&s, T0 + 200, "timeout", T0 + 800) == 0);
        CHECK_INT(s.consecutive_failures, 2);
        CHECK_INT(s.next_attempt, T0 + 800);
        CHECK_STR(s.last_error, "timeout");
        check_round_trip(&s);

        /* The count saturates. */
        s.consecutive_failures = UINT_MAX;
        REQUIRE(cert_state_record_failure(&s, T0 + 300, "again", T0 + 86400) == 0);
        CHECK_INT(s.consecutive_failures, UINT_MAX);

        /* A success ends the backoff and drops what belonged to the old certificate. */
        cert_state_record_success(&s, T0 + 400);
        CHECK_INT(s.consecutive_failures, 0);
        CHECK_INT(s.next_attempt, 0);
        CHECK(!s.last_error);
        CHECK_INT(s.last_attempt, T0 + 400);
        CHECK_INT(s.last_success, T0 + 400);
        CHECK_INT(s.last_failure, T0 + 300);
        CHECK(!s.have_ari);
        CHECK_INT(s.ari_start, 0);
        CHECK_INT(s.ari_end, 0);
        CHECK_INT(s.ari_next_poll, 0);
        CHECK(!s.ari_cert_id);
        CHECK(!s.ari_explanation_url);
        CHECK_INT(s.scheduled, 0);
        check_round_trip(&s);

        CHECK_INT(cert_state_record_failure(NULL, T0, "x", 0), -EINVAL);
        cert_state_record_success(NULL, T0);
        cert_state_done(NULL);
}


/* Count the entries of dir_fd/path other than . and .., and fail the test for any that is
 * not in allowed (NULL-terminated): a temporary file left behind shows up here. Returns
 * the count or -1. */
static int count_entries(int dir_fd, const char *path, const char *const *allowed) {
        DIR *d;
        struct dirent *de;
        int fd, n = 0;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d))) {
                bool ok = false;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || streq(*a, de->d_name);
                if (!ok) {
                        fprintf(stderr, "    unexpected entry: %s/%s\n", path, de->d_name);
                        test_failures++;
                }
                n++;
        }
        closedir(d);
        return n;
}

TEST(save_load_remove) {
        _cleanup_(cert_state_done) CertState s = full_state();
        _cleanup_(cert_state_done) CertState back = {};
        _cleanup_(test_store_done) TestStore f = {};
        static const char *const files[] = { "www.example.org.json", "other_cert-2.json", NULL };
        struct stat st;
        mode_t old_umask;

        REQUIRE(test_store_setup(&f));

        CHECK_INT(cert_state_load(f.fd, "www.example.org", &back), -ENOENT);
        CHECK_INT(cert_state_remove(f.fd, "www.example.org"), 0);        /* no status/ yet */
        CHECK(fstatat(f.fd, "status", &st, 0) < 0 && errno == ENOENT);

        /* A tight umask must not change the modes: they are exact. */
        old_umask = umask(077);
        CHECK_INT(cert_state_save(f.fd, "www.example.org", &s), 0);
        umask(old_umask);

        REQUIRE(fstatat(f.fd, "status", &st, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0755);
        REQUIRE(fstatat(f.fd, "status/www.example.org.json", &st, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0644);

        REQUIRE(cert_state_load(f.fd, "www.example.org", &back) == 0);
        CHECK(state_equal(&s, &back));
        cert_state_done(&back);

        /* Overwrite many times: always the latest, never a temporary file left. */
        for (unsigned i = 0; i < 20; i++) {
                REQUIRE(cert_state_record_failure(&s, T0 + i, "again", T0 + 60 * i) == 0);
                REQUIRE(cert_state_save(f.fd, "www.example.org", &s) == 0);
        }
        CHECK_INT(cert_state_save(f.fd, "other_cert-2", &s), 0);
        CHECK_INT(count_entries(f.fd, "status", files), 2);
        REQUIRE(cert_state_load(f.fd, "www.example.org", &back) == 0);
        CHECK(state_equal(&s, &back));
        CHECK_INT(back.consecutive_failures, 3 + 20);
        cert_state_done(&back);

        /* The other directories of the store are untouched. */
        CHECK_INT(count_entries(f.fd, "live", (const char *const[]) { NULL }), 0);

        /* A state that cannot be stored leaves the file as it was. */
        CertState bad = { .scheduled = -1 };
        CHECK_INT(cert_state_save(f.fd, "www.example.org", &bad), -ERANGE);
        REQUIRE(cert_state_load(f.fd, "www.example.org", &back) == 0);
        CHECK(state_equal(&s, &back));
        cert_state_done(&back);
        CHECK_INT(count_entries(f.fd, "status", files), 2);

        CHECK_INT(cert_state_remove(f.fd, "www.example.org"), 1);
        CHECK_INT(cert_state_remove(f.fd, "www.example.org"), 0);
        CHECK_INT(cert_state_load(f.fd, "www.example.org", &back), -ENOENT);
        CHECK_INT(cert_state_load(f.fd, "other_cert-2", &back), 0);
        cert_state_done(&back);
        CHECK_INT(count_entries(f.fd, "status", files), 1);

        /* A state that cannot be stored creates no directory either. */
        TestStore g = {};
        REQUIRE(test_store_setup(&g));
        CHECK_INT(cert_state_save(g.fd, "x", &bad), -ERANGE);
        CHECK(fstatat(g.fd, "status", &st, 0) < 0 && errno == ENOENT);
        test_store_done(&g);
}

TEST(load_corrupt) {
        _cleanup_(test_store_done) TestStore f = {};
        _cleanup_free_ char *big = NULL;
        CertState sentinel = { .consecutive_failures = 4242 };
        CertState s = sentinel;
        struct stat st;

        REQUIRE(test_store_setup(&f));
        REQUIRE(mkdirat(f.fd, "status", 0755) == 0);

        REQUIRE(write_file_atomic(f.fd, "status/a.json", "{\"version\":1,", 13, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_load(f.fd, "a", &s), -EBADMSG);
        REQUIRE(write_file_atomic(f.fd, "status/a.json", "", 0, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_load(f.fd, "a", &s), -EBADMSG);
        REQUIRE(write_file_atomic(f.fd, "status/a.json", "\0\0\0\0", 4, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_load(f.fd, "a", &s), -EBADMSG);
        REQUIRE(write_file_atomic(f.fd, "status/a.json", "{\"version\":2}", 13, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_load(f.fd, "a", &s), -EPROTONOSUPPORT);

        /* A huge file is corrupt, not something to read into memory. */
        big = malloc(1 << 20);
        REQUIRE(big);
        memset(big, ' ', 1 << 20);
        memcpy(big, "{\"version\":1}", 13);
        REQUIRE(write_file_atomic(f.fd, "status/a.json", big, 1 << 20, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_load(f.fd, "a", &s), -EBADMSG);

        /* Something else in the way. */
        REQUIRE(mkdirat(f.fd, "status/d.json", 0755) == 0);
        CHECK(cert_state_load(f.fd, "d", &s) < 0);
        CHECK(cert_state_save(f.fd, "d", &sentinel) < 0);
        CHECK_INT(cert_state_remove(f.fd, "d"), -EISDIR);

        CHECK_INT(s.consecutive_failures, 4242);

        /* status/ that is not a directory. */
        TestStore g = {};
        REQUIRE(test_store_setup(&g));
        REQUIRE(write_file_atomic(g.fd, "status", "x", 1, 0644, (gid_t) -1) == 0);
        CHECK_INT(cert_state_save(g.fd, "x", &sentinel), -ENOTDIR);
        CHECK(cert_state_load(g.fd, "x", &s) < 0);
        REQUIRE(fstatat(g.fd, "status", &st, 0) == 0);
        CHECK(S_ISREG(st.st_mode));
        test_store_done(&g);
}

TEST(bad_names) {
        _cleanup_(test_store_done) TestStore f = {};
        static const char *const names[] = {
                "", ".", "..", ".hidden", "../x", "a/b", "/abs", "a b", "a\nb", "é",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        };
        CertState s = { .consecutive_failures = 4242 };

        REQUIRE(test_store_setup(&f));

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                CHECK_INT(cert_state_save(f.fd, names[i], &s), -EINVAL);
                CHECK_INT(cert_state_load(f.fd, names[i], &s), -EINVAL);
                CHECK_INT(cert_state_remove(f.fd, names[i]), -EINVAL);
        }
        CHECK_INT(cert_state_save(f.fd, NULL, &s), -EINVAL);
        CHECK_INT(cert_state_load(f.fd, NULL, &s), -EINVAL);
        CHECK_INT(cert_state_remove(f.fd, NULL), -EINVAL);
        CHECK_INT(cert_state_save(f.fd, "ok", NULL), -EINVAL);
        CHECK_INT(cert_state_load(f.fd, "ok", NULL), -EINVAL);
        CHECK_INT(s.consecutive_failures, 4242);

        /* Nothing was created by any of them. */
        struct stat st;
        CHECK(fstatat(f.fd, "status", &st, 0) < 0 && errno == ENOENT);

        /* The longest valid name works. */
        CHECK_INT(cert_state_save(f.fd, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &s), 0);
        CHECK_INT(cert_state_load(f.fd, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &s), 0);
        CHECK_INT(s.consecutive_failures, 4242);
        cert_state_done(&s);
}

TEST(deploy_fields) {
        _cleanup_(cert_state_done) CertState s = {}, back = {};
        _cleanup_free_ char *json = NULL;

        s.consecutive_failures = 2;
        s.deploy_pending = true;
        s.failure_notified_days = 7;
        REQUIRE(cert_state_to_json(&s, &json) >= 0);
        CHECK(strstr(json, "\"deployPending\""));
        CHECK(strstr(json, "\"failureNotifiedDays\""));
        REQUIRE(cert_state_from_json(json, strlen(json), &back) >= 0);
        CHECK(back.deploy_pending);
        CHECK_INT(back.failure_notified_days, 7);

        /* wrong types are refused */
        static const char *const bad[] = {
                "{\"version\":1,\"deployPending\":1}",
                "{\"version\":1,\"deployPending\":\"yes\"}",
                "{\"version\":1,\"failureNotifiedDays\":-1}",
                "{\"version\":1,\"failureNotifiedDays\":1e9}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CertState x = {};
                CHECK(cert_state_from_json(bad[i], strlen(bad[i]), &x) < 0);
        }

        /* a redeploy that works ends the streak but keeps the history */
        back.last_success = 1000;
        back.have_ari = true;
        back.ari_start = 5;
        back.ari_end = 10;
        cert_state_record_deployed(&back);
        CHECK(!back.deploy_pending);
        CHECK_INT(back.consecutive_failures, 0);
        CHECK_INT(back.failure_notified_days, 0);
        CHECK_INT(back.last_success, 1000);
        CHECK(back.have_ari);
        /* a renewal that works clears both */
        back.deploy_pending = true;
        back.failure_notified_days = 3;
        cert_state_record_success(&back, 2000);
        CHECK(!back.deploy_pending);
        CHECK_INT(back.failure_notified_days, 0);
}

TEST_MAIN(T(deploy_fields), T(round_trip_every_field), T(round_trip_partial), T(defaults), T(unknown_members_ignored),
          T(wrong_types), T(version), T(truncated), T(times), T(huge_and_negative_times),
          T(error_control_characters), T(error_capped), T(ari_strings), T(record_outcomes),
          T(save_load_remove), T(load_corrupt), T(bad_names))
