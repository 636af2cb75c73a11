/* SPDX-License-Identifier: MIT */
/* renewd.conf and certs.d/NAME.conf: a strict INI reader driven by one table of keys.
 *
 * Every key is one line of config_keys[] (config-table.c): the sections it may stand in,
 * a parser, a printer, the offset of its field and its default. Reading happens in three
 * steps: each file is read line by line into a Parser (config-syntax.c; value errors are
 * reported as they are met, a [ca] is checked when its section closes); then, once every
 * file is in, each certificate inherits what it does not set from [defaults] and is
 * checked as a whole (config-check.c). All problems are collected, sorted by file and
 * line, and handed back as one text (config-error.c).
 *
 * This file owns the Parser and the Config it builds: it reads the main file and the
 * drop-ins, hands out the result, and frees and searches a Config. */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "config-internal.h"
#include "fileio.h"
#include "strv.h"

/* ---- a Config's life ---- */

static void ca_config_done(CaConfig *c) {
        free(c->name);
        free(c->directory);
        strv_free(c->contact);
        free(c->trust);
        free(c->eab_kid);
        if (c->eab_hmac_key)
                explicit_bzero(c->eab_hmac_key, strlen(c->eab_hmac_key));
        free(c->eab_hmac_key);
        free(c->profile);
        free(c->file);
}

static void cert_config_done(CertConfig *c) {
        free(c->name);
        strv_free(c->domains);
        free(c->ca);
        free(c->webroot);
        strv_free(c->dns_hook);
        free(c->dns_update_server);
        free(c->dns_update_key_file);
        free(c->profile);
        free(c->preferred_chain);
        strv_free(c->reload);
        strv_free(c->deploy_hook);
        strv_free(c->on_failure);
        strv_free(c->challenge_override);
        strv_free(c->dns_resolver);
        strv_free(c->on_failure_days);
        free(c->install_fullchain);
        free(c->install_key);
        free(c->install_combined);
        free(c->install_owner);
        free(c->install_group);
        free(c->key_group);
        free(c->file);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->state_dir);
        free(c->certs_dir);
        free(c->control_socket);
        free(c->control_group);
        free(c->http_listen);
        free(c->tls_alpn_listen);
        free(c->metrics_file);
        for (size_t i = 0; i < c->n_cas; i++)
                ca_config_done(&c->cas[i]);
        free(c->cas);
        for (size_t i = 0; i < c->n_certs; i++)
                cert_config_done(&c->certs[i]);
        free(c->certs);
        free(c);
        return NULL;
}

static void parser_done(Parser *p) {
        config_free(p->config);
        strv_free(p->files);
        cert_config_done(&p->defaults_cert);
        for (size_t i = 0; i < config_n_keys; i++)
                free(p->defaults_raw[i]);
        free(p->certs);
        parser_errors_free(p);
}

/* An empty Config with every [daemon] default, and [defaults] with the built-in ones.
 * Returns 0, -ENOMEM or -EIO. */
static int parser_init(Parser *p) {
        int r;

        p->config = calloc(1, sizeof(Config));
        if (!p->config)
                return -ENOMEM;
        p->files = calloc(1, sizeof(char *));
        if (!p->files)
                return -ENOMEM;
        r = config_section_init(p, SEC_DAEMON, p->config);
        if (r < 0)
                return r;
        return config_section_init(p, SEC_CERT, &p->defaults_cert);
}

/* Check what was read and hand out the result: the config if there was no problem, else
 * the error text. Returns 0, -EINVAL (or the errno of a file that could not be read), or
 * -ENOMEM. */
static int parser_finish(Parser *p, Config **ret, char **ret_error) {
        int r;

        r = parser_resolve(p);
        if (r < 0)
                return r;

        if (p->n_errors > 0 || p->n_dropped > 0 || p->io_error < 0) {
                if (ret_error) {
                        _cleanup_free_ char *text = NULL;
                        r = parser_error_text(p, &text);
                        if (r < 0)
                                return r;
                        *ret_error = TAKE_PTR(text);
                }
                return p->io_error < 0 ? p->io_error : -EINVAL;
        }

        *ret = TAKE_PTR(p->config);
        if (ret_error)
                *ret_error = NULL;
        return 0;
}

int config_parse_string(const char *filename, const char *text, size_t len, Config **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = {};
        int r;

        if (!filename || (!text && len > 0) || !ret)
                return -EINVAL;
        r = parser_init(&p);
        if (r < 0)
                return r;
        r = parser_feed(&p, filename, text ?: "", len, false);
        if (r < 0)
                return r;
        return parser_finish(&p, ret, ret_error);
}

/* ---- files and drop-ins ---- */

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Read and feed one file. Returns 0 (problems, reading included, are recorded) or
 * -ENOMEM. */
static int parser_feed_file(Parser *p, int dir_fd, const char *name, const char *display, bool dropin) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(dir_fd, name, CONFIG_FILE_SIZE_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parser_io_error(p, display, r, "read");
        r = parser_feed(p, display, text, len, dropin);
        explicit_bzero(text, len); /* eab_hmac_key */
        return r;
}

/* Every *.conf of dir, by name. A missing directory is no problem. */
static int parser_feed_dropins(Parser *p, const char *dir) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        struct dirent *de;
        int r;

        if (!names)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : parser_io_error(p, dir, negative_errno(), "open directory");

        for (;;) {
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno > 0)
                                return parser_io_error(p, dir, -errno, "read directory");
                        break;
                }
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                /* Regular files only, following symlinks; editors' leftovers like
                 * "x.conf~" do not end in .conf and are skipped above. */
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        qsort(names, strv_length(names), sizeof(char *), compare_strings);

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *display = NULL;
                if (asprintf(&display, "%s%s%s", dir, endswith(dir, "/") ? "" : "/", *n) < 0)
                        return -ENOMEM;
                r = parser_feed_file(p, dirfd(d), *n, display, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_load_full(const char *path, const char *certs_dir, Config **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = {};
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = parser_init(&p);
        if (r < 0)
                return r;

        r = parser_feed_file(&p, AT_FDCWD, path, path, false);
        if (r < 0)
                return r;
        if (p.io_error < 0) /* no main file: nothing more to say */
                return parser_finish(&p, ret, ret_error);

        if (certs_dir) {
                char *c = strdup(certs_dir);
                if (!c)
                        return -ENOMEM;
                free(p.config->certs_dir);
                p.config->certs_dir = c;
        }
        /* With a broken certs_dir setting, reading some other directory would only add
         * confusing problems. */
        if (certs_dir || !p.daemon.bad[config_key_index(SEC_DAEMON, "certs_dir")]) {
                r = parser_feed_dropins(&p, p.config->certs_dir);
                if (r < 0)
                        return r;
        }
        return parser_finish(&p, ret, ret_error);
}

int config_load(const char *path, Config **ret, char **ret_error) {
        return config_load_full(path, NULL, ret, ret_error);
}

/* ---- lookups ---- */

const CaConfig *config_find_ca(const Config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_cas; i++)
                if (streq(c->cas[i].name, name))
                        return &c->cas[i];
        return NULL;
}

const CertConfig *config_find_cert(const Config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_certs; i++)
                if (streq(c->certs[i].name, name))
                        return &c->certs[i];
        return NULL;
}

