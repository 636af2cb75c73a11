/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "acme-problem.h"
#include "test.h"

#define PARSE(doc, status, ret) acme_problem_parse((doc), strlen(doc), (status), (ret))

static const char full_doc[] =
        "{\n"
        "  \"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\",\n"
        "  \"detail\": \"Some of the identifiers requested were rejected\",\n"
        "  \"status\": 400,\n"
        "  \"instance\": \"https://ca.test/problem/1\",\n"
        "  \"subproblems\": [\n"
        "    {\n"
        "      \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
        "      \"detail\": \"Invalid underscore in DNS name \\\"_example.org\\\"\",\n"
        "      \"identifier\": { \"type\": \"dns\", \"value\": \"_example.org\" }\n"
        "    },\n"
        "    {\n"
        "      \"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\",\n"
        "      \"detail\": \"This CA will not issue for \\\"example.net\\\"\",\n"
        "      \"identifier\": { \"type\": \"dns\", \"value\": \"example.net\" }\n"
        "    },\n"
        "    { \"type\": \"https://ca.test/custom\", \"identifier\": { \"type\": \"ip\", \"value\": \"192.0.2.1\" } },\n"
        "    { \"detail\": \"no type, no identifier\" }\n"
        "  ]\n"
        "}\n";

TEST(parse_full) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
        _cleanup_free_ char *s = NULL;

        REQUIRE(PARSE(full_doc, 403, &p) == 0);
        REQUIRE(p);
        CHECK_STR(p->type, "urn:ietf:params:acme:error:rejectedIdentifier");
        CHECK_STR(p->detail, "Some of the identifiers requested were rejected");
        CHECK_INT(p->status, 400); /* the document wins over the HTTP status */
        REQUIRE(p->n_subproblems == 4);

        CHECK_STR(p->subproblems[0].type, "urn:ietf:params:acme:error:malformed");
        CHECK_STR(p->subproblems[0].detail, "Invalid underscore in DNS name \"_example.org\"");
        CHECK_STR(p->subproblems[0].identifier, "dns:_example.org");
        CHECK_STR(p->subproblems[1].type, "urn:ietf:params:acme:error:rejectedIdentifier");
        CHECK_STR(p->subproblems[1].identifier, "dns:example.net");
        CHECK_STR(p->subproblems[2].type, "https://ca.test/custom");
        CHECK(p->subproblems[2].detail == NULL);
        CHECK_STR(p->subproblems[2].identifier, "ip:192.0.2.1");
        CHECK(p->subproblems[3].type == NULL);
        CHECK_STR(p->subproblems[3].detail, "no type, no identifier");
        CHECK(p->subproblems[3].identifier == NULL);

        CHECK(acme_problem_is(p, "rejectedIdentifier"));
        CHECK(!acme_problem_is(p, "malformed"));
        CHECK_STR(acme_problem_short_type(p), "rejectedIdentifier");

        s = acme_problem_format(p);
        CHECK_STR(s, "rejectedIdentifier: Some of the identifiers requested were rejected (HTTP 400); "
                     "dns:_example.org: malformed: Invalid underscore in DNS name \"_example.org\", "
                     "dns:example.net: rejectedIdentifier: This CA will not issue for \"example.net\", "
                     "ip:192.0.2.1: https://ca.test/custom, "
                     "problem: no type, no identifier");
}

TEST(parse_exact_length) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
        /* Only len bytes count: what follows is not part of the document. */
        static const char doc[] = "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}GARBAGE";

        REQUIRE(acme_problem_parse(doc, strlen(doc) - 7, 400, &p) == 0);
        CHECK(acme_problem_is(p, "badNonce"));
        CHECK_INT(p->status, 400);
        CHECK(p->detail == NULL);
        CHECK_INT(p->n_subproblems, 0);
        CHECK(p->subproblems == NULL);
}

TEST(missing_type) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL, *q = NULL;
        _cleanup_free_ char *s = NULL, *t = NULL;

        REQUIRE(PARSE("{\"detail\":\"Something broke\"}", 500, &p) == 0);
        CHECK_STR(p->type, "about:blank");
        CHECK_STR(acme_problem_short_type(p), "about:blank");
        CHECK(!acme_problem_is(p, "blank"));
        CHECK(!acme_problem_is(p, "about:blank"));
        CHECK_INT(acme_problem_to_errno(p), -EPROTO);
        CHECK_INT(p->status, 500);
        s = acme_problem_format(p);
        CHECK_STR(s, "about:blank: Something broke (HTTP 500)");

        /* JSON null counts as absent, for type and status alike. */
        REQUIRE(PARSE("{\"type\":null,\"status\":null}", 0, &q) == 0);
        CHECK_STR(q->type, "about:blank");
        CHECK_INT(q->status, 0);
        t = acme_problem_format(q);
        CHECK_STR(t, "about:blank"); /* no detail, no status */
}

TEST(status_source) {
        AcmeProblem *p = NULL;

        REQUIRE(PARSE("{\"type\":\"urn:ietf:params:acme:error:unauthorized\"}", 403, &p) == 0);
        CHECK_INT(p->status, 403);
        p = acme_problem_free(p);
        CHECK(p == NULL);

        REQUIRE(PARSE("{\"type\":\"urn:ietf:params:acme:error:unauthorized\",\"status\":401}", 403, &p) == 0);
        CHECK_INT(p->status, 401);
        p = acme_problem_free(p);

        REQUIRE(PARSE("{\"status\":100}", 0, &p) == 0);
        CHECK_INT(p->status, 100);
        p = acme_problem_free(p);
        REQUIRE(PARSE("{\"status\":599}", 0, &p) == 0);
        CHECK_INT(p->status, 599);
        p = acme_problem_free(p);
        REQUIRE(PARSE("{\"status\":429.0}", 0, &p) == 0);
        CHECK_INT(p->status, 429);
        p = acme_problem_free(p);

        CHECK(acme_problem_free(NULL) == NULL);
}

TEST(wrong_types) {
        static const char *const bad[] = {
                "{\"type\":42}",
                "{\"type\":true}",
                "{\"type\":[\"urn:ietf:params:acme:error:badNonce\"]}",
                "{\"type\":{}}",
                "{\"detail\":42}",
                "{\"detail\":[]}",
                "{\"status\":\"400\"}",
                "{\"status\":99}",
                "{\"status\":0}",
                "{\"status\":-400}",
                "{\"status\":600}",
                "{\"status\":1e300}",
                "{\"status\":400.5}",
                "{\"status\":true}",
                "{\"subproblems\":{}}",
                "{\"subproblems\":\"x\"}",
                "{\"subproblems\":42}",
                "{\"subproblems\":[1]}",
                "{\"subproblems\":[\"x\"]}",
                "{\"subproblems\":[[]]}",
                "{\"subproblems\":[null]}",
                "{\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:dns\"},7]}",
                "{\"subproblems\":[{\"type\":7}]}",
                "{\"subproblems\":[{\"detail\":{}}]}",
                "{\"subproblems\":[{\"identifier\":\"dns:a.test\"}]}",
                "{\"subproblems\":[{\"identifier\":{\"type\":\"dns\"}}]}",
                "{\"subproblems\":[{\"identifier\":{\"value\":\"a.test\"}}]}",
                "{\"subproblems\":[{\"identifier\":{\"type\":1,\"value\":\"a.test\"}}]}",
                "{\"subproblems\":[{\"identifier\":{\"type\":\"dns\",\"value\":[]}}]}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AcmeProblem *p = (AcmeProblem *) 0x1;
                int r = PARSE(bad[i], 400, &p);
                if (r != -EBADMSG)
                        fprintf(stderr, "%s: %d\n", bad[i], r);
                CHECK_INT(r, -EBADMSG);
                CHECK(p == (AcmeProblem *) 0x1); /* untouched on failure */
        }
}

TEST(not_json) {
        static const char *const bad[] = {
                "",
                "not json",
                "{",
                "{\"type\":\"x\"",
                "[]",
                "[{\"type\":\"urn:ietf:params:acme:error:badNonce\"}]",
                "\"urn:ietf:params:acme:error:badNonce\"",
                "42",
                "null",
                "<html><body>502 Bad Gateway</body></html>",
                "{\"type\":\"x\"} {}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AcmeProblem *p = (AcmeProblem *) 0x1;
                int r = PARSE(bad[i], 502, &p);
                if (r >= 0)
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                CHECK(r < 0);
                CHECK(p == (AcmeProblem *) 0x1);
        }

        /* Embedded NUL and invalid UTF-8. */
        AcmeProblem *p = NULL;
        static const char nul[] = "{\"detail\":\"a\0b\"}";
        CHECK(acme_problem_parse(nul, sizeof nul - 1, 400, &p) < 0);
        CHECK(PARSE("{\"detail\":\"\xff\"}", 400, &p) < 0);
        CHECK(p == NULL);
}

TEST(classification) {
        static const struct {
                const char *type;
                const char *short_type;
                int error;
        } cases[] = {
                { "urn:ietf:params:acme:error:badNonce", "badNonce", -EAGAIN },
                { "urn:ietf:params:acme:error:rateLimited", "rateLimited", -EBUSY },
                { "urn:ietf:params:acme:error:unauthorized", "unauthorized", -EACCES },
                { "urn:ietf:params:acme:error:externalAccountRequired", "externalAccountRequired", -EACCES },
                { "urn:ietf:params:acme:error:accountDoesNotExist", "accountDoesNotExist", -ENOENT },
                { "urn:ietf:params:acme:error:malformed", "malformed", -EINVAL },
                { "urn:ietf:params:acme:error:badCSR", "badCSR", -EINVAL },
                { "urn:ietf:params:acme:error:serverInternal", "serverInternal", -EIO },
                { "urn:ietf:params:acme:error:alreadyReplaced", "alreadyReplaced", -EEXIST },
                { "urn:ietf:params:acme:error:connection", "connection", -ENOLINK },
                { "urn:ietf:params:acme:error:dns", "dns", -ENOLINK },
                { "urn:ietf:params:acme:error:tls", "tls", -ENOLINK },
                { "urn:ietf:params:acme:error:incorrectResponse", "incorrectResponse", -ENOLINK },
                /* Unknown ACME errors, near misses and foreign types. */
                { "urn:ietf:params:acme:error:somethingNew", "somethingNew", -EPROTO },
                { "urn:ietf:params:acme:error:badNonceX", "badNonceX", -EPROTO },
                { "urn:ietf:params:acme:error:badnonce", "badnonce", -EPROTO },
                { "urn:ietf:params:acme:error:", "", -EPROTO },
                { "urn:ietf:params:acme:errors:badNonce", "urn:ietf:params:acme:errors:badNonce", -EPROTO },
                { "URN:IETF:PARAMS:ACME:ERROR:badNonce", "URN:IETF:PARAMS:ACME:ERROR:badNonce", -EPROTO },
                { "badNonce", "badNonce", -EPROTO },
                { "https://ca.test/errors/badNonce", "https://ca.test/errors/badNonce", -EPROTO },
                { "about:blank", "about:blank", -EPROTO },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
                _cleanup_free_ char *doc = NULL;

                REQUIRE(asprintf(&doc, "{\"type\":\"%s\"}", cases[i].type) >= 0);
                REQUIRE(PARSE(doc, 400, &p) == 0);
                CHECK_STR(acme_problem_short_type(p), cases[i].short_type);
                if (acme_problem_to_errno(p) != cases[i].error)
                        fprintf(stderr, "%s\n", cases[i].type);
                CHECK_INT(acme_problem_to_errno(p), cases[i].error);
                /* acme_problem_is() recognizes exactly the ACME errors. */
                bool acme = strncmp(cases[i].type, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)) == 0;
                CHECK(acme_problem_is(p, cases[i].short_type) == acme);
        }

        CHECK(!acme_problem_is(NULL, "badNonce"));
        CHECK_INT(acme_problem_to_errno(NULL), -EPROTO);
}

TEST(problem_new) {
        _cleanup_(acme_problem_freep) AcmeProblem *a = NULL, *b = NULL;
        _cleanup_free_ char *s = NULL, *t = NULL, *long_detail = NULL;

        REQUIRE(acme_problem_new("urn:ietf:params:acme:error:rateLimited", "Too many orders", 429, &a) == 0);
        CHECK(acme_problem_is(a, "rateLimited"));
        CHECK_INT(acme_problem_to_errno(a), -EBUSY);
        s = acme_problem_format(a);
        CHECK_STR(s, "rateLimited: Too many orders (HTTP 429)");

        long_detail = malloc(5000);
        REQUIRE(long_detail);
        memset(long_detail, 'x', 4999);
        long_detail[4999] = 0;
        REQUIRE(acme_problem_new(NULL, long_detail, 0, &b) == 0);
        CHECK_STR(b->type, "about:blank");
        CHECK(b->detail && strlen(b->detail) <= 1024);
        t = acme_problem_format(b);
        CHECK(t && strncmp(t, "about:blank: xxx", 16) == 0);
}

TEST(format_control_characters) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
        _cleanup_free_ char *s = NULL;
        static const char doc[] =
                "{\"type\":\"urn:ietf:params:acme:error:unauthorized\\u001b[2J\","
                "\"detail\":\"line1\\nline2\\r\\tX\\u001b[31mred\\u007f\\u0001end\","
                "\"status\":403,"
                "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:dns\","
                "\"detail\":\"no\\u0007bell\","
                "\"identifier\":{\"type\":\"dns\",\"value\":\"evil\\n.test\"}}]}";

        REQUIRE(PARSE(doc, 0, &p) == 0);
        s = acme_problem_format(p);
        CHECK_STR(s, "unauthorized?[2J: line1?line2??X?[31mred??end (HTTP 403); dns:evil?.test: dns: no?bell");
        for (const char *c = s; c && *c; c++)
                CHECK((unsigned char) *c >= 0x20 && *c != 0x7f);
}

TEST(format_c1_controls) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
        _cleanup_free_ char *s = NULL;
        /* U+009B is CSI, U+0085 NEL: C1 control characters, as dangerous on a terminal as
         * ESC [. Other non-ASCII text (é, €) stays. */
        static const char doc[] = "{\"detail\":\"a\\u009b2Jb\\u0085c \\u00e9\\u20ac\"}";

        REQUIRE(PARSE(doc, 400, &p) == 0);
        s = acme_problem_format(p);
        CHECK_STR(s, "about:blank: a?2Jb?c \xc3\xa9\xe2\x82\xac (HTTP 400)");
}

TEST(limits) {
        _cleanup_free_ char *doc = NULL, *big = NULL;
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL, *q = NULL;
        size_t len = 0;
        FILE *f;

        /* 150 subproblems: kept up to the cap of 100. */
        f = open_memstream(&doc, &len);
        REQUIRE(f);
        fputs("{\"subproblems\":[", f);
        for (int i = 0; i < 150; i++)
                fprintf(f, "%s{\"type\":\"urn:ietf:params:acme:error:dns\",\"identifier\":"
                           "{\"type\":\"dns\",\"value\":\"h%d.test\"}}", i ? "," : "", i);
        fputs("]}", f);
        REQUIRE(fclose(f) == 0);
        REQUIRE(acme_problem_parse(doc, len, 400, &p) == 0);
        CHECK_INT(p->n_subproblems, 100);
        CHECK_STR(p->subproblems[99].identifier, "dns:h99.test");
        _cleanup_free_ char *s = acme_problem_format(p);
        CHECK(s != NULL);

        /* Very long texts are capped. */
        big = malloc(10000);
        REQUIRE(big);
        strcpy(big, "{\"detail\":\"");
        size_t k = strlen(big);
        memset(big + k, 'd', 8000);
        strcpy(big + k + 8000, "\",\"subproblems\":[{\"identifier\":{\"type\":\"dns\",\"value\":\"");
        k = strlen(big);
        memset(big + k, 'v', 1000);
        strcpy(big + k + 1000, "\"}}]}");
        REQUIRE(acme_problem_parse(big, strlen(big), 400, &q) == 0);
        CHECK(strlen(q->detail) <= 1024);
        REQUIRE(q->n_subproblems == 1);
        CHECK(strlen(q->subproblems[0].identifier) < 1024);
}

TEST_MAIN(T(parse_full), T(parse_exact_length), T(missing_type), T(status_source), T(wrong_types), T(not_json),
          T(classification), T(problem_new), T(format_control_characters), T(format_c1_controls), T(limits))
