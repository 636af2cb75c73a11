/* SPDX-License-Identifier: MIT */
#pragma once

/* How one certbot lineage becomes one renewd certificate: from certbot's renewal
 * configuration (certbot-conf.h), the live certificate and its key, and renewd's
 * configuration, the drop-in to write as certs_dir/NAME.conf. A pure function: it reads no
 * file and asks no one, so renewctl import-certbot and the tests share it.
 *
 * What is taken from where:
 *   domains         the certificate's DNS and IP SANs, its subject CN first when it is one
 *   key_type        the key (ec-256, ec-384, rsa-2048/3072/4096; others are refused)
 *   ca              the [ca] whose directory is [renewalparams] server (certbot's default,
 *                   Let's Encrypt, when server is not set)
 *   challenge       authenticator: webroot → http-01 with the one webroot of all names
 *                   ([[webroot_map]], else the last webroot_path); standalone, nginx,
 *                   apache → http-01 by the built-in responder; manual and dns-* → dns-01
 *                   through the dns_hook given (without one the lineage is refused)
 *   reuse_key       reuse_key (True/False)
 *   preferred_chain preferred_chain
 * Hooks (pre_hook, post_hook, renew_hook, deploy_hook) are shell command lines: they are
 * not converted, and each one found gives a warning. */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "certbot-conf.h"
#include "config.h"
#include "key.h"
#include "macro.h"

/* certbot's default ACME server, used when [renewalparams] has no server. */
#define CERTBOT_DEFAULT_SERVER "https://acme-v02.api.letsencrypt.org/directory"

typedef struct CertbotImportInput {
        const char *name;               /* the lineage: renewal/NAME.conf */
        const char *source;             /* that file's path, for the drop-in's first line */
        const CertbotConf *conf;
        X509 *cert;                     /* the lineage's certificate */
        EVP_PKEY *key;                  /* and its private key */
        const Config *config;           /* renewd's configuration (its [ca] sections) */
        const char *dns_hook;           /* for dns-01: a command line (absolute program
                                         * path, arguments), or NULL */
} CertbotImportInput;

typedef struct CertbotImportPlan {
        char *name;
        char **domains;                 /* normalised as renewd's configuration has them */
        char *ca;                       /* the [ca] chosen */
        KeyType key_type;
        bool reuse_key;
        ChallengeType challenge;
        char *webroot;                  /* NULL: built-in responder, or dns-01 */
        char *preferred_chain;          /* or NULL */
        char **warnings;                /* never NULL: what was not converted, one sentence each */
        char **notes;                   /* never NULL: what else to know, one sentence each */
        char *text;                     /* the drop-in, NUL-terminated, ending in '\n' */
} CertbotImportPlan;

/* Plan the import of one lineage. Returns 0 with the plan in *ret, or a negative errno
 * with, when ret_error is not NULL, the reason in words in *ret_error (NULL on success
 * and for -ENOMEM):
 *   -EINVAL       what certbot left cannot be expressed in renewd: a name that is not a
 *                 valid certificate name, a certificate without usable names, names on
 *                 different webroots, a key of another type, a key that does not match,
 *                 an unreadable value;
 *   -ENOENT       no [ca] of renewd's configuration has certbot's server as directory;
 *   -EOPNOTSUPP   an authenticator without an equivalent, or one that needs dns-01
 *                 without a dns_hook. */
int certbot_import_plan(const CertbotImportInput *in, CertbotImportPlan **ret, char **ret_error);

CertbotImportPlan *certbot_import_plan_free(CertbotImportPlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(CertbotImportPlan *, certbot_import_plan_free);
