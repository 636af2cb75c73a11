/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the state file parser. Whatever it accepts must keep the
 * promises of certstate.h (clean, capped text; times in range; a window only when it is
 * one) and survive a trip through the writer unchanged: a state renewd can load, it can
 * also save, and loading that gives the same state back. */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool time_ok(time_t t) {
        return t >= 0 && t <= CERT_STATE_TIME_MAX;
}

static bool text_clean(const char *s, size_t max) {
        if (!s)
                return true;
        if (!*s || strlen(s) > max)
                return false;
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f))
                        return false;
        return true;
}

static void check_invariants(const CertState *s) {
        if (!time_ok(s->last_attempt) || !time_ok(s->last_success) || !time_ok(s->last_failure) ||
            !time_ok(s->next_attempt) || !time_ok(s->ari_next_poll) || !time_ok(s->scheduled))
                abort();
        if (s->have_ari) {
                if (!time_ok(s->ari_start) || !time_ok(s->ari_end) || s->ari_end <= s->ari_start)
                        abort();
        } else if (s->ari_start != 0 || s->ari_end != 0)
                abort();
        if (!text_clean(s->last_error, CERT_STATE_ERROR_MAX) || !text_clean(s->ari_cert_id, CERT_STATE_TEXT_MAX) ||
            !text_clean(s->ari_explanation_url, CERT_STATE_TEXT_MAX))
                abort();
        if (s->last_error && (s->last_error[0] == ' ' || s->last_error[strlen(s->last_error) - 1] == ' '))
                abort();
}

static bool same_state(const CertState *a, const CertState *b) {
        return a->consecutive_failures == b->consecutive_failures && a->last_attempt == b->last_attempt &&
               a->last_success == b->last_success && a->last_failure == b->last_failure &&
               a->next_attempt == b->next_attempt && streq_ptr(a->last_error, b->last_error) &&
               a->have_ari == b->have_ari && a->ari_start == b->ari_start && a->ari_end == b->ari_end &&
               a->ari_next_poll == b->ari_next_poll && streq_ptr(a->ari_explanation_url, b->ari_explanation_url) &&
               streq_ptr(a->ari_cert_id, b->ari_cert_id) && a->scheduled == b->scheduled;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CertState a = {}, b = {};
        char *text = NULL, *text2 = NULL;
        int r;

        if (size > 64 * 1024)
                return 0;

        r = cert_state_from_json((const char *) data, size, &a);
        if (r < 0) {
                if (r != -EBADMSG && r != -EPROTONOSUPPORT && r != -ENOMEM)
                        abort();
                return 0;
        }
        check_invariants(&a);

        if (cert_state_to_json(&a, &text) < 0)
                abort();
        if (cert_state_from_json(text, strlen(text), &b) < 0)
                abort();
        if (!same_state(&a, &b))
                abort();

        /* The writer is deterministic: the second text is the first. */
        if (cert_state_to_json(&b, &text2) < 0 || strcmp(text, text2) != 0)
                abort();

        /* Recording outcomes keeps a storable state. */
        if (cert_state_record_failure(&b, a.last_attempt, a.last_error, a.next_attempt) < 0)
                abort();
        free(text2);
        text2 = NULL;
        if (cert_state_to_json(&b, &text2) < 0)
                abort();
        cert_state_record_success(&b, a.last_attempt);
        check_invariants(&b);

        free(text);
        free(text2);
        cert_state_done(&a);
        cert_state_done(&b);
        return 0;
}
