/* SPDX-License-Identifier: MIT */
/* HTTP/1.x request head parser. Every call starts from the first byte: heads are at most
 * 8 KiB and the server only calls again when a new line arrived, so there is no state to
 * carry between calls, which keeps the parser a pure function of its input.
 *
 * A line that is still incomplete is checked as far as it goes, so that garbage is
 * refused at once instead of after the client's timeout; the invariant (checked by the
 * fuzz target) is that a prefix of a valid head never gives -EBADMSG and that once a
 * prefix gives -EBADMSG, every longer input does too. */

#include <strings.h>

#include "http-request.h"
#include "macro.h"

/* RFC 9110 §5.6.2 token characters. */
static bool char_is_tchar(unsigned char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != 0 && strchr("!#$%&'*+-.^_`|~", c);
}

/* Visible ASCII: what a request-target may consist of. */
static bool char_is_vchar(unsigned char c) {
        return c >= 0x21 && c <= 0x7e;
}

/* What a field value may contain (RFC 9110 §5.5): VCHAR, SP, HTAB and obs-text. */
static bool char_is_field_char(unsigned char c) {
        return char_is_vchar(c) || c == ' ' || c == '\t' || c >= 0x80;
}

/* Check "HTTP/D.D" against p[0..n). A shorter n is fine only if the line may still grow.
 * Returns the minor version, -EAGAIN, -EBADMSG or -EPROTONOSUPPORT. */
static int parse_version(const char *p, size_t n, bool complete) {
        static const char pattern[] = "HTTP/D.D";
        const size_t plen = sizeof pattern - 1;

        for (size_t i = 0; i < n && i < plen; i++) {
                bool ok = pattern[i] == 'D' ? (p[i] >= '0' && p[i] <= '9') : p[i] == pattern[i];
                if (!ok)
                        return -EBADMSG;
        }
        if (n > plen)
                return -EBADMSG;
        if (n < plen || !complete)
                return complete ? -EBADMSG : -EAGAIN;
        if (p[5] != '1')
                return -EPROTONOSUPPORT;
        return p[7] - '0';
}

/* Split a complete request-target (RFC 9112 §3.2) into path and query. origin-form and
 * absolute-form with an http or https scheme are taken, and "*" (asterisk-form, for
 * OPTIONS); authority-form and anything else is -EBADMSG. The authority of an
 * absolute-form target is not looked at beyond being non-empty, as Host is not either. */
static int parse_target(const char *p, size_t n, HttpRequestHead *h) {
        const char *path, *q;
        size_t skip;

        if (memchr(p, '#', n))
                return -EBADMSG; /* a fragment is never sent */

        if (n == 1 && p[0] == '*') {
                h->path = p;
                h->path_len = 1;
                return 0;
        }

        if (p[0] == '/')
                path = p;
        else {
                if (n > 7 && strncasecmp(p, "http://", 7) == 0)
                        skip = 7;
                else if (n > 8 && strncasecmp(p, "https://", 8) == 0)
                        skip = 8;
                else
                        return -EBADMSG;

                /* The authority runs to the first '/' or '?'. */
                path = p + skip;
                while (path < p + n && *path != '/' && *path != '?')
                        path++;
                if (path == p + skip)
                        return -EBADMSG;
                h->absolute_form = true;
        }

        q = memchr(path, '?', (size_t) (p + n - path));
        if (q) {
                h->query = q + 1;
                h->query_len = (size_t) (p + n - (q + 1));
        } else
                q = p + n;

        if (path == q) {
                /* "http://host" or "http://host?x": the path is "/" (RFC 9112 §3.2.2). */
                h->path = "/";
                h->path_len = 1;
        } else {
                h->path = path;
                h->path_len = (size_t) (q - path);
        }
        return 0;
}

/* "method SP request-target SP HTTP-version" in p[0..n), the line ending stripped. With
 * complete false the line may still grow: only what is there is checked. */
static int parse_request_line(const char *p, size_t n, bool complete, HttpRequestHead *h) {
        size_t i = 0, target;
        int r, minor;

        while (i < n && char_is_tchar(p[i]))
                i++;
        if (i == n && !complete)
                return -EAGAIN;
        if (i == 0 || i == n || p[i] != ' ')
                return -EBADMSG;
        h->method_name = p;
        h->method_len = i;
        i++;

        target = i;
        while (i < n && char_is_vchar(p[i]))
                i++;
        if (i == n && !complete)
                return -EAGAIN;
        if (i == target || i == n || p[i] != ' ')
                return -EBADMSG;
        r = parse_target(p + target, i - target, h);
        if (r < 0)
                return r;
        i++;

        minor = parse_version(p + i, n - i, complete);
        if (minor < 0)
                return minor;
        h->version_minor = (unsigned) minor;

        if (h->method_len == 3 && memcmp(p, "GET", 3) == 0)
                h->method = HTTP_METHOD_GET;
        else if (h->method_len == 4 && memcmp(p, "HEAD", 4) == 0)
                h->method = HTTP_METHOD_HEAD;
        else
                h->method = HTTP_METHOD_OTHER;
        return 0;
}

/* "name: value" (RFC 9112 §5): a token, a colon right after it, then field characters.
 * A line starting with whitespace (obs-fold, or whitespace before the first field) is
 * refused, as RFC 9112 §2.2 and §5.2 allow. */
static int parse_field_line(const char *p, size_t n, bool complete) {
        size_t i = 0;

        while (i < n && char_is_tchar(p[i]))
                i++;
        if (i == n && !complete)
                return -EAGAIN;
        if (i == 0 || i == n || p[i] != ':')
                return -EBADMSG;

        for (i++; i < n; i++)
                if (!char_is_field_char(p[i]))
                        return -EBADMSG;
        return complete ? 0 : -EAGAIN;
}

int http_request_head_parse(const char *buf, size_t len, HttpRequestHead *ret) {
        HttpRequestHead h = {};
        size_t pos = 0, avail = len < HTTP_REQUEST_HEAD_MAX ? len : HTTP_REQUEST_HEAD_MAX;
        bool have_request_line = false;
        int r;

        if (!buf && len > 0)
                return -EINVAL;

        while (pos < avail) {
                const char *line = buf + pos, *nl = memchr(line, '\n', avail - pos);
                bool complete = nl;
                size_t n = complete ? (size_t) (nl - line) : avail - pos, next = pos + n + 1;

                /* Drop the CR of CRLF; a CR at the very end may be the start of one. A CR
                 * anywhere else is an invalid character in every kind of line. */
                if (n > 0 && line[n - 1] == '\r')
                        n--;

                if (!have_request_line) {
                        if (complete && n == 0) {
                                pos = next; /* an empty line before the request-line */
                                continue;
                        }
                        r = parse_request_line(line, n, complete, &h);
                        if (r == -EAGAIN)
                                break;
                        if (r < 0)
                                return r;
                        have_request_line = true;
                } else if (complete && n == 0) {
                        h.head_len = next;
                        *ret = h;
                        return 0;
                } else {
                        r = parse_field_line(line, n, complete);
                        if (r == -EAGAIN)
                                break;
                        if (r < 0)
                                return r;
                        h.n_fields++;
                }
                pos = next;
        }

        return len >= HTTP_REQUEST_HEAD_MAX ? -E2BIG : -EAGAIN;
}

bool http_request_head_method_is(const HttpRequestHead *h, const char *name) {
        size_t n = strlen(name);

        return h->method_name && h->method_len == n && memcmp(h->method_name, name, n) == 0;
}
