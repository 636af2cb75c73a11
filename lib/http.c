/* SPDX-License-Identifier: MIT */
/* HTTP on libcurl's multi socket API driven by sd-event.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION → one sd-event io source
 * per socket, stored with curl_multi_assign) and when it next wants to be woken
 * (CURLMOPT_TIMERFUNCTION → one one-shot timer). Both event handlers hand the event back
 * to curl_multi_socket_action() and then drain finished transfers from
 * curl_multi_info_read(). No curl call here ever blocks. */

#include <curl/curl.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include "http.h"
#include "strv.h"

#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_MAX_HEADER_VALUE 4096

struct HttpClient {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        char *user_agent;
        long connects;
};

enum {
        HDR_CONTENT_TYPE,
        HDR_LOCATION,
        HDR_REPLAY_NONCE,
        HDR_RETRY_AFTER,
        _HDR_MAX,
};

static const char *const header_names[_HDR_MAX] = {
        [HDR_CONTENT_TYPE] = "Content-Type",
        [HDR_LOCATION] = "Location",
        [HDR_REPLAY_NONCE] = "Replay-Nonce",
        [HDR_RETRY_AFTER] = "Retry-After",
};

struct HttpRequest {
        HttpClient *client;
        CURL *easy;
        struct curl_slist *headers_out;
        char *url;
        bool running;

        HttpRequestDone done;
        void *userdata;

        char *body;
        size_t body_len, body_cap, max_body;
        bool body_too_big;
        bool out_of_memory;

        long status;
        char *headers[_HDR_MAX];
        char **link_targets;
        char **link_rels;
        char **resolved_links;
        bool bad_header;

        char error_text[CURL_ERROR_SIZE];
};

static int curl_code_to_errno(CURLcode code) {
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return -EPROTONOSUPPORT;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
                return -EPROTO;
        case CURLE_WRITE_ERROR:
                return -EFBIG;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return -ECONNRESET;
        default:
                return -EIO;
        }
}

static void request_finish(HttpRequest *r, CURLcode code) {
        int error = 0;
        long n = 0;

        r->running = false;
        (void) curl_multi_remove_handle(r->client->multi, r->easy);
        if (curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
                r->client->connects += n;

        if (code != CURLE_OK) {
                error = curl_code_to_errno(code);
                if (r->out_of_memory)
                        error = -ENOMEM;
                else if (r->body_too_big) {
                        error = -EFBIG;
                        snprintf(r->error_text, sizeof r->error_text,
                                 "response body larger than %zu bytes", r->max_body);
                } else if (r->error_text[0] == 0)
                        snprintf(r->error_text, sizeof r->error_text, "%s", curl_easy_strerror(code));
        } else if (r->bad_header) {
                error = -EBADMSG;
                snprintf(r->error_text, sizeof r->error_text, "malformed response header");
        } else
                (void) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);

        /* Last: the callback may free r. */
        r->done(r, error, r->userdata);
}

/* Hand every finished transfer to its owner. Callbacks may start or free requests:
 * curl drops queued messages of handles removed meanwhile, so reading one message at a
 * time stays safe. */
static void client_drain(HttpClient *c) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(c->multi, &left))) {
                HttpRequest *r = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r) != CURLE_OK || !r)
                        continue;
                request_finish(r, msg->data.result);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HttpClient *c = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;

        (void) curl_multi_socket_action(c->multi, fd, action, &running);
        client_drain(c);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpClient *c = userdata;
        int running;

        (void) curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        client_drain(c);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: keep one io source per socket curl uses, with the events it
 * asks for. */
static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        HttpClient *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        (void) sd_event_source_disable_unref(io);
                        (void) curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }

        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0)
                        return -1;
                if (sd_event_source_set_enabled(io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        r = sd_event_add_io(c->event, &io, fd, events, on_io, c);
        if (r < 0)
                return -1;
        (void) sd_event_source_set_description(io, "http-socket");
        if (curl_multi_assign(c->multi, fd, io) != CURLM_OK) {
                (void) sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: arm (or disarm, for -1) our single timer. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        HttpClient *c = userp;
        uint64_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;

        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        if (sd_event_source_set_time(c->timer, now + (uint64_t) timeout_ms * USEC_PER_MSEC) < 0)
                return -1;
        if (sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int http_client_new(sd_event *event, const char *user_agent, HttpClient **ret) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->user_agent = strdup(user_agent);
        if (!c->user_agent)
                return -ENOMEM;

        /* Accuracy 1 µs: 0 would mean sd-event's default of 250 ms, a stall per request. */
        r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->timer, "http-timer");
        r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;

        c->multi = curl_multi_init();
        if (!c->multi)
                return -ENOMEM;
        if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
                return -EIO;

        *ret = TAKE_PTR(c);
        return 0;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        /* Requests must have been freed by their owners first; curl closes the cached
         * connections here, calling curl_socket_cb(REMOVE) for each. */
        if (c->multi)
                (void) curl_multi_cleanup(c->multi);
        (void) sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c->user_agent);
        free(c);
        curl_global_cleanup();
        return NULL;
}

long http_client_connects(const HttpClient *c) {
        return c->connects;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        HttpRequest *r = userdata;
        size_t n = size * nmemb;

        if (n > r->max_body - r->body_len) {
                r->body_too_big = true;
                return 0; /* makes curl fail with CURLE_WRITE_ERROR */
        }
        if (r->body_len + n + 1 > r->body_cap) {
                size_t cap = r->body_cap ? r->body_cap : 4096;
                while (cap < r->body_len + n + 1)
                        cap *= 2;
                char *b = realloc(r->body, cap);
                if (!b) {
                        r->out_of_memory = true;
                        return 0;
                }
                r->body = b;
                r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, data, n);
        r->body_len += n;
        r->body[r->body_len] = 0;
        return n;
}

static void request_reset_headers(HttpRequest *r) {
        for (size_t i = 0; i < _HDR_MAX; i++)
                r->headers[i] = mfree(r->headers[i]);
        r->link_targets = strv_free(r->link_targets);
        r->link_rels = strv_free(r->link_rels);
}

static char *strip(char *s, size_t *len) {
        while (*len > 0 && (s[*len - 1] == '\r' || s[*len - 1] == '\n' || s[*len - 1] == ' ' || s[*len - 1] == '\t'))
                (*len)--;
        while (*len > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                (*len)--;
        }
        return s;
}

/* Resolve a possibly relative URL against base. */
static char *url_resolve(const char *base, const char *ref) {
        CURLU *u = curl_url();
        char *out = NULL, *ret = NULL;

        if (!u)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
                ret = strdup(out);
                curl_free(out);
        }
        curl_url_cleanup(u);
        return ret;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata) {
        HttpRequest *r = userdata;
        size_t n = size * nitems, len = n;
        char *line = data, *colon, *value;
        size_t name_len, value_len;

        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                /* A new response (after 100 Continue, say): forget earlier headers. */
                request_reset_headers(r);
                return n;
        }

        colon = memchr(line, ':', len);
        if (!colon)
                return n;
        name_len = colon - line;
        value_len = len - name_len - 1;
        value = strip(colon + 1, &value_len);

        for (size_t i = 0; i < _HDR_MAX; i++) {
                if (strlen(header_names[i]) != name_len || strncasecmp(line, header_names[i], name_len) != 0)
                        continue;
                /* Limit only what we keep: a long header we ignore is no error. */
                if (value_len > HTTP_MAX_HEADER_VALUE) {
                        r->bad_header = true;
                        return n;
                }
                free(r->headers[i]);
                r->headers[i] = strndup(value, value_len);
                if (!r->headers[i]) {
                        r->out_of_memory = true;
                        return 0;
                }
                return n;
        }

        if (name_len == 4 && strncasecmp(line, "Link", 4) == 0) {
                if (value_len > HTTP_MAX_HEADER_VALUE) {
                        r->bad_header = true;
                        return n;
                }
                _cleanup_free_ char *v = strndup(value, value_len);
                if (!v) {
                        r->out_of_memory = true;
                        return 0;
                }
                if (http_parse_link_header(v, &r->link_targets, &r->link_rels) < 0)
                        r->bad_header = true;
        }
        return n;
}

/* Parse a Link header value: comma-separated `<target>; param=value; rel="a b"` items.
 * Each (target, rel) pair is appended; a link with several rel values appears once per
 * value. */
int http_parse_link_header(const char *value, char ***targets, char ***rels) {
        const char *p = value;

        for (;;) {
                const char *lt, *gt;
                _cleanup_free_ char *target = NULL;

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        return 0;
                if (*p != '<')
                        return -EBADMSG;
                lt = p + 1;
                gt = strchr(lt, '>');
                if (!gt)
                        return -EBADMSG;
                target = strndup(lt, gt - lt);
                if (!target)
                        return -ENOMEM;
                p = gt + 1;

                /* Parameters until the next top-level comma. */
                while (*p && *p != ',') {
                        const char *name, *eq;
                        _cleanup_free_ char *pval = NULL;

                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (!*p || *p == ',')
                                break; /* whitespace before the next link or the end */
                        if (*p != ';')
                                return -EBADMSG;
                        p++;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        name = p;
                        while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
                                p++;
                        size_t name_len = p - name;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (*p != '=')
                                continue; /* a parameter without value */
                        p++;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        eq = p;
                        if (*p == '"') {
                                /* quoted-string: a backslash escapes the next character. */
                                const char *q = p + 1;
                                while (*q && *q != '"')
                                        q += q[0] == '\\' && q[1] ? 2 : 1;
                                if (!*q)
                                        return -EBADMSG;
                                pval = strndup(p + 1, q - p - 1);
                                p = q + 1;
                        } else {
                                while (*p && *p != ';' && *p != ',' && *p != ' ')
                                        p++;
                                pval = strndup(eq, p - eq);
                        }
                        if (!pval)
                                return -ENOMEM;
                        if (name_len != 3 || strncasecmp(name, "rel", 3) != 0)
                                continue;

                        _cleanup_strv_free_ char **words = NULL;
                        if (strv_split_whitespace(pval, &words) < 0)
                                return -ENOMEM;
                        for (char **w = words; *w; w++) {
                                if (strv_extend(targets, target) < 0 || strv_extend(rels, *w) < 0)
                                        return -ENOMEM;
                        }
                }
        }
}

int http_request_start(HttpClient *c, const HttpRequestSpec *spec, HttpRequestDone done, void *userdata,
                       HttpRequest **ret) {
        _cleanup_(http_request_freep) HttpRequest *r = NULL;
        bool ok = true;

        if (!spec->url || !spec->method || !done)
                return -EINVAL;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->client = c;
        r->done = done;
        r->userdata = userdata;
        r->max_body = spec->max_body ? spec->max_body : HTTP_DEFAULT_MAX_BODY;
        r->url = strdup(spec->url);
        if (!r->url)
                return -ENOMEM;
        r->easy = curl_easy_init();
        if (!r->easy)
                return -ENOMEM;

        if (spec->content_type) {
                _cleanup_free_ char *h = NULL;
                if (asprintf(&h, "Content-Type: %s", spec->content_type) < 0)
                        return -ENOMEM;
                struct curl_slist *l = curl_slist_append(r->headers_out, h);
                if (!l)
                        return -ENOMEM;
                r->headers_out = l;
        }
        if (spec->accept) {
                _cleanup_free_ char *h = NULL;
                if (asprintf(&h, "Accept: %s", spec->accept) < 0)
                        return -ENOMEM;
                struct curl_slist *l = curl_slist_append(r->headers_out, h);
                if (!l)
                        return -ENOMEM;
                r->headers_out = l;
        }
        /* No "Expect: 100-continue" round trip for our small bodies. */
        struct curl_slist *l = curl_slist_append(r->headers_out, "Expect:");
        if (!l)
                return -ENOMEM;
        r->headers_out = l;

        uint64_t timeout = spec->timeout_usec ? spec->timeout_usec : HTTP_DEFAULT_TIMEOUT_USEC;

        ok = ok && curl_easy_setopt(r->easy, CURLOPT_URL, r->url) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->error_text) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_USERAGENT, c->user_agent) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers_out) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, spec->allow_http ? "http,https" : "https") == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long) (timeout / USEC_PER_MSEC + (timeout % USEC_PER_MSEC != 0))) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS) == CURLE_OK;
        ok = ok && curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
        if (spec->ca_file)
                ok = ok && curl_easy_setopt(r->easy, CURLOPT_CAINFO, spec->ca_file) == CURLE_OK;

        if (streq(spec->method, "POST")) {
                ok = ok && curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long) spec->body_len) == CURLE_OK;
                ok = ok && curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, spec->body ? spec->body : "") == CURLE_OK;
        } else if (streq(spec->method, "HEAD"))
                ok = ok && curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L) == CURLE_OK;
        else if (!streq(spec->method, "GET"))
                return -EINVAL;
        if (!ok)
                return -EIO;

        if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
                return -EIO;
        r->running = true;

        *ret = TAKE_PTR(r);
        return 0;
}

HttpRequest *http_request_free(HttpRequest *r) {
        if (!r)
                return NULL;
        if (r->easy) {
                if (r->running)
                        (void) curl_multi_remove_handle(r->client->multi, r->easy);
                curl_easy_cleanup(r->easy);
        }
        curl_slist_free_all(r->headers_out);
        request_reset_headers(r);
        strv_free(r->resolved_links);
        free(r->url);
        free(r->body);
        free(r);
        return NULL;
}

long http_request_status(const HttpRequest *r) {
        return r->status;
}

const char *http_request_body(const HttpRequest *r, size_t *ret_len) {
        if (ret_len)
                *ret_len = r->body_len;
        return r->body ? r->body : "";
}

const char *http_request_header(const HttpRequest *r, const char *name) {
        for (size_t i = 0; i < _HDR_MAX; i++)
                if (strcasecmp(name, header_names[i]) == 0)
                        return r->headers[i];
        return NULL;
}

char *const *http_request_links(const HttpRequest *r, const char *rel) {
        HttpRequest *m = (HttpRequest *) r;
        char **out = NULL;

        /* Build lazily per call into a cache keyed by rel would be overkill: ACME asks for
         * one rel per request, so resolve into a fresh list kept on the request. */
        for (size_t i = 0; r->link_targets && r->link_targets[i]; i++) {
                if (strcasecmp(r->link_rels[i], rel) != 0)
                        continue;
                char *abs = url_resolve(r->url, r->link_targets[i]);
                if (!abs)
                        continue; /* a target curl cannot parse must not hide the others */
                if (strv_consume(&out, abs) < 0) {
                        strv_free(out);
                        return NULL;
                }
        }
        strv_free(m->resolved_links);
        m->resolved_links = out;
        return out;
}

const char *http_request_url(const HttpRequest *r) {
        return r->url;
}

const char *http_request_error_text(const HttpRequest *r) {
        return r->error_text[0] ? r->error_text : "no error";
}
