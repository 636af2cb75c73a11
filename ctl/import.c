/* SPDX-License-Identifier: MIT */
/* renewctl import-certbot [DIR]: take over certbot's certificates without issuing new
 * ones. For each DIR/renewal/NAME.conf the lineage's certificate, chain and key are read,
 * lib/certbot-import.c plans the drop-in, renewd's configuration checks it, the
 * certificate is installed into renewd's state as it is, and only then is
 * certs_dir/NAME.conf written (a running daemon that sees the drop-in first would issue a
 * certificate at once). Then a running renewd is asked to reload. One line per lineage:
 * imported, already imported, or skipped and why. Nothing here talks to a CA. */

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "certbot-conf.h"
#include "certbot-import.h"
#include "config.h"
#include "fileio.h"
#include "format.h"
#include "renewctl.h"
#include "renewd-config.h"
#include "ssl-util.h"
#include "store.h"
#include "strv.h"
#include "user-group.h"
#include "x509.h"

#define CERTBOT_DEFAULT_DIR "/etc/letsencrypt"
#define IMPORT_PEM_SIZE_MAX (1024U * 1024U)

typedef struct Import {
        const Args *args;
        const char *dir;                /* certbot's configuration directory */
        Config *config;                 /* renewd's, drop-ins included */
        char *config_text;              /* the main file, to check each drop-in with */
        size_t config_len;
        Store *store;                   /* opened at the first install */
        unsigned n_imported, n_already, n_skipped;
} Import;

static void import_done(Import *im) {
        config_free(im->config);
        if (im->config_text)
                explicit_bzero(im->config_text, im->config_len); /* eab_hmac_key */
        free(im->config_text);
        store_free(im->store);
}

/* What a lineage holds: the certificate, its issuers, its key. */
typedef struct Lineage {
        X509 **cert;                    /* the certificate file's certificates; [0] is the one */
        X509 **chain;                   /* the issuers */
        EVP_PKEY *key;
} Lineage;

static inline void x509_chain_freep(X509 ***p) {
        x509_chain_free(*p);
}

static void lineage_done(Lineage *l) {
        x509_chain_free(l->cert);
        x509_chain_free(l->chain);
        EVP_PKEY_free(l->key);
}

/* One result line; reason is sanitised, as it may quote certbot's files. */
static void import_report(Import *im, const char *name, const char *what, const char *reason) {
        _cleanup_free_ char *r = reason ? text_sanitize(reason) : NULL;

        printf("%s: %s%s%s\n", name, what, r ? ": " : "", strempty(r));
        fflush(stdout);
}

_printf_(3, 4) static void import_skip(Import *im, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&reason, fmt, ap) < 0)
                reason = NULL;
        va_end(ap);
        import_report(im, name, "skipped", reason ? reason : "out of memory");
        im->n_skipped++;
}

/* Set *ret_reason to the formatted text and return r (-ENOMEM if the text cannot be made). */
_printf_(3, 4) static int reason_set(char **ret_reason, int r, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(ret_reason, fmt, ap);
        va_end(ap);
        if (n < 0) {
                *ret_reason = NULL;
                return -ENOMEM;
        }
        return r;
}

/* The file the renewal configuration names under key (cert, chain, fullchain, privkey),
 * else certbot's usual DIR/live/NAME/KEY.pem; relative paths are taken from DIR. */
static int lineage_path(const Import *im, const CertbotConf *conf, const char *name, const char *key,
                        char **ret) {
        const char *v = NULL;
        char *p = NULL;
        int r;

        if (certbot_conf_get_string(conf, "", key, &v) < 0 || isempty(v))
                r = asprintf(&p, "%s/live/%s/%s.pem", im->dir, name, key);
        else if (v[0] == '/')
                r = asprintf(&p, "%s", v);
        else
                r = asprintf(&p, "%s/%s", im->dir, v);
        if (r < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* The certificates of a PEM file (symlinks followed, as in certbot's live/). */
static int pem_read_certificates(const char *path, X509 ***ret) {
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(AT_FDCWD, path, IMPORT_PEM_SIZE_MAX, &pem, &len);
        if (r < 0)
                return r;
        return x509_chain_from_pem(pem, len, ret);
}

static const char *pem_error(int r) {
        switch (r) {
        case -ENODATA:
                return "it holds no certificate";
        case -EBADMSG:
                return "it holds a corrupt certificate";
        default:
                return strerror(-r);
        }
}

/* Read the lineage's files. On failure *ret_reason says what is wrong. */
static int lineage_load(const Import *im, const char *name, const CertbotConf *conf, Lineage *ret,
                        char **ret_reason) {
        _cleanup_free_ char *cert_path = NULL, *chain_path = NULL, *full_path = NULL, *key_path = NULL;
        _cleanup_free_ char *real = NULL;
        _cleanup_(lineage_done) Lineage l = {};
        _cleanup_(x509_chain_freep) X509 **full = NULL;
        int r;

        if (lineage_path(im, conf, name, "cert", &cert_path) < 0 ||
            lineage_path(im, conf, name, "chain", &chain_path) < 0 ||
            lineage_path(im, conf, name, "fullchain", &full_path) < 0 ||
            lineage_path(im, conf, name, "privkey", &key_path) < 0)
                return -ENOMEM;

        r = pem_read_certificates(cert_path, &l.cert);
        if (r < 0)
                return reason_set(ret_reason, r, "cannot read the certificate %s: %s", cert_path, pem_error(r));

        r = pem_read_certificates(full_path, &full);
        if (r >= 0 && X509_cmp(full[0], l.cert[0]) != 0)
                return reason_set(ret_reason, -EINVAL, "%s does not start with the certificate of %s", full_path,
                                  cert_path);
        r = pem_read_certificates(chain_path, &l.chain);
        if (r == -ENOENT && full && full[1]) {
                /* No chain.pem: the issuers are the rest of fullchain.pem. */
                size_t n = 0;
                while (full[n + 1])
                        n++;
                l.chain = calloc(n + 1, sizeof(X509 *));
                if (!l.chain)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        l.chain[i] = full[i + 1];
                        full[i + 1] = NULL;
                }
                r = 0;
        }
        if (r < 0)
                return reason_set(ret_reason, r, "cannot read the chain %s: %s", chain_path, pem_error(r));

        /* privkey.pem is a symlink into archive/; key_load() reads only the file itself. */
        real = realpath(key_path, NULL);
        r = real ? key_load(AT_FDCWD, real, &l.key) : negative_errno();
        if (r < 0)
                return reason_set(ret_reason, r, "cannot read the private key %s: %s", key_path,
                                  r == -EBADMSG ? "not an unencrypted private key" :
                                  r == -EOPNOTSUPP ? "a key type renewd does not use" : strerror(-r));

        *ret = l;
        l = (Lineage) {};
        return 0;
}

/* Check the drop-in against renewd's configuration: the main file with the new section in
 * front (so that problems in it have their line numbers), named as the drop-in. Returns 0
 * with the checked configuration, or -EINVAL with the problems in *ret_reason. */
static int import_check_dropin(const Import *im, const char *file, const char *text, Config **ret,
                               char **ret_reason) {
        _cleanup_free_ char *all = NULL, *error = NULL;
        size_t n = strlen(text);
        int r;

        all = malloc(n + 1 + im->config_len + 1);
        if (!all)
                return -ENOMEM;
        memcpy(all, text, n);
        all[n] = '\n';
        memcpy(all + n + 1, im->config_text, im->config_len);
        all[n + 1 + im->config_len] = 0;

        r = config_parse_string(file, all, n + 1 + im->config_len, ret, &error);
        explicit_bzero(all, n + 1 + im->config_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_reason = error ? TAKE_PTR(error) : strdup(strerror(-r));
                return *ret_reason ? -EINVAL : -ENOMEM;
        }
        return 0;
}

/* Put the lineage's certificate into renewd's state as the live version, unless it is
 * there already (an import interrupted before its drop-in was written). */
static int import_install(Import *im, const char *name, const Lineage *l, const CertConfig *cc,
                          char **ret_reason) {
        _cleanup_(X509_freep) X509 *live = NULL;
        _cleanup_free_ char *cert_pem = NULL, *chain_pem = NULL;
        gid_t gid = (gid_t) -1;
        int r;

        if (!im->store) {
                r = store_open(im->config->state_dir, &im->store);
                if (r < 0)
                        return reason_set(ret_reason, r, "cannot open renewd's state directory %s: %s",
                                          im->config->state_dir, strerror(-r));
        }
        r = store_load_live(im->store, name, &live, NULL, NULL);
        if (r >= 0) {
                if (X509_cmp(live, l->cert[0]) == 0)
                        return 0;
                return reason_set(ret_reason, -EEXIST, "renewd's state already has another certificate %s "
                                  "(%s/live/%s)", name, im->config->state_dir, name);
        }
        if (r != -ENOENT)
                return reason_set(ret_reason, r, "cannot read renewd's live/%s: %s", name, strerror(-r));

        r = cc->key_group ? group_to_gid(cc->key_group, &gid) : 0;
        if (r < 0)
                return reason_set(ret_reason, r, "key_group %s: %s", cc->key_group,
                                  r == -ESRCH ? "no such group" : strerror(-r));
        if (x509_to_pem(l->cert[0], &cert_pem) < 0 || x509_chain_to_pem(l->chain, &chain_pem) < 0)
                return -ENOMEM;
        r = store_install(im->store, name, l->key, cert_pem, chain_pem, gid, cc->keep_versions);
        if (r < 0)
                return reason_set(ret_reason, r, "cannot install the certificate into %s: %s",
                                  im->config->state_dir, strerror(-r));
        return 0;
}

/* Write certs_dir/NAME.conf, never over an existing file (-EEXIST). */
static int import_write_dropin(const Import *im, const char *name, const char *text) {
        _cleanup_free_ char *file = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = mkdir_p_at(AT_FDCWD, im->config->certs_dir, 0755);
        if (r < 0)
                return r;
        fd = open(im->config->certs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (asprintf(&file, "%s.conf", name) < 0)
                return -ENOMEM;
        return write_file_atomic_new(fd, file, text, strlen(text), 0644, (gid_t) -1);
}

static void import_print_sentences(const char *name, const char *kind, char **l) {
        for (char **s = l; *s; s++) {
                _cleanup_free_ char *t = text_sanitize(*s);
                fprintf(stderr, "renewctl: %s: %s: %s\n", name, kind, t ? t : "?");
        }
}

/* Import one lineage. Returns 0 when the outcome was reported, -ENOMEM. */
static int import_one(Import *im, const char *name) {
        _cleanup_free_ char *path = NULL, *dropin = NULL, *text = NULL, *reason = NULL;
        _cleanup_(certbot_conf_freep) CertbotConf *conf = NULL;
        _cleanup_(certbot_import_plan_freep) CertbotImportPlan *plan = NULL;
        _cleanup_(config_freep) Config *checked = NULL;
        _cleanup_(lineage_done) Lineage l = {};
        const CertConfig *cc;
        struct stat st;
        size_t len = 0;
        int r;

        if (asprintf(&path, "%s/renewal/%s.conf", im->dir, name) < 0 ||
            asprintf(&dropin, "%s/%s.conf", im->config->certs_dir, name) < 0)
                return -ENOMEM;

        if (!store_name_is_valid(name)) {
                import_skip(im, name, "not a valid renewd certificate name (1 to 64 of A-Z a-z 0-9 . _ -, not "
                            "starting with '.')");
                return 0;
        }
        if (fstatat(AT_FDCWD, dropin, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                import_report(im, name, "already imported", dropin);
                im->n_already++;
                return 0;
        }
        cc = config_find_cert(im->config, name);
        if (cc) {
                import_skip(im, name, "renewd's configuration already has a certificate %s (%s:%u)", name, cc->file,
                            cc->line);
                return 0;
        }

        r = read_file_at(AT_FDCWD, path, CERTBOT_CONF_SIZE_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "cannot read %s: %s", path, strerror(-r));
                return 0;
        }
        r = certbot_conf_parse(text, len, &conf, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "%s: %s", path, strna(reason));
                return 0;
        }

        r = lineage_load(im, name, conf, &l, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "%s", strna(reason));
                return 0;
        }

        r = certbot_import_plan(&(CertbotImportInput) {
                        .name = name,
                        .source = path,
                        .conf = conf,
                        .cert = l.cert[0],
                        .key = l.key,
                        .config = im->config,
                        .dns_hook = im->args->dns_hook,
                }, &plan, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "%s", strna(reason));
                return 0;
        }

        r = import_check_dropin(im, dropin, plan->text, &checked, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "renewd's configuration would refuse the drop-in: %s", reason);
                return 0;
        }
        cc = config_find_cert(checked, name);
        if (!cc)
                return -EINVAL; /* cannot be: the checked text has it */

        import_print_sentences(name, "warning", plan->warnings);
        import_print_sentences(name, "note", plan->notes);

        if (im->args->dry_run) {
                printf("--- %s (not written: --dry-run)\n%s\n", dropin, plan->text);
                import_report(im, name, "would be imported", NULL);
                im->n_imported++;
                return 0;
        }

        r = import_install(im, name, &l, cc, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "%s", reason);
                return 0;
        }
        r = import_write_dropin(im, name, plan->text);
        if (r == -EEXIST) {
                import_report(im, name, "already imported", dropin);
                im->n_already++;
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                import_skip(im, name, "the certificate is in renewd's state, but %s cannot be written: %s", dropin,
                     strerror(-r));
                return 0;
        }
        printf("%s: imported into %s (%s)\n", name, dropin, challenge_type_to_string(plan->challenge));
        fflush(stdout);
        im->n_imported++;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The lineage names: DIR/renewal/NAME.conf, regular files (symlinks followed), by name. */
static int lineage_list(const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        _cleanup_free_ char *renewal = NULL;
        DIR *d;
        int r = 0;

        if (!names || asprintf(&renewal, "%s/renewal", dir) < 0)
                return -ENOMEM;
        d = opendir(renewal);
        if (!d)
                return negative_errno();
        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = errno > 0 ? -errno : 0;
                        break;
                }
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf") || streq(de->d_name, ".conf"))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (strv_consume(&names, strndup(de->d_name, strlen(de->d_name) - strlen(".conf"))) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (r < 0)
                return r;
        qsort(names, strv_length(names), sizeof(char *), compare_strings);
        *ret = TAKE_PTR(names);
        return 0;
}

/* Ask a running renewd to reload, with the code of renewctl reload; a daemon that is not
 * running reads the files when it starts. Returns the exit status. */
static int import_reload_daemon(const Import *im) {
        _cleanup_(client_freep) Client *c = NULL;
        Args a = *im->args;
        int r;

        if (!a.socket_given)
                a.socket = im->config->control_socket;
        r = client_connect(a.socket, client_now() + a.timeout_usec, &c);
        if (r == -ENOENT || r == -ECONNREFUSED || r == -ENOTSOCK) {
                printf("renewd is not running (nothing listens on %s): it picks the imported certificates up "
                       "when it starts.\n", a.socket);
                return EXIT_OK;
        }
        c = client_free(c);
        return cmd_reload(&a);
}

int cmd_import_certbot(const Args *a) {
        _cleanup_(import_done) Import im = {
                .args = a,
                .dir = a->args[0] ? a->args[0] : CERTBOT_DEFAULT_DIR,
        };
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *error = NULL;
        const char *config_path = a->config ? a->config : RENEWD_DEFAULT_CONFIG;
        int r;

        r = config_load(config_path, &im.config, &error);
        if (r == -ENOMEM)
                return ctl_oom();
        if (r < 0) {
                fprintf(stderr, "renewctl: import-certbot: renewd's configuration cannot be used:\n%s\n",
                        error ? error : strerror(-r));
                return EXIT_ATTENTION;
        }
        r = read_file_at(AT_FDCWD, config_path, CONFIG_FILE_SIZE_MAX, &im.config_text, &im.config_len);
        if (r < 0) {
                fprintf(stderr, "renewctl: import-certbot: cannot read %s: %s\n", config_path, strerror(-r));
                return EXIT_ATTENTION;
        }

        r = lineage_list(im.dir, &names);
        if (r == -ENOMEM)
                return ctl_oom();
        if (r < 0) {
                fprintf(stderr, "renewctl: import-certbot: cannot read %s/renewal: %s; is %s certbot's "
                                "configuration directory?\n", im.dir, strerror(-r), im.dir);
                return EXIT_ATTENTION;
        }
        if (strv_isempty(names)) {
                printf("Nothing to import: %s/renewal has no certificate configuration.\n", im.dir);
                return EXIT_OK;
        }

        for (char **n = names; *n; n++) {
                r = import_one(&im, *n);
                if (r == -ENOMEM)
                        return ctl_oom();
                if (r < 0) {
                        fprintf(stderr, "renewctl: import-certbot: %s: %s\n", *n, strerror(-r));
                        return EXIT_ATTENTION;
                }
        }

        if (a->dry_run) {
                printf("Dry run: %u would be imported, %u already imported, %u skipped; nothing was changed.\n",
                       im.n_imported, im.n_already, im.n_skipped);
                return im.n_skipped > 0 ? EXIT_ATTENTION : EXIT_OK;
        }
        printf("Imported %u, already imported %u, skipped %u.\n", im.n_imported, im.n_already, im.n_skipped);
        if (im.n_imported > 0) {
                printf("Point your services at %s/live/NAME/fullchain.pem and privkey.pem, and turn certbot's "
                       "renewal off (systemctl disable --now certbot.timer).\n", im.config->state_dir);
                r = import_reload_daemon(&im);
                if (r != EXIT_OK)
                        return r;
        }
        return im.n_skipped > 0 ? EXIT_ATTENTION : EXIT_OK;
}
