/* SPDX-License-Identifier: MIT */
#pragma once

/* A tls-alpn-01 responder (RFC 8737) on an sd-event loop: a TLS listener that answers a
 * validator's handshake for a registered identifier with its validation certificate,
 * negotiates "acme-tls/1" and then closes the connection (close_notify, no application
 * data). The validator finds the certificate through SNI: the DNS name, or for an IP
 * identifier its reverse name (RFC 8738 §6). Everything is non-blocking; the listener is
 * only open while at least one identifier is registered. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct TlsAlpnServer TlsAlpnServer;

#define TLSALPN_SERVER_MAX_CONNECTIONS 64U
#define TLSALPN_SERVER_TIMEOUT_USEC (10 * USEC_PER_SEC)

/* A server that will listen on addr (IPv4 or IPv6; port 0 picks a free one each time the
 * listener opens). Nothing is opened yet. -EINVAL for a NULL loop or an address that is
 * neither AF_INET nor AF_INET6 of the right length; -ENOMEM, -EIO (OpenSSL). */
int tlsalpn_server_new(sd_event *e, const struct sockaddr *addr, socklen_t len, TlsAlpnServer **ret);
/* Closes the listener and every connection. */
TlsAlpnServer *tlsalpn_server_free(TlsAlpnServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsAlpnServer *, tlsalpn_server_free);

/* Override the limits: connections handled at once (further ones wait in the kernel's
 * accept queue) and the time one connection may take in all. 0 keeps the default
 * (TLSALPN_SERVER_MAX_CONNECTIONS, TLSALPN_SERVER_TIMEOUT_USEC). Applies to connections
 * accepted afterwards. */
int tlsalpn_server_set_limits(TlsAlpnServer *s, unsigned max_connections, uint64_t timeout_usec);

/* Serve the validation certificate for identifier. Makes the certificate (with the
 * server's one EC P-256 key, generated on first use) and opens the listener if this is
 * the first identifier; the bind error is returned then (-EADDRINUSE, -EACCES, …) and
 * nothing is registered. Identifiers are compared by their SNI name, so "Example.com" and
 * "example.com", or "::1" and "0::1", are the same. Adding an identifier again with the
 * same key authorization is a no-op (0); -EEXIST if it has a different one. -EINVAL for
 * an identifier tlsalpn_identifier_type() refuses or an empty key authorization. */
int tlsalpn_server_add(TlsAlpnServer *s, const char *identifier, const char *key_authorization);
/* Stop serving identifier; -ENOENT if it was not registered. The listener closes with the
 * last one; connections already accepted finish on their own. */
int tlsalpn_server_remove(TlsAlpnServer *s, const char *identifier);

bool tlsalpn_server_is_listening(const TlsAlpnServer *s);
/* The port the listener is bound to, or -ENOTCONN when it is closed. */
int tlsalpn_server_local_port(const TlsAlpnServer *s);
/* How many accepted connections are being handled now. */
unsigned tlsalpn_server_n_connections(const TlsAlpnServer *s);
