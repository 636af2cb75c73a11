/* SPDX-License-Identifier: MIT */
#pragma once

/* What follows an installed version (issue: "after renewal"): the extra copies
 * (install_fullchain, install_key, install_combined), the deploy_hook, and the reload of
 * the certificate's units. Reloads are batched by the manager: certificates renewed
 * together reload a unit once, after the last of them is installed.
 *
 * A deployment that fails never rolls back: the new version stays live, and the failure
 * ("deployed with errors") is reported and retried with backoff by deploying again. */

#include <stdbool.h>

#include "config.h"

typedef struct Manager Manager;
typedef struct Deployment Deployment;

/* Called once, from the loop, when every step has run. error is the first failure. */
typedef void (*DeploymentDone)(Deployment *d, int error, void *userdata);

int deployment_start(Manager *m, const CertConfig *cert, DeploymentDone done, void *userdata, Deployment **ret);
Deployment *deployment_free(Deployment *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Deployment *, deployment_free);
/* After failure: what failed, e.g. "deploy_hook exited with status 1; reload: nginx.service:
 * job failed (result: failed)". */
const char *deployment_error_text(const Deployment *d);
/* Whether the deploy_hook failed / a unit reload failed (for the counters). */
bool deployment_hook_failed(const Deployment *d);
bool deployment_reload_failed(const Deployment *d);
/* Whether the certificate has anything to deploy at all. */
bool deployment_wanted(const CertConfig *cert);

/* Manager side: flush the batch of unit reloads when nothing else is about to join it;
 * abandon everything on the way out; whether reloads are pending or running. */
void manager_reloads_maybe_flush(Manager *m);
void manager_reloads_done(Manager *m);
bool manager_reloads_busy(const Manager *m);
