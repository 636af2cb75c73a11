/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "acme-directory.h"
#include "strv.h"
#include "test.h"

#define PARSE(doc, allow_http, ret) acme_directory_parse((doc), strlen(doc), (allow_http), (ret))

/* What Pebble serves, members in its order. */
static const char pebble[] =
        "{\n"
        "   \"keyChange\": \"https://localhost:14000/rollover-account-key\",\n"
        "   \"meta\": {\n"
        "      \"externalAccountRequired\": true,\n"
        "      \"profiles\": {\n"
        "         \"default\": \"The profile you know and love\",\n"
        "         \"shortlived\": \"A short-lived cert profile, without actual enforcement\"\n"
        "      },\n"
        "      \"termsOfService\": \"data:text/plain,Do%20what%20thou%20wilt\"\n"
        "   },\n"
        "   \"newAccount\": \"https://localhost:14000/sign-me-up\",\n"
        "   \"newNonce\": \"https://localhost:14000/nonce-plz\",\n"
        "   \"newOrder\": \"https://localhost:14000/order-plz\",\n"
        "   \"renewalInfo\": \"https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo\",\n"
        "   \"revokeCert\": \"https://localhost:14000/revoke-cert\"\n"
        "}\n";

/* The three required URLs, and nothing else. */
#define MINIMAL_URLS                                          \
        "\"newNonce\":\"https://ca.test/nonce\","             \
        "\"newAccount\":\"https://ca.test/account\","         \
        "\"newOrder\":\"https://ca.test/order\""

TEST(pebble) {
        _cleanup_(acme_directory_freep) AcmeDirectory *d = NULL;

        REQUIRE(PARSE(pebble, false, &d) == 0);
        CHECK_STR(d->new_nonce, "https://localhost:14000/nonce-plz");
        CHECK_STR(d->new_account, "https://localhost:14000/sign-me-up");
        CHECK_STR(d->new_order, "https://localhost:14000/order-plz");
        CHECK_STR(d->revoke_cert, "https://localhost:14000/revoke-cert");
        CHECK_STR(d->key_change, "https://localhost:14000/rollover-account-key");
        CHECK_STR(d->renewal_info, "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo");
        CHECK_STR(d->terms_of_service, "data:text/plain,Do%20what%20thou%20wilt");
        CHECK(d->external_account_required);
        REQUIRE(d->profiles);
        CHECK_INT(strv_length(d->profiles), 2);
        CHECK(strv_contains(d->profiles, "default"));
        CHECK(strv_contains(d->profiles, "shortlived"));
}

TEST(minimal) {
        _cleanup_(acme_directory_freep) AcmeDirectory *d = NULL;

        REQUIRE(PARSE("{" MINIMAL_URLS "}", false, &d) == 0);
        CHECK_STR(d->new_nonce, "https://ca.test/nonce");
        CHECK_STR(d->new_account, "https://ca.test/account");
        CHECK_STR(d->new_order, "https://ca.test/order");
        /* Optional ones absent: renewalInfo is optional (no ARI). */
        CHECK(d->revoke_cert == NULL);
        CHECK(d->key_change == NULL);
        CHECK(d->renewal_info == NULL);
        CHECK(d->terms_of_service == NULL);
        CHECK(!d->external_account_required);
        /* profiles is an empty list, never NULL. */
        REQUIRE(d->profiles);
        CHECK(strv_isempty(d->profiles));
}

TEST(optional_null_and_unknown_members) {
        _cleanup_(acme_directory_freep) AcmeDirectory *d = NULL;

        /* JSON null is absent; unknown members (Let's Encrypt's random key) are ignored. */
        REQUIRE(PARSE("{" MINIMAL_URLS ",\"renewalInfo\":null,\"revokeCert\":null,"
                      "\"Xy8JqJ2t4hE\":\"https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417\","
                      "\"meta\":{\"caaIdentities\":[\"letsencrypt.org\"],\"website\":\"https://ca.test\","
                      "\"termsOfService\":null,\"externalAccountRequired\":null,\"profiles\":null}}",
                      false, &d) == 0);
        CHECK(d->renewal_info == NULL);
        CHECK(d->revoke_cert == NULL);
        CHECK(d->terms_of_service == NULL);
        CHECK(!d->external_account_required);
        CHECK(d->profiles && strv_isempty(d->profiles));
}

TEST(meta_variants) {
        AcmeDirectory *d = NULL;

        REQUIRE(PARSE("{" MINIMAL_URLS ",\"meta\":{}}", false, &d) == 0);
        CHECK(d->terms_of_service == NULL && !d->external_account_required && strv_isempty(d->profiles));
        d = acme_directory_free(d);
        CHECK(d == NULL);

        REQUIRE(PARSE("{" MINIMAL_URLS ",\"meta\":{\"externalAccountRequired\":false,\"profiles\":{}}}", false, &d) == 0);
        CHECK(!d->external_account_required);
        CHECK(d->profiles && strv_isempty(d->profiles));
        d = acme_directory_free(d);

        REQUIRE(PARSE("{" MINIMAL_URLS ",\"meta\":{\"profiles\":{\"classic\":\"x\",\"tlsserver\":{\"a\":1},"
                      "\"shortlived\":null}}}", false, &d) == 0);
        CHECK_INT(strv_length(d->profiles), 3);
        CHECK_STR(d->profiles[0], "classic");
        CHECK_STR(d->profiles[1], "tlsserver");
        CHECK_STR(d->profiles[2], "shortlived");
        d = acme_directory_free(d);

        CHECK(acme_directory_free(NULL) == NULL);
}

TEST(required_missing) {
        static const char *const bad[] = {
                "{\"newAccount\":\"https://ca.test/a\",\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":\"https://ca.test/a\"}",
                "{\"newNonce\":null,\"newAccount\":\"https://ca.test/a\",\"newOrder\":\"https://ca.test/o\"}",
                "{}",
                "{\"meta\":{\"termsOfService\":\"https://ca.test/tos\"}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AcmeDirectory *d = (AcmeDirectory *) 0x1;
                CHECK_INT(PARSE(bad[i], true, &d), -EBADMSG);
                CHECK(d == (AcmeDirectory *) 0x1);
        }
}

TEST(http_urls) {
        static const char *const http_dirs[] = {
                "{\"newNonce\":\"http://ca.test/n\",\"newAccount\":\"https://ca.test/a\",\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":\"http://ca.test/a\",\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":\"https://ca.test/a\",\"newOrder\":\"http://ca.test/o\"}",
                "{" MINIMAL_URLS ",\"revokeCert\":\"http://ca.test/r\"}",
                "{" MINIMAL_URLS ",\"keyChange\":\"http://ca.test/k\"}",
                "{" MINIMAL_URLS ",\"renewalInfo\":\"http://ca.test/ari\"}",
        };

        for (size_t i = 0; i < ELEMENTSOF(http_dirs); i++) {
                AcmeDirectory *d = NULL;
                CHECK_INT(PARSE(http_dirs[i], false, &d), -EBADMSG);
                CHECK(d == NULL);
                CHECK_INT(PARSE(http_dirs[i], true, &d), 0);
                CHECK(d != NULL);
                d = acme_directory_free(d);
        }

        /* Other schemes are refused even with allow_http. */
        AcmeDirectory *d = NULL;
        CHECK_INT(PARSE("{\"newNonce\":\"ftp://ca.test/n\",\"newAccount\":\"https://ca.test/a\","
                        "\"newOrder\":\"https://ca.test/o\"}", true, &d), -EBADMSG);
        CHECK_INT(PARSE("{" MINIMAL_URLS ",\"renewalInfo\":\"file:///etc/passwd\"}", true, &d), -EBADMSG);
        CHECK_INT(PARSE("{" MINIMAL_URLS ",\"keyChange\":\"\"}", true, &d), -EBADMSG);
        CHECK_INT(PARSE("{" MINIMAL_URLS ",\"keyChange\":\"https://ca.test/a b\"}", true, &d), -EBADMSG);
        CHECK(d == NULL);
}

TEST(wrong_types) {
        static const char *const bad[] = {
                "{\"newNonce\":42,\"newAccount\":\"https://ca.test/a\",\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":[\"https://ca.test/a\"],\"newOrder\":\"https://ca.test/o\"}",
                "{\"newNonce\":\"https://ca.test/n\",\"newAccount\":\"https://ca.test/a\",\"newOrder\":{}}",
                "{" MINIMAL_URLS ",\"revokeCert\":true}",
                "{" MINIMAL_URLS ",\"keyChange\":1}",
                "{" MINIMAL_URLS ",\"renewalInfo\":{\"url\":\"https://ca.test/ari\"}}",
                "{" MINIMAL_URLS ",\"meta\":\"https://ca.test/tos\"}",
                "{" MINIMAL_URLS ",\"meta\":[]}",
                "{" MINIMAL_URLS ",\"meta\":{\"termsOfService\":42}}",
                "{" MINIMAL_URLS ",\"meta\":{\"termsOfService\":[\"https://ca.test/tos\"]}}",
                "{" MINIMAL_URLS ",\"meta\":{\"externalAccountRequired\":\"true\"}}",
                "{" MINIMAL_URLS ",\"meta\":{\"externalAccountRequired\":1}}",
                "{" MINIMAL_URLS ",\"meta\":{\"profiles\":[\"default\"]}}",
                "{" MINIMAL_URLS ",\"meta\":{\"profiles\":\"default\"}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AcmeDirectory *d = (AcmeDirectory *) 0x1;
                int r = PARSE(bad[i], false, &d);
                if (r != -EBADMSG)
                        fprintf(stderr, "%s: %d\n", bad[i], r);
                CHECK_INT(r, -EBADMSG);
                CHECK(d == (AcmeDirectory *) 0x1);
        }
}

TEST(not_json) {
        static const char *const bad[] = {
                "", "{", "[]", "null", "\"https://ca.test/dir\"", "<html></html>",
                "{\"newNonce\":\"https://ca.test/n\",}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AcmeDirectory *d = NULL;
                CHECK(PARSE(bad[i], true, &d) < 0);
                CHECK(d == NULL);
        }
}

TEST(url_is_valid) {
        char long_url[2100];

        CHECK(acme_url_is_valid("https://ca.test/dir", false));
        CHECK(acme_url_is_valid("https://ca.test:14000/dir?x=1#f", false));
        CHECK(acme_url_is_valid("https://[2001:db8::1]/dir", false));
        CHECK(acme_url_is_valid("https://x", false));
        CHECK(!acme_url_is_valid("https://", false));
        CHECK(!acme_url_is_valid("https://", true));
        CHECK(!acme_url_is_valid("http://ca.test/dir", false));
        CHECK(acme_url_is_valid("http://ca.test/dir", true));
        CHECK(!acme_url_is_valid("http://", true));
        CHECK(!acme_url_is_valid("", true));
        CHECK(!acme_url_is_valid(NULL, true));
        CHECK(!acme_url_is_valid("ca.test/dir", true));
        CHECK(!acme_url_is_valid("//ca.test/dir", true));
        CHECK(!acme_url_is_valid("/dir", true));
        CHECK(!acme_url_is_valid("ftp://ca.test/dir", true));
        CHECK(!acme_url_is_valid("https:/ca.test/dir", true));
        CHECK(!acme_url_is_valid("httpss://ca.test/dir", true));
        CHECK(!acme_url_is_valid(" https://ca.test/dir", true));
        CHECK(!acme_url_is_valid("https://ca.test/dir ", true));
        CHECK(!acme_url_is_valid("https://ca.test/d ir", true));
        CHECK(!acme_url_is_valid("https://ca.test/d\tir", true));
        CHECK(!acme_url_is_valid("https://ca.test/dir\r\nX-Injected: 1", true));
        CHECK(!acme_url_is_valid("https://ca.test/dir\n", true));
        CHECK(!acme_url_is_valid("https://ca.test/\x7f", true));
        CHECK(!acme_url_is_valid("https://ca.test/\x01", true));

        /* Length: 2048 is the limit. */
        strcpy(long_url, "https://ca.test/");
        size_t k = strlen(long_url);
        memset(long_url + k, 'a', 2048 - k);
        long_url[2048] = 0;
        CHECK(acme_url_is_valid(long_url, false));
        long_url[2048] = 'a';
        long_url[2049] = 0;
        CHECK(!acme_url_is_valid(long_url, false));
}

TEST_MAIN(T(pebble), T(minimal), T(optional_null_and_unknown_members), T(meta_variants), T(required_missing),
          T(http_urls), T(wrong_types), T(not_json), T(url_is_valid))
