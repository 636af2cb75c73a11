/* SPDX-License-Identifier: MIT */
#pragma once

/* The client end of the control socket: one blocking connection to renewd, calls out and
 * replies in through the Varlink codec of lib/varlink.h. Every wait is bounded by a
 * deadline on CLOCK_MONOTONIC, so a daemon that accepts but never answers cannot hang the
 * caller; a signal that interrupts a wait ends it with -EINTR (renewctl installs its
 * SIGINT/SIGTERM handlers without SA_RESTART for that). */

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "macro.h"
#include "varlink.h"

typedef struct Client Client;

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t client_now(void);

/* Connect to the Unix socket at path, waiting at most until deadline for a daemon whose
 * listen queue is full. Returns 0 or a negative errno: the connect(2) error as it is
 * (-ENOENT, -ECONNREFUSED, -EACCES, ...), -ETIMEDOUT, -ENAMETOOLONG for a path that does
 * not fit a sockaddr_un. */
int client_connect(const char *path, uint64_t deadline, Client **ret);
Client *client_free(Client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Client *, client_free);

/* Send one call. parameters may be NULL for none. A oneway call gets no reply; a call with
 * more gets replies until one comes without "continues". Returns 0, -ETIMEDOUT, -EINTR,
 * -EPIPE/-ECONNRESET when the daemon went away, another negative errno. */
int client_call(Client *c, const char *method, const cJSON *parameters, bool more, bool oneway,
                uint64_t deadline);

/* Wait for the next reply to the last call and parse it into *ret (free it with
 * varlink_reply_done()). Returns 0, -ETIMEDOUT when nothing complete came before deadline,
 * -EINTR, -ECONNRESET when the daemon closed the connection first, -EBADMSG/-E2BIG for a
 * reply that breaks the protocol or the size cap. */
int client_read_reply(Client *c, uint64_t deadline, VarlinkReply *ret);
