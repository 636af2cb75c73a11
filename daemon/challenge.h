/* SPDX-License-Identifier: MIT */
#pragma once

/* The challenge solver of one renewal: for each identifier it picks the configured
 * challenge (challenge, challenge_override) and makes it answerable —
 *
 *   http-01      a file under webroot, or the built-in responder on http_listen
 *   tls-alpn-01  the built-in TLS responder on tls_alpn_listen (RFC 8737, RFC 8738)
 *   dns-01       dns_hook "set", or an RFC 2136 update; then the propagation check
 *
 * — and undoes it afterwards. The responders belong to the manager (shared by every
 * renewal; listening only while a challenge needs them). Removing DNS records takes time:
 * that work outlives the renewal as a manager task, which --once waits for. */

#include "acme-order.h"
#include "config.h"

typedef struct Manager Manager;
typedef struct Challenges Challenges;

int challenges_new(Manager *m, const CertConfig *cert, Challenges **ret);
/* The order must be freed (it cleans up what it deployed) before the Challenges. */
Challenges *challenges_free(Challenges *ch);
DEFINE_TRIVIAL_CLEANUP_FUNC(Challenges *, challenges_free);
const ChallengeSolver *challenges_solver(Challenges *ch);

/* Manager side: take the http-01 listening socket passed by systemd (or -1), free the
 * responders and abandon background tasks, and whether tasks are still running. */
void manager_challenges_set_http_fd(Manager *m, int fd);
void manager_challenges_done(Manager *m);
/* After a configuration change, with no renewal in flight: drop the (idle) responders so
 * that new listen addresses apply, and listen again if http_keep_open says so. */
void manager_challenges_reset(Manager *m);
bool manager_challenges_busy(const Manager *m);
