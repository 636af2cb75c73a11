/* SPDX-License-Identifier: MIT */
#pragma once

/* The control socket: the io.renewd Varlink interface (docs/io.renewd.varlink) for
 * renewctl and generic Varlink clients. Non-blocking on the manager's event loop; peers are
 * identified with SO_PEERCRED: root may call everything, control_group the read-only
 * methods, others nothing. Messages, connections (in all and per uid), idle time and
 * queued output are all bounded; a misbehaving client is dropped alone. */

#include "macro.h"

typedef struct Manager Manager;
typedef struct ControlServer ControlServer;

/* Listen on the socket passed by systemd (socket activation), else bind
 * m->config->control_socket. */
int control_server_new(Manager *m, ControlServer **ret);
ControlServer *control_server_free(ControlServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ControlServer *, control_server_free);

/* A renewal made progress (event: "queued", "order-created", …, "installed", "failed"),
 * for Renew calls that follow it. */
void control_renewal_event(ControlServer *s, const char *name, const char *event, const char *detail);
/* The certificates were rebuilt (reload): Renew calls still waiting end with an error. */
void control_certificates_reset(ControlServer *s);
