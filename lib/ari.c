/* SPDX-License-Identifier: MIT */
/* ACME Renewal Information (RFC 9773). Everything here is a pure function of its input:
 * fetching renewalInfo and deciding when to renew are the daemon's and policy.c's. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme-directory.h"
#include "ari.h"
#include "b64url.h"
#include "json.h"
#include "macro.h"
#include "x509.h"

int ari_cert_id(X509 *cert, char **ret) {
        _cleanup_free_ uint8_t *aki = NULL, *serial = NULL;
        _cleanup_free_ char *aki_b64 = NULL, *serial_b64 = NULL;
        size_t aki_len = 0, serial_len = 0;
        char *id;
        int r;

        if (!cert || !ret)
                return -EINVAL;

        r = x509_aki(cert, &aki, &aki_len);
        if (r < 0)
                return r;
        r = x509_serial_der(cert, &serial, &serial_len);
        if (r < 0)
                return r;

        aki_b64 = b64url_encode(aki, aki_len);
        serial_b64 = b64url_encode(serial, serial_len);
        if (!aki_b64 || !serial_b64)
                return -ENOMEM;

        if (asprintf(&id, "%s.%s", aki_b64, serial_b64) < 0)
                return -ENOMEM;
        *ret = id;
        return 0;
}

static bool is_b64url_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_';
}

/* Two non-empty runs of base64url characters around exactly one '.'. */
static bool cert_id_is_valid(const char *id) {
        const char *dot = strchr(id, '.');

        if (!dot || dot == id || dot[1] == 0)
                return false;
        for (const char *c = id; *c; c++)
                if (c != dot && !is_b64url_char(*c))
                        return false;
        return true;
}

int ari_url(const char *renewal_info_url, const char *cert_id, char **ret) {
        size_t n;
        char *url;

        if (isempty(renewal_info_url) || !cert_id || !ret)
                return -EINVAL;
        if (!cert_id_is_valid(cert_id))
                return -EINVAL;

        n = strlen(renewal_info_url);
        if (asprintf(&url, "%s%s%s", renewal_info_url, renewal_info_url[n - 1] == '/' ? "" : "/",
                     cert_id) < 0)
                return -ENOMEM;
        *ret = url;
        return 0;
}

void ari_window_done(AriWindow *w) {
        if (!w)
                return;
        free(w->explanation_url);
        *w = (AriWindow) {};
}

int ari_parse(const char *body, size_t len, AriWindow *ret) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *explanation = NULL;
        const cJSON *window = NULL;
        const char *start_text = NULL, *end_text = NULL, *url = NULL;
        time_t start, end;
        int r;

        if ((!body && len > 0) || !ret)
                return -EINVAL;

        r = json_parse_object(body ?: "", len, &j);
        if (r < 0)
                return r == -ENOMEM || r == -E2BIG ? r : -EBADMSG;

        /* Absent, null or of the wrong type: all are a malformed response. */
        if (json_get_object(j, "suggestedWindow", &window) < 0)
                return -EBADMSG;
        if (json_get_string(window, "start", &start_text) < 0 ||
            json_get_string(window, "end", &end_text) < 0)
                return -EBADMSG;
        if (rfc3339_parse(start_text, &start) < 0 || rfc3339_parse(end_text, &end) < 0)
                return -EBADMSG;
        /* RFC 9773: a window whose end is not after its start is invalid. */
        if (end <= start)
                return -EBADMSG;

        /* Only shown to people, so a bad one is dropped rather than failing the window. */
        if (json_get_string(j, "explanationURL", &url) >= 0 && acme_url_is_valid(url, /* allow_http= */ false)) {
                explanation = strdup(url);
                if (!explanation)
                        return -ENOMEM;
        }

        *ret = (AriWindow) {
                .start = start,
                .end = end,
                .explanation_url = TAKE_PTR(explanation),
        };
        return 0;
}

uint64_t ari_clamp_retry_after(uint64_t seconds) {
        if (seconds < ARI_POLL_MIN_SEC)
                return ARI_POLL_MIN_SEC;
        if (seconds > ARI_POLL_MAX_SEC)
                return ARI_POLL_MAX_SEC;
        return seconds;
}
