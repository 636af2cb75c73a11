/* SPDX-License-Identifier: MIT */
#pragma once

/* The built-in http-01 responder (RFC 8555 §8.3): a tiny HTTP/1.x server on sd-event that
 * answers GET and HEAD /.well-known/acme-challenge/TOKEN with the key authorization of
 * every currently registered token, and 404/405/400/431 to everything else. One request
 * per connection; Host is ignored and absolute-form targets are accepted, so it also
 * works behind a reverse proxy that forwards /.well-known/acme-challenge/.
 *
 * The listener is opened when the first token is registered and closed when the last is
 * removed, unless keep_open is set or the socket came from socket activation. Nothing
 * blocks: connections are served from their own io source and timer, at most
 * HTTP01_SERVER_MAX_CONNECTIONS at once, each for at most the connection timeout. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "macro.h"

#define HTTP01_SERVER_MAX_CONNECTIONS 64
#define HTTP01_SERVER_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define HTTP01_KEY_AUTHORIZATION_MAX 4096
#define HTTP01_CHALLENGE_PREFIX "/.well-known/acme-challenge/"

typedef struct Http01Server Http01Server;

/* A server that will listen on addr (AF_INET or AF_INET6; port 0 picks a free port) when
 * it needs to. An IPv6 wildcard address listens dual-stack (IPV6_V6ONLY=0); SO_REUSEADDR
 * is set. Nothing is bound yet. -EAFNOSUPPORT, -EINVAL for a bad address. */
int http01_server_new(sd_event *e, const struct sockaddr *addr, socklen_t len, Http01Server **ret);

/* A server on an already listening stream socket (socket activation). On success the
 * server owns listen_fd (made non-blocking) and keeps it until http01_server_free(); it
 * accepts from the start, answering 404 while no token is registered. On failure the fd
 * is left to the caller. -ENOTSOCK, -EINVAL if it is not a listening stream socket. */
int http01_server_new_fd(sd_event *e, int listen_fd, Http01Server **ret);

/* Close every connection and the listener. Returns NULL. */
Http01Server *http01_server_free(Http01Server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Http01Server *, http01_server_free);

/* Listen even while no token is registered. Turning it on opens the listener now (the
 * bind error is returned, keep_open stays off then); turning it off closes the listener
 * if no token is registered. */
int http01_server_set_keep_open(Http01Server *s, bool b);

/* How long one connection may last, from accept to close (default
 * HTTP01_SERVER_TIMEOUT_USEC). Applies to connections accepted afterwards. -EINVAL for 0. */
int http01_server_set_timeout(Http01Server *s, uint64_t usec);

/* Serve key_authorization (1..HTTP01_KEY_AUTHORIZATION_MAX visible ASCII characters) for
 * token (base64url, 1..255 characters). Opens the listener if it is not open yet: its
 * errors (-EADDRINUSE, -EACCES, ...) are returned here and the token is not registered.
 * Adding a token again with the same value is a no-op returning 0 (there is no count:
 * one remove ends it); with another value it is -EEXIST. -EINVAL for a bad token or key
 * authorization. */
int http01_server_add(Http01Server *s, const char *token, const char *key_authorization);

/* Stop serving token. Closes the listener when it was the last one (unless keep_open or
 * socket-activated); connections already accepted are still answered (with what they
 * would get now). -ENOENT if it was not registered, -EINVAL for a bad token. */
int http01_server_remove(Http01Server *s, const char *token);

bool http01_server_is_listening(const Http01Server *s);

/* The port the listener is bound to (useful with port 0), or -EBADF when not listening. */
int http01_server_local_port(const Http01Server *s);

size_t http01_server_n_tokens(const Http01Server *s);

/* Connections accepted and not yet closed. */
size_t http01_server_n_connections(const Http01Server *s);
