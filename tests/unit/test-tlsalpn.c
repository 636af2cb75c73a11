/* SPDX-License-Identifier: MIT */
/* tls-alpn-01: the validation certificate, SNI names, and the responder driven by a real
 * sd-event loop with OpenSSL clients on loopback. The clients are non-blocking and are
 * stepped in turn with sd_event_run(), so everything runs in one process; every wait is
 * for an outcome, bounded only by a generous deadline. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "key.h"
#include "ssl-util.h"
#include "test.h"
#include "tlsalpn-cert.h"
#include "tlsalpn-server.h"

#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH2 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define ALPN_ACME "\x0a" "acme-tls/1"
#define DEADLINE_SEC 60


static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* ---- certificate checks ---------------------------------------------------------------- */

/* The id-pe-acmeIdentifier extensions of x: how many, and the last one. */
static int find_acme_ext(X509 *x, X509_EXTENSION **ret) {
        int n = 0;

        for (int i = 0; i < X509_get_ext_count(x); i++) {
                X509_EXTENSION *ext = X509_get_ext(x, i);
                char oid[64];

                OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1);
                if (streq(oid, "1.3.6.1.5.5.7.1.31")) {
                        *ret = ext;
                        n++;
                }
        }
        return n;
}

/* Check everything a validator checks (RFC 8737 §3), computing the digest here: exactly one
 * SAN of the given type and bytes, the critical acmeIdentifier extension holding
 * 04 20 SHA-256(ka), self-signature, validity now. */
static void check_validation_cert(X509 *x, int san_type, const void *san, size_t san_len, const char *ka) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *names = NULL;
        unsigned char expected[2 + SHA256_DIGEST_LENGTH] = { 0x04, 0x20 };
        X509_EXTENSION *ext = NULL;
        const ASN1_OCTET_STRING *data;
        int crit = -1;

        REQUIRE(x);
        CHECK_INT(X509_get_version(x), X509_VERSION_3);
        CHECK_INT(X509_verify(x, X509_get0_pubkey(x)), 1);
        CHECK_INT(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
        CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
        CHECK(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);

        /* The SAN extension, once, with one name. */
        CHECK_INT(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0, 1);
        CHECK_INT(X509_get_ext_by_NID(x, NID_subject_alt_name, X509_get_ext_by_NID(x, NID_subject_alt_name, -1)), -1);
        names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
        REQUIRE(names);
        REQUIRE(sk_GENERAL_NAME_num(names) == 1);
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, 0);
        CHECK_INT(gn->type, san_type);
        const ASN1_STRING *v = san_type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
        CHECK_INT(ASN1_STRING_length(v), san_len);
        CHECK(ASN1_STRING_length(v) == (int) san_len && memcmp(ASN1_STRING_get0_data(v), san, san_len) == 0);

        /* The acmeIdentifier extension, once, critical, value = OCTET STRING(SHA-256(ka)). */
        CHECK_INT(find_acme_ext(x, &ext), 1);
        REQUIRE(ext);
        CHECK_INT(X509_EXTENSION_get_critical(ext), 1);
        REQUIRE(SHA256((const unsigned char *) ka, strlen(ka), expected + 2));
        data = X509_EXTENSION_get_data(ext);
        CHECK_INT(ASN1_STRING_length(data), sizeof expected);
        CHECK(ASN1_STRING_length(data) == (int) sizeof expected &&
              memcmp(ASN1_STRING_get0_data(data), expected, sizeof expected) == 0);

        /* Nothing else that a client could object to. */
        CHECK_INT(X509_get_ext_count(x), 2);
}

TEST(cert_dns) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *x = NULL, *y = NULL;
        _cleanup_(BN_freep) BIGNUM *serial = NULL;
        int days = 0, secs = 0;
        char cn[64];

        REQUIRE(key_generate(KEY_EC256, &key) == 0);
        CHECK_INT(tlsalpn_cert_new(key, "www.Example.com", KEYAUTH, &x), 0);
        REQUIRE(x);
        check_validation_cert(x, GEN_DNS, "www.Example.com", strlen("www.Example.com"), KEYAUTH);
        CHECK_INT(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);

        CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0);
        CHECK_STR(cn, "renewd tls-alpn-01");

        /* Short validity: an hour back, a week ahead. */
        REQUIRE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
        CHECK_INT((long) days * 86400 + secs, 7 * 86400 + 3600);

        /* A positive, random serial: two certificates differ. */
        serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        REQUIRE(serial);
        CHECK(!BN_is_negative(serial) && !BN_is_zero(serial));
        CHECK(BN_num_bytes(serial) <= 16);
        CHECK_INT(tlsalpn_cert_new(key, "www.Example.com", KEYAUTH, &y), 0);
        REQUIRE(y);
        CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(y)) != 0);
}

/* The digest against a published vector: SHA-256("abc") (FIPS 180-2 appendix B.1). */
TEST(cert_digest_vector) {
        static const unsigned char expected[] = {
                0x04, 0x20,
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        X509_EXTENSION *ext = NULL;

        REQUIRE(key_generate(KEY_EC256, &key) == 0);
        REQUIRE(tlsalpn_cert_new(key, "example.org", "abc", &x) == 0);
        REQUIRE(find_acme_ext(x, &ext) == 1);
        const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(ext);
        CHECK_INT(ASN1_STRING_length(data), sizeof expected);
        CHECK(ASN1_STRING_length(data) == (int) sizeof expected &&
              memcmp(ASN1_STRING_get0_data(data), expected, sizeof expected) == 0);
}

TEST(cert_ip) {
        static const unsigned char v4[4] = { 192, 0, 2, 1 };
        static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *a = NULL, *b = NULL;

        REQUIRE(key_generate(KEY_EC256, &key) == 0);
        CHECK_INT(tlsalpn_cert_new(key, "192.0.2.1", KEYAUTH, &a), 0);
        check_validation_cert(a, GEN_IPADD, v4, sizeof v4, KEYAUTH);
        CHECK_INT(tlsalpn_cert_new(key, "2001:db8::1", KEYAUTH2, &b), 0);
        check_validation_cert(b, GEN_IPADD, v6, sizeof v6, KEYAUTH2);
}

TEST(cert_other_keys) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *rsa = NULL, *ed = NULL;
        _cleanup_(X509_freep) X509 *a = NULL, *b = NULL;

        REQUIRE(key_generate(KEY_RSA2048, &rsa) == 0);
        CHECK_INT(tlsalpn_cert_new(rsa, "example.net", KEYAUTH, &a), 0);
        check_validation_cert(a, GEN_DNS, "example.net", strlen("example.net"), KEYAUTH);
        CHECK_INT(X509_get_signature_nid(a), NID_sha256WithRSAEncryption);

        ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        REQUIRE(ed);
        CHECK_INT(tlsalpn_cert_new(ed, "example.net", KEYAUTH, &b), 0);
        check_validation_cert(b, GEN_DNS, "example.net", strlen("example.net"), KEYAUTH);
}

TEST(cert_bad_input) {
        static const char *const bad[] = {
                "", "*.example.com", "a..b", ".example.com", "example.com.", "-a.example", "a-.example",
                "a b.example", "a/b", "exa\nmple.com", "1.2.3", "256.1.1.1", "fe80::1%eth0", "::g",
                "caf\xc3\xa9.example", "xn--caf-dma.123",
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        X509 *x = (X509 *) 0x1;
        char *name = (char *) 0x1;
        char long_label[70], long_name[300];

        REQUIRE(key_generate(KEY_EC256, &key) == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (tlsalpn_cert_new(key, bad[i], KEYAUTH, &x) != -EINVAL)
                        fprintf(stderr, "accepted \"%s\"\n", bad[i]);
                CHECK_INT(tlsalpn_cert_new(key, bad[i], KEYAUTH, &x), -EINVAL);
                CHECK_INT(tlsalpn_sni_name(bad[i], &name), -EINVAL);
        }
        CHECK_INT(tlsalpn_cert_new(key, NULL, KEYAUTH, &x), -EINVAL);
        CHECK_INT(tlsalpn_cert_new(NULL, "example.com", KEYAUTH, &x), -EINVAL);
        CHECK_INT(tlsalpn_cert_new(key, "example.com", "", &x), -EINVAL);
        CHECK_INT(tlsalpn_cert_new(key, "example.com", NULL, &x), -EINVAL);
        CHECK_INT(tlsalpn_cert_new(key, "example.com", KEYAUTH, NULL), -EINVAL);

        /* 63 is the longest label, 253 the longest name. */
        memset(long_label, 'a', 64);
        strcpy(long_label + 64, ".com");
        CHECK_INT(tlsalpn_cert_new(key, long_label, KEYAUTH, &x), -EINVAL);
        memset(long_name, 0, sizeof long_name);
        for (size_t i = 0; i < 254; i++)
                long_name[i] = i % 2 ? '.' : 'a';
        long_name[253] = 0; /* 127 one-letter labels: 253 characters */
        {
                _cleanup_(X509_freep) X509 *ok = NULL;
                CHECK_INT(tlsalpn_cert_new(key, long_name, KEYAUTH, &ok), 0);
        }
        long_name[253] = 'a'; /* "...a.a" + "a": the last label grows, 254 characters */
        long_name[254] = 0;
        CHECK_INT(tlsalpn_cert_new(key, long_name, KEYAUTH, &x), -EINVAL);

        /* Outputs are untouched on failure. */
        CHECK(x == (X509 *) 0x1);
        CHECK(name == (char *) 0x1);
}

TEST(sni_names) {
        static const struct {
                const char *id, *sni;
        } cases[] = {
                { "Example.COM", "example.com" },
                { "_acme.x-y.example", "_acme.x-y.example" },
                { "127.0.0.1", "1.0.0.127.in-addr.arpa" },
                { "192.0.2.10", "10.2.0.192.in-addr.arpa" },
                { "::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
                /* RFC 3596 §2.5's example, in lower case. */
                { "4321:0:1:2:3:4:567:89ab",
                  "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa" },
                { "2001:DB8::", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *name = NULL;

                CHECK_INT(tlsalpn_sni_name(cases[i].id, &name), 0);
                CHECK_STR(name, cases[i].sni);
        }

        TlsAlpnIdentifierType t;
        CHECK_INT(tlsalpn_identifier_type("example.com", &t), 0);
        CHECK_INT(t, TLSALPN_IDENTIFIER_DNS);
        CHECK_INT(tlsalpn_identifier_type("10.0.0.1", &t), 0);
        CHECK_INT(t, TLSALPN_IDENTIFIER_IPV4);
        CHECK_INT(tlsalpn_identifier_type("::ffff:10.0.0.1", &t), 0);
        CHECK_INT(t, TLSALPN_IDENTIFIER_IPV6);
        CHECK_INT(tlsalpn_sni_name(NULL, NULL), -EINVAL);
}

/* ---- a non-blocking test client -------------------------------------------------------- */

typedef enum ClientState {
        CLIENT_HANDSHAKE,
        CLIENT_READING,   /* handshake done; waiting for the server's close_notify */
        CLIENT_DONE,      /* handshake done, connection over */
        CLIENT_FAILED,    /* handshake failed */
} ClientState;

typedef struct Client {
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
        ClientState state;
        int alert;              /* description of a fatal alert received, -1 if none */
        char alpn[32];
        X509 *peer;
        bool close_notify;      /* the server ended with close_notify */
        bool app_data;          /* the server sent application data (it must not) */
} Client;

static void client_done(Client *c) {
        SSL_free(c->ssl);
        SSL_CTX_free(c->ctx);
        X509_free(c->peer);
        safe_close(c->fd);
        ERR_clear_error();
        *c = (Client) { .fd = -EBADF };
}

static void client_info_cb(const SSL *ssl, int where, int ret) {
        Client *c = SSL_get_app_data(ssl);

        if ((where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL)
                c->alert = ret & 0xff;
}

/* Connect (blocking: on loopback it completes without the server's help) and prepare a
 * TLS client. sni and alpn may be NULL (not sent); max_version 0 means any. Returns
 * -errno of connect(), e.g. -ECONNREFUSED. */
static int client_start(Client *c, int family, int port, const char *sni, const char *alpn, size_t alpn_len,
                        int max_version) {
        struct sockaddr_storage ss = {};
        socklen_t len;

        *c = (Client) { .fd = -EBADF, .alert = -1 };
        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof *sin;
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                sin6->sin6_addr = in6addr_loopback;
                len = sizeof *sin6;
        }

        c->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        if (connect(c->fd, (struct sockaddr *) &ss, len) < 0)
                return -errno;
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        c->ctx = SSL_CTX_new(TLS_client_method());
        if (!c->ctx)
                return -ENOMEM;
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_info_callback(c->ctx, client_info_cb);
        if (max_version) {
                /* Let the client really offer old versions, so the server is what refuses. */
                SSL_CTX_set_security_level(c->ctx, 0);
                if (!SSL_CTX_set_cipher_list(c->ctx, "DEFAULT:@SECLEVEL=0") ||
                    !SSL_CTX_set_min_proto_version(c->ctx, 0) ||
                    !SSL_CTX_set_max_proto_version(c->ctx, max_version))
                        return -EIO;
        }
        c->ssl = SSL_new(c->ctx);
        if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
                return -ENOMEM;
        SSL_set_app_data(c->ssl, c);
        if (sni && !SSL_set_tlsext_host_name(c->ssl, sni))
                return -EIO;
        if (alpn && SSL_set_alpn_protos(c->ssl, (const unsigned char *) alpn, (unsigned) alpn_len) != 0)
                return -EIO;
        SSL_set_connect_state(c->ssl);
        return 0;
}

static bool client_finished(const Client *c) {
        return c->state == CLIENT_DONE || c->state == CLIENT_FAILED;
}

/* Advance the client as far as it goes without waiting. */
static void client_step(Client *c) {
        if (c->state == CLIENT_HANDSHAKE) {
                int r = SSL_do_handshake(c->ssl);

                if (r != 1) {
                        int e = SSL_get_error(c->ssl, r);
                        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                                c->state = CLIENT_FAILED;
                        ERR_clear_error();
                        return;
                }
                const unsigned char *p;
                unsigned n;
                SSL_get0_alpn_selected(c->ssl, &p, &n);
                if (n < sizeof c->alpn) {
                        memcpy(c->alpn, p, n);
                        c->alpn[n] = 0;
                }
                c->peer = SSL_get1_peer_certificate(c->ssl);
                c->state = CLIENT_READING;
        }

        while (c->state == CLIENT_READING) {
                char buf[64];
                int r = SSL_read(c->ssl, buf, sizeof buf);

                if (r > 0) {
                        c->app_data = true;
                        continue;
                }
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                        return;
                c->close_notify = e == SSL_ERROR_ZERO_RETURN;
                c->state = CLIENT_DONE;
                ERR_clear_error();
        }
}

/* Run the loop and step the clients until all have finished (or the deadline passes,
 * which the callers' checks then report). */
static void run_clients(sd_event *e, Client **clients, size_t n) {
        uint64_t deadline = now_usec() + DEADLINE_SEC * USEC_PER_SEC;

        for (;;) {
                bool all = true;

                for (size_t i = 0; i < n; i++) {
                        client_step(clients[i]);
                        all = all && client_finished(clients[i]);
                }
                if (all || now_usec() > deadline)
                        return;
                (void) sd_event_run(e, 10 * USEC_PER_MSEC);
        }
}

static void run_client(sd_event *e, Client *c) {
        run_clients(e, &c, 1);
}

/* Run the loop until pred(userdata) holds or the deadline passes; returns pred's value. */
static bool run_until(sd_event *e, bool (*pred)(void *userdata), void *userdata) {
        uint64_t deadline = now_usec() + DEADLINE_SEC * USEC_PER_SEC;

        while (!pred(userdata)) {
                if (now_usec() > deadline)
                        return false;
                (void) sd_event_run(e, 10 * USEC_PER_MSEC);
        }
        return true;
}

/* A plain TCP connection to the server that sends nothing (or only what is given). */
static int idle_connect(int port, const void *data, size_t len) {
        struct sockaddr_in sin = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sin, sizeof sin) < 0 ||
            (len > 0 && send(fd, data, len, MSG_NOSIGNAL) != (ssize_t) len)) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* A server on 127.0.0.1, port 0, with its loop. */
static bool server_setup(sd_event **ret_e, TlsAlpnServer **ret_s) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

        /* The test clients write with plain write(); the server itself needs no such help. */
        signal(SIGPIPE, SIG_IGN);
        if (sd_event_new(ret_e) < 0)
                return false;
        if (tlsalpn_server_new(*ret_e, (struct sockaddr *) &sin, sizeof sin, ret_s) < 0)
                return false;
        return true;
}

static const unsigned char localhost_v4[4] = { 127, 0, 0, 1 };

static bool no_connections(void *userdata) {
        return tlsalpn_server_n_connections(userdata) == 0;
}

static bool one_connection(void *userdata) {
        return tlsalpn_server_n_connections(userdata) == 1;
}

typedef struct ConnCount {
        TlsAlpnServer *server;
        unsigned n;
} ConnCount;

static bool has_n_connections(void *userdata) {
        ConnCount *cc = userdata;
        return tlsalpn_server_n_connections(cc->server) == cc->n;
}

static bool fd_closed_by_peer(void *userdata) {
        char buf[16];
        ssize_t n = recv(*(int *) userdata, buf, sizeof buf, MSG_DONTWAIT);

        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* ---- server tests ---------------------------------------------------------------------- */

TEST(server_handshake) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        Client c;
        int port;

        REQUIRE(server_setup(&e, &s));
        CHECK(!tlsalpn_server_is_listening(s));
        CHECK_INT(tlsalpn_server_local_port(s), -ENOTCONN);
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH), 0);
        CHECK(tlsalpn_server_is_listening(s));
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        /* The client offers other protocols too; the server must pick acme-tls/1. */
        static const char alpn[] = "\x02h2\x0a" "acme-tls/1\x08http/1.1";
        REQUIRE(client_start(&c, AF_INET, port, "A.Example", alpn, sizeof alpn - 1, 0) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        CHECK_STR(c.alpn, "acme-tls/1");
        check_validation_cert(c.peer, GEN_DNS, "a.example", strlen("a.example"), KEYAUTH);
        CHECK(c.close_notify);
        CHECK(!c.app_data);
        CHECK_INT(SSL_version(c.ssl) >= TLS1_2_VERSION, 1);
        client_done(&c);

        /* TLS 1.2 is good enough. */
        REQUIRE(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), TLS1_2_VERSION) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        CHECK_INT(SSL_version(c.ssl), TLS1_2_VERSION);
        CHECK_STR(c.alpn, "acme-tls/1");
        check_validation_cert(c.peer, GEN_DNS, "a.example", strlen("a.example"), KEYAUTH);
        CHECK(c.close_notify);
        client_done(&c);

        /* The server lets go of connections once the clients have closed them. */
        CHECK(run_until(e, no_connections, s));
}

TEST(server_refusals) {
        static const struct {
                const char *name;
                const char *sni;
                const char *alpn;
                int max_version;
                int alert;
        } cases[] = {
                { "no ALPN",       "a.example", NULL,                         0,              SSL_AD_NO_APPLICATION_PROTOCOL },
                { "other ALPN",    "a.example", "\x08http/1.1",               0,              SSL_AD_NO_APPLICATION_PROTOCOL },
                { "near ALPN",     "a.example", "\x0a" "acme-tls/2",          0,              SSL_AD_NO_APPLICATION_PROTOCOL },
                { "unknown SNI",   "b.example", ALPN_ACME,                    0,              SSL_AD_UNRECOGNIZED_NAME },
                { "suffix SNI",    "x.a.example", ALPN_ACME,                  0,              SSL_AD_UNRECOGNIZED_NAME },
                { "no SNI",        NULL,        ALPN_ACME,                    0,              SSL_AD_UNRECOGNIZED_NAME },
                { "IP as SNI",     "127.0.0.1", ALPN_ACME,                    0,              SSL_AD_UNRECOGNIZED_NAME },
                { "TLS 1.1",       "a.example", ALPN_ACME,                    TLS1_1_VERSION, SSL_AD_PROTOCOL_VERSION },
        };
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        int port;

        REQUIRE(server_setup(&e, &s));
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        REQUIRE(tlsalpn_server_add(s, "127.0.0.1", KEYAUTH2) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Client c;

                REQUIRE(client_start(&c, AF_INET, port, cases[i].sni, cases[i].alpn,
                                     cases[i].alpn ? strlen(cases[i].alpn) : 0, cases[i].max_version) == 0);
                run_client(e, &c);
                if (c.state != CLIENT_FAILED || c.alert != cases[i].alert)
                        fprintf(stderr, "case \"%s\": state %d, alert %d\n", cases[i].name, c.state, c.alert);
                CHECK_INT(c.state, CLIENT_FAILED);
                CHECK_INT(c.alert, cases[i].alert);
                CHECK(!c.peer);
                client_done(&c);
        }

        /* The server is still fine after all that. */
        Client ok;
        REQUIRE(client_start(&ok, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_client(e, &ok);
        CHECK_INT(ok.state, CLIENT_DONE);
        client_done(&ok);
}

TEST(server_two_identifiers) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        Client a, b;
        int port;

        REQUIRE(server_setup(&e, &s));
        CHECK_INT(tlsalpn_server_add(s, "one.example", KEYAUTH), 0);
        CHECK_INT(tlsalpn_server_add(s, "127.0.0.1", KEYAUTH2), 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        /* Both at once on the same loop. */
        REQUIRE(client_start(&a, AF_INET, port, "one.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        REQUIRE(client_start(&b, AF_INET, port, "1.0.0.127.in-addr.arpa", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_clients(e, (Client *[]) { &a, &b }, 2);
        CHECK_INT(a.state, CLIENT_DONE);
        CHECK_INT(b.state, CLIENT_DONE);
        check_validation_cert(a.peer, GEN_DNS, "one.example", strlen("one.example"), KEYAUTH);
        check_validation_cert(b.peer, GEN_IPADD, localhost_v4, sizeof localhost_v4, KEYAUTH2);
        /* One key per server. */
        CHECK_INT(EVP_PKEY_eq(X509_get0_pubkey(a.peer), X509_get0_pubkey(b.peer)), 1);
        client_done(&a);
        client_done(&b);

        /* Removing one leaves the other served and the listener open. */
        CHECK_INT(tlsalpn_server_remove(s, "one.example"), 0);
        CHECK(tlsalpn_server_is_listening(s));
        CHECK_INT(tlsalpn_server_local_port(s), port);
        REQUIRE(client_start(&a, AF_INET, port, "one.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        REQUIRE(client_start(&b, AF_INET, port, "1.0.0.127.in-addr.arpa", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_clients(e, (Client *[]) { &a, &b }, 2);
        CHECK_INT(a.state, CLIENT_FAILED);
        CHECK_INT(a.alert, SSL_AD_UNRECOGNIZED_NAME);
        CHECK_INT(b.state, CLIENT_DONE);
        check_validation_cert(b.peer, GEN_IPADD, localhost_v4, sizeof localhost_v4, KEYAUTH2);
        client_done(&a);
        client_done(&b);
}

TEST(server_add_remove) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        Client c;
        int port;

        REQUIRE(server_setup(&e, &s));

        /* Bad input leaves the listener closed. */
        CHECK_INT(tlsalpn_server_add(s, "*.example.com", KEYAUTH), -EINVAL);
        CHECK_INT(tlsalpn_server_add(s, "bad name", KEYAUTH), -EINVAL);
        CHECK_INT(tlsalpn_server_add(s, "a.example", ""), -EINVAL);
        CHECK_INT(tlsalpn_server_add(s, NULL, KEYAUTH), -EINVAL);
        CHECK(!tlsalpn_server_is_listening(s));
        CHECK_INT(tlsalpn_server_remove(s, "a.example"), -ENOENT);

        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH), 0);
        /* Same again: fine; another key authorization: -EEXIST, also under another spelling. */
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH), 0);
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH2), -EEXIST);
        CHECK_INT(tlsalpn_server_add(s, "A.EXAMPLE", KEYAUTH2), -EEXIST);
        CHECK_INT(tlsalpn_server_add(s, "::1", KEYAUTH), 0);
        CHECK_INT(tlsalpn_server_add(s, "0:0::0:1", KEYAUTH2), -EEXIST);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        /* The IPv6 identifier is found by its reverse name. */
        REQUIRE(client_start(&c, AF_INET, port,
                             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
                             ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        unsigned char v6[16] = { [15] = 1 };
        check_validation_cert(c.peer, GEN_IPADD, v6, sizeof v6, KEYAUTH);
        client_done(&c);

        /* Removing the last one closes the listener: the port refuses connections. */
        CHECK_INT(tlsalpn_server_remove(s, "A.example"), 0);
        CHECK(tlsalpn_server_is_listening(s));
        CHECK_INT(tlsalpn_server_remove(s, "a.example"), -ENOENT);
        CHECK_INT(tlsalpn_server_remove(s, "::0:1"), 0);
        CHECK(!tlsalpn_server_is_listening(s));
        CHECK_INT(tlsalpn_server_local_port(s), -ENOTCONN);
        CHECK_INT(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0), -ECONNREFUSED);
        client_done(&c);

        /* And it opens again for the next one, with the new key authorization. */
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH2), 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);
        REQUIRE(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        check_validation_cert(c.peer, GEN_DNS, "a.example", strlen("a.example"), KEYAUTH2);
        client_done(&c);
}

TEST(server_idle_client) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        _cleanup_close_ int idle = -EBADF, partial = -EBADF;
        Client c;
        int port;

        REQUIRE(server_setup(&e, &s));
        /* A deadline no loaded machine reaches during this test. */
        CHECK_INT(tlsalpn_server_set_limits(s, 0, 300 * USEC_PER_SEC), 0);
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        /* One says nothing, one stops in the middle of a record header. */
        idle = idle_connect(port, NULL, 0);
        partial = idle_connect(port, "\x16\x03\x01", 3);
        REQUIRE(idle >= 0 && partial >= 0);
        REQUIRE(run_until(e, has_n_connections, &(ConnCount) { s, 2 }));

        REQUIRE(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        check_validation_cert(c.peer, GEN_DNS, "a.example", strlen("a.example"), KEYAUTH);
        client_done(&c);
        /* The silent ones are still being waited for, the finished one is gone. */
        CHECK(run_until(e, has_n_connections, &(ConnCount) { s, 2 }));
        CHECK(!fd_closed_by_peer(&idle));
        CHECK(!fd_closed_by_peer(&partial));

        /* A client going away is noticed. */
        idle = safe_close(idle);
        partial = safe_close(partial);
        CHECK(run_until(e, no_connections, s));
}

TEST(server_connection_limit) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        _cleanup_close_ int idle = -EBADF;
        Client c;
        int port;

        REQUIRE(server_setup(&e, &s));
        CHECK_INT(tlsalpn_server_set_limits(s, 1, 0), 0);
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        idle = idle_connect(port, NULL, 0);
        REQUIRE(idle >= 0);
        REQUIRE(run_until(e, one_connection, s));

        /* At the limit, the next client waits in the accept queue: however long the loop
         * runs, nothing answers it while the first connection is open. */
        REQUIRE(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        for (int i = 0; i < 50; i++) {
                client_step(&c);
                (void) sd_event_run(e, 1 * USEC_PER_MSEC);
        }
        CHECK_INT(c.state, CLIENT_HANDSHAKE);
        CHECK_INT(tlsalpn_server_n_connections(s), 1);

        /* Once it is gone, the waiting client is served. */
        idle = safe_close(idle);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        check_validation_cert(c.peer, GEN_DNS, "a.example", strlen("a.example"), KEYAUTH);
        client_done(&c);
}

TEST(server_default_limit) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        int fds[65];
        int port;

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = -EBADF;

        REQUIRE(server_setup(&e, &s));
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = idle_connect(port, NULL, 0);
                CHECK(fds[i] >= 0);
        }
        CHECK(run_until(e, has_n_connections, &(ConnCount) { s, 64 }));
        /* All 65 are queued in the kernel; the 65th is not taken. */
        for (int i = 0; i < 50; i++)
                (void) sd_event_run(e, 1 * USEC_PER_MSEC);
        CHECK_INT(tlsalpn_server_n_connections(s), 64);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = safe_close(fds[i]);
        CHECK(run_until(e, no_connections, s));
}

TEST(server_timeout) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        _cleanup_close_ int idle = -EBADF;
        int port;

        REQUIRE(server_setup(&e, &s));
        CHECK_INT(tlsalpn_server_set_limits(s, 0, 200 * USEC_PER_MSEC), 0);
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        /* A client that never finishes is cut off by the server. */
        idle = idle_connect(port, "\x16\x03\x01\x00", 4);
        REQUIRE(idle >= 0);
        CHECK(run_until(e, fd_closed_by_peer, &idle));
        CHECK(run_until(e, no_connections, s));
}

/* Freeing the server with connections in every state leaks nothing (valgrind checks). */
TEST(server_free_busy) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        TlsAlpnServer *s = NULL;
        _cleanup_close_ int idle = -EBADF;
        Client c;
        int port;

        REQUIRE(server_setup(&e, &s));
        REQUIRE(tlsalpn_server_add(s, "a.example", KEYAUTH) == 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        idle = idle_connect(port, NULL, 0);
        REQUIRE(idle >= 0);
        REQUIRE(client_start(&c, AF_INET, port, "a.example", ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        for (int i = 0; i < 5; i++) {
                client_step(&c);
                (void) sd_event_run(e, 1 * USEC_PER_MSEC);
        }
        s = tlsalpn_server_free(s);
        CHECK(!s);
        /* The client sees the connection end, not a hang. */
        run_client(e, &c);
        CHECK(client_finished(&c));
        client_done(&c);
        CHECK(!tlsalpn_server_free(NULL));
}

TEST(server_ipv6) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        static const unsigned char v6[16] = { [15] = 1 };
        Client c;
        int r, port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(tlsalpn_server_new(e, (struct sockaddr *) &sin6, sizeof sin6, &s) == 0);
        r = tlsalpn_server_add(s, "::1", KEYAUTH);
        if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
                printf("skip: no IPv6 loopback (%s)\n", strerror(-r));
                return;
        }
        CHECK_INT(r, 0);
        port = tlsalpn_server_local_port(s);
        REQUIRE(port > 0);

        REQUIRE(client_start(&c, AF_INET6, port,
                             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
                             ALPN_ACME, strlen(ALPN_ACME), 0) == 0);
        run_client(e, &c);
        CHECK_INT(c.state, CLIENT_DONE);
        CHECK_STR(c.alpn, "acme-tls/1");
        check_validation_cert(c.peer, GEN_IPADD, v6, sizeof v6, KEYAUTH);
        client_done(&c);
}

TEST(server_bad_address) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        struct sockaddr_in sin = { .sin_family = AF_INET };
        struct sockaddr_un_like {
                sa_family_t family;
                char path[20];
        } un = { .family = AF_UNIX };
        TlsAlpnServer *s = (TlsAlpnServer *) 0x1;

        REQUIRE(sd_event_new(&e) >= 0);
        CHECK_INT(tlsalpn_server_new(NULL, (struct sockaddr *) &sin, sizeof sin, &s), -EINVAL);
        CHECK_INT(tlsalpn_server_new(e, (struct sockaddr *) &sin, sizeof sin - 1, &s), -EINVAL);
        CHECK_INT(tlsalpn_server_new(e, (struct sockaddr *) &un, sizeof un, &s), -EINVAL);
        CHECK_INT(tlsalpn_server_new(e, NULL, 0, &s), -EINVAL);
        CHECK(s == (TlsAlpnServer *) 0x1);
}

TEST(server_bind_errors) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        _cleanup_close_ int blocker = -EBADF;
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sin;

        REQUIRE(sd_event_new(&e) >= 0);

        /* Someone else listens on the port. */
        blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(blocker >= 0);
        REQUIRE(bind(blocker, (struct sockaddr *) &sin, sizeof sin) == 0);
        REQUIRE(listen(blocker, 1) == 0);
        REQUIRE(getsockname(blocker, (struct sockaddr *) &sin, &len) == 0);

        REQUIRE(tlsalpn_server_new(e, (struct sockaddr *) &sin, sizeof sin, &s) == 0);
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH), -EADDRINUSE);
        CHECK(!tlsalpn_server_is_listening(s));
        /* Nothing was registered. */
        CHECK_INT(tlsalpn_server_remove(s, "a.example"), -ENOENT);

        /* Once the port is free, the same add works. */
        blocker = safe_close(blocker);
        CHECK_INT(tlsalpn_server_add(s, "a.example", KEYAUTH), 0);
        CHECK_INT(tlsalpn_server_local_port(s), ntohs(sin.sin_port));
}

/* A privileged port as an unprivileged user is -EACCES. Tested in a child that drops to
 * "nobody"; skipped when that is impossible or low ports are open to everyone. */
TEST(server_bind_eacces) {
        struct sockaddr_in sin = {
                .sin_family = AF_INET,
                .sin_port = htons(1),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int status = 0;
        pid_t pid;

        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
                sd_event *e = NULL;
                TlsAlpnServer *s = NULL;
                int r, code;

                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(77);
                /* If an unprivileged socket can take port 1, there is nothing to test. */
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof sin) == 0)
                        _exit(77);
                close(fd);

                if (sd_event_new(&e) < 0 || tlsalpn_server_new(e, (struct sockaddr *) &sin, sizeof sin, &s) < 0)
                        _exit(2);
                r = tlsalpn_server_add(s, "a.example", KEYAUTH);
                code = r == -EACCES && !tlsalpn_server_is_listening(s) ? 0 : 1;
                if (code)
                        fprintf(stderr, "add on port 1 returned %d\n", r);
                tlsalpn_server_free(s);
                sd_event_unref(e);
                _exit(code);
        }
        REQUIRE(waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                printf("skip: cannot test EACCES here\n");
                return;
        }
        CHECK_INT(WEXITSTATUS(status), 0);
}

TEST_MAIN(T(cert_dns), T(cert_digest_vector), T(cert_ip), T(cert_other_keys), T(cert_bad_input), T(sni_names),
          T(server_handshake), T(server_refusals), T(server_two_identifiers), T(server_add_remove),
          T(server_idle_client), T(server_connection_limit), T(server_default_limit), T(server_timeout),
          T(server_free_busy), T(server_ipv6), T(server_bad_address), T(server_bind_errors),
          T(server_bind_eacces));
