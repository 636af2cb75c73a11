/* SPDX-License-Identifier: MIT */
#pragma once

/* The state directory (DESIGN.md "State"):
 *   accounts/<ca>/key.pem, account.json
 *   archive/<name>/<version>/privkey.pem cert.pem chain.pem fullchain.pem
 *   live/<name> -> ../archive/<name>/<version>
 * A new version is written in full and fsynced, then live/<name> is swapped in one
 * rename(2) and live/ fsynced. Versions are decimal numbers counting up from 1. */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

typedef struct Store Store;

/* Whether name is acceptable as a certificate or CA name in the store: 1 to 64 characters
 * of [A-Za-z0-9._-], not starting with '.'. Everything else is -EINVAL for the functions
 * below. */
bool store_name_is_valid(const char *name);

/* Open (creating it and its subdirectories 0700/0755 if needed) the state directory. */
int store_open(const char *state_dir, Store **ret);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);

/* Directory fd of the state dir (borrowed). */
int store_dir_fd(Store *s);

/* Install a new version of certificate `name`: key, leaf certificate PEM and the chain
 * PEM (issuers, leaf excluded). Writes privkey.pem (0600, or 0640 with key_gid != -1
 * and that group), cert.pem, chain.pem, fullchain.pem (0644), fsyncs, swaps live/<name>,
 * then removes versions beyond the newest keep_versions (0 = keep all). Returns the new
 * version number (> 0) or a negative errno; on failure live/<name> is untouched. */
int store_install(Store *s, const char *name, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                  gid_t key_gid, unsigned keep_versions);

/* Load the live version of name: -ENOENT when there is none. Any output may be NULL. */
int store_load_live(Store *s, const char *name, X509 **ret_cert, EVP_PKEY **ret_key, unsigned *ret_version);

/* Path of live/<name> (allocated). */
int store_live_path(Store *s, const char *name, char **ret);

/* Account files of CA `ca`: the account key (loading gives -ENOENT when there is none;
 * saving writes it with mode 0600) and account.json (the account URL and metadata). */
int store_load_account_key(Store *s, const char *ca, EVP_PKEY **ret);
int store_save_account_key(Store *s, const char *ca, EVP_PKEY *key);
/* account.json text, -ENOENT if absent. */
int store_load_account_json(Store *s, const char *ca, char **ret);
int store_save_account_json(Store *s, const char *ca, const char *json);
