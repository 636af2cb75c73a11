/* SPDX-License-Identifier: MIT */
#include "acme-directory.h"
#include "json.h"
#include "strv.h"

#define ACME_MAX_URL 2048

bool acme_url_is_valid(const char *url, bool allow_http) {
        size_t n;

        if (!url)
                return false;
        n = strlen(url);
        if (n > ACME_MAX_URL)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) url[i] <= 0x20 || url[i] == 0x7f)
                        return false;
        if (strncmp(url, "https://", 8) == 0)
                return n > 8;
        if (allow_http && strncmp(url, "http://", 7) == 0)
                return n > 7;
        return false;
}

AcmeDirectory *acme_directory_free(AcmeDirectory *d) {
        if (!d)
                return NULL;
        free(d->new_nonce);
        free(d->new_account);
        free(d->new_order);
        free(d->revoke_cert);
        free(d->key_change);
        free(d->renewal_info);
        free(d->terms_of_service);
        strv_free(d->profiles);
        free(d);
        return NULL;
}

static int get_url(const cJSON *j, const char *key, bool required, bool allow_http, char **ret) {
        const char *s;
        int r = json_get_string(j, key, &s);

        if (r == -ENOENT && !required)
                return 0;
        if (r < 0)
                return -EBADMSG;
        if (!acme_url_is_valid(s, allow_http))
                return -EBADMSG;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int acme_directory_parse(const char *body, size_t len, bool allow_http, AcmeDirectory **ret) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_(acme_directory_freep) AcmeDirectory *d = NULL;
        const cJSON *meta;
        int r;

        r = json_parse_object(body, len, &j);
        if (r < 0)
                return r;
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;

        if ((r = get_url(j, "newNonce", true, allow_http, &d->new_nonce)) < 0 ||
            (r = get_url(j, "newAccount", true, allow_http, &d->new_account)) < 0 ||
            (r = get_url(j, "newOrder", true, allow_http, &d->new_order)) < 0 ||
            (r = get_url(j, "revokeCert", false, allow_http, &d->revoke_cert)) < 0 ||
            (r = get_url(j, "keyChange", false, allow_http, &d->key_change)) < 0 ||
            (r = get_url(j, "renewalInfo", false, allow_http, &d->renewal_info)) < 0)
                return r;

        d->profiles = calloc(1, sizeof(char *));
        if (!d->profiles)
                return -ENOMEM;

        r = json_get_object(j, "meta", &meta);
        if (r == -ENOENT)
                goto done;
        if (r < 0)
                return r;

        const char *tos;
        r = json_get_string(meta, "termsOfService", &tos);
        if (r >= 0) {
                d->terms_of_service = strdup(tos);
                if (!d->terms_of_service)
                        return -ENOMEM;
        } else if (r != -ENOENT)
                return r;

        r = json_get_bool(meta, "externalAccountRequired", &d->external_account_required);
        if (r < 0 && r != -ENOENT)
                return r;

        /* meta.profiles: an object mapping profile names to descriptions. */
        const cJSON *profiles, *p;
        r = json_get_object(meta, "profiles", &profiles);
        if (r >= 0) {
                cJSON_ArrayForEach(p, profiles)
                        if (p->string && strv_extend(&d->profiles, p->string) < 0)
                                return -ENOMEM;
        } else if (r != -ENOENT)
                return r;

done:
        *ret = TAKE_PTR(d);
        return 0;
}
