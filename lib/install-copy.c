/* SPDX-License-Identifier: MIT */
/* Extra copies of a certificate and its key for other software (see install-copy.h).
 *
 * The work is in two passes: first every destination is checked and its directory opened,
 * then the files are written. That way a typo in the third path does not leave the first
 * two copies replaced and the third old. */

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "install-copy.h"
#include "macro.h"

#define INSTALL_COPY_DEFAULT_MODE ((mode_t) 0644)
#define INSTALL_COPY_KEY_MASK ((mode_t) 0640)

typedef enum InstallCopyKind {
        INSTALL_COPY_KEY,
        INSTALL_COPY_FULLCHAIN,
        INSTALL_COPY_COMBINED,
        _INSTALL_COPY_MAX,
} InstallCopyKind;

static const char *const install_copy_kind_name[_INSTALL_COPY_MAX] = {
        [INSTALL_COPY_KEY] = "key",
        [INSTALL_COPY_FULLCHAIN] = "full chain",
        [INSTALL_COPY_COMBINED] = "combined certificate and key",
};

/* One destination: its path, the open directory it goes into and its name there. */
typedef struct InstallCopyTarget {
        const char *path;
        int dir_fd;
        const char *base;
} InstallCopyTarget;

/* A heap buffer that may hold a private key: wiped before it is freed. */
typedef struct SecretBuffer {
        char *data;
        size_t len;
} SecretBuffer;

static void secret_buffer_done(SecretBuffer *b) {
        if (b->data) {
                explicit_bzero(b->data, b->len);
                free(b->data);
        }
        *b = (SecretBuffer) {};
}

static void install_copy_targets_done(InstallCopyTarget (*t)[_INSTALL_COPY_MAX]) {
        for (size_t i = 0; i < _INSTALL_COPY_MAX; i++)
                (*t)[i].dir_fd = safe_close((*t)[i].dir_fd);
}

mode_t install_copy_key_mode(mode_t mode) {
        if (mode == 0)
                mode = INSTALL_COPY_DEFAULT_MODE;
        return mode & INSTALL_COPY_KEY_MASK;
}

/* Store a formatted sentence in *ret_error_text (if wanted) and return error, so that a
 * failure is one statement: return install_copy_fail(ret, -EINVAL, "..."). */
_printf_(3, 4) static int install_copy_fail(char **ret_error_text, int error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error_text)
                return error;

        va_start(ap, fmt);
        if (vasprintf(ret_error_text, fmt, ap) < 0)
                *ret_error_text = NULL;
        va_end(ap);
        return error;
}

/* Check that path is a usable destination: absolute, naming a file (not ending in '/', ".",
 * ".."), not too long. Returns 0 or -EINVAL / -ENAMETOOLONG. */
static int install_copy_check_path(const char *path) {
        const char *base;

        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;

        base = strrchr(path, '/') + 1;
        if (isempty(base) || streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        if (strlen(base) > NAME_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/* Open the directory of t->path (following symlinks in the directory part: only the last
 * component is replaced rather than followed) and set t->dir_fd and t->base. */
static int install_copy_open_target(InstallCopyTarget *t, InstallCopyKind kind, char **ret_error_text) {
        _cleanup_free_ char *dir = NULL;
        const char *slash;
        int fd;

        slash = strrchr(t->path, '/');
        dir = slash == t->path ? strdup("/") : strndup(t->path, (size_t) (slash - t->path));
        if (!dir)
                return install_copy_fail(ret_error_text, -ENOMEM, "Out of memory");

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = negative_errno();
                return install_copy_fail(ret_error_text, r, "Cannot install the %s copy %s: directory %s: %s",
                                         install_copy_kind_name[kind], t->path, dir, strerror(-r));
        }

        t->dir_fd = fd;
        t->base = slash + 1;
        return 0;
}

/* The full chain followed by the key, with a line break between them if the chain lacks
 * its final one. */
static int install_copy_combine(const char *fullchain_pem, const char *key_pem, SecretBuffer *ret) {
        size_t a = strlen(fullchain_pem), b = strlen(key_pem);
        bool newline = a > 0 && fullchain_pem[a - 1] != '\n';
        SecretBuffer buf = {};

        buf.len = a + newline + b;
        buf.data = malloc(buf.len + 1);
        if (!buf.data)
                return -ENOMEM;

        memcpy(buf.data, fullchain_pem, a);
        if (newline)
                buf.data[a] = '\n';
        memcpy(buf.data + a + newline, key_pem, b);
        buf.data[buf.len] = 0;

        *ret = buf;
        return 0;
}

/* Check everything that can be checked without writing: see install_copy_write(). */
static int install_copy_validate(const InstallCopy *c, const char *fullchain_pem, const char *key_pem,
                                 char **ret_error_text) {
        const char *paths[_INSTALL_COPY_MAX] = {
                [INSTALL_COPY_KEY] = c->key_path,
                [INSTALL_COPY_FULLCHAIN] = c->fullchain_path,
                [INSTALL_COPY_COMBINED] = c->combined_path,
        };
        int r;

        if (c->mode & ~(mode_t) 0777)
                return install_copy_fail(ret_error_text, -EINVAL,
                                         "Invalid mode %#o for certificate copies: only permission bits (0777) are allowed",
                                         (unsigned) c->mode);

        for (size_t i = 0; i < _INSTALL_COPY_MAX; i++) {
                if (!paths[i])
                        continue;

                r = install_copy_check_path(paths[i]);
                if (r < 0)
                        return install_copy_fail(ret_error_text, r,
                                                 "Invalid path for the %s copy \"%s\": must be an absolute file name",
                                                 install_copy_kind_name[i], paths[i]);

                for (size_t j = 0; j < i; j++)
                        if (paths[j] && streq(paths[j], paths[i]))
                                return install_copy_fail(ret_error_text, -EINVAL,
                                                         "The %s copy and the %s copy are both %s",
                                                         install_copy_kind_name[j], install_copy_kind_name[i],
                                                         paths[i]);
        }

        if ((c->fullchain_path || c->combined_path) && isempty(fullchain_pem))
                return install_copy_fail(ret_error_text, -EINVAL, "No certificate chain to install");
        if ((c->key_path || c->combined_path) && isempty(key_pem))
                return install_copy_fail(ret_error_text, -EINVAL, "No private key to install");

        return 0;
}

int install_copy_write(const InstallCopy *c, const char *fullchain_pem, const char *key_pem,
                       char **ret_error_text) {
        _cleanup_(install_copy_targets_done) InstallCopyTarget targets[_INSTALL_COPY_MAX] = {
                [INSTALL_COPY_KEY] = { .dir_fd = -EBADF },
                [INSTALL_COPY_FULLCHAIN] = { .dir_fd = -EBADF },
                [INSTALL_COPY_COMBINED] = { .dir_fd = -EBADF },
        };
        _cleanup_(secret_buffer_done) SecretBuffer combined = {};
        mode_t mode, key_mode;
        int r;

        if (!c)
                return install_copy_fail(ret_error_text, -EINVAL, "No certificate copies given");

        r = install_copy_validate(c, fullchain_pem, key_pem, ret_error_text);
        if (r < 0)
                return r;

        targets[INSTALL_COPY_KEY].path = c->key_path;
        targets[INSTALL_COPY_FULLCHAIN].path = c->fullchain_path;
        targets[INSTALL_COPY_COMBINED].path = c->combined_path;

        for (size_t i = 0; i < _INSTALL_COPY_MAX; i++)
                if (targets[i].path) {
                        r = install_copy_open_target(&targets[i], i, ret_error_text);
                        if (r < 0)
                                return r;
                }

        if (c->combined_path) {
                r = install_copy_combine(fullchain_pem, key_pem, &combined);
                if (r < 0)
                        return install_copy_fail(ret_error_text, r, "Out of memory");
        }

        mode = c->mode == 0 ? INSTALL_COPY_DEFAULT_MODE : c->mode;
        key_mode = install_copy_key_mode(mode);

        /* In enum order: key, full chain, combined. */
        for (size_t i = 0; i < _INSTALL_COPY_MAX; i++) {
                const InstallCopyTarget *t = &targets[i];
                const char *data;
                size_t len;

                if (!t->path)
                        continue;

                switch (i) {
                case INSTALL_COPY_KEY:
                        data = key_pem;
                        len = strlen(key_pem);
                        break;
                case INSTALL_COPY_FULLCHAIN:
                        data = fullchain_pem;
                        len = strlen(fullchain_pem);
                        break;
                default:
                        data = combined.data;
                        len = combined.len;
                }

                r = write_file_atomic_owner(t->dir_fd, t->base, data, len,
                                            i == INSTALL_COPY_FULLCHAIN ? mode : key_mode, c->uid, c->gid);
                if (r == -EPERM && (c->uid != (uid_t) -1 || c->gid != (gid_t) -1))
                        return install_copy_fail(ret_error_text, r,
                                                 "Cannot install the %s copy %s: %s (changing the owner to %jd:%jd needs privileges)",
                                                 install_copy_kind_name[i], t->path, strerror(-r),
                                                 c->uid == (uid_t) -1 ? (intmax_t) -1 : (intmax_t) c->uid,
                                                 c->gid == (gid_t) -1 ? (intmax_t) -1 : (intmax_t) c->gid);
                if (r < 0)
                        return install_copy_fail(ret_error_text, r, "Cannot install the %s copy %s: %s",
                                                 install_copy_kind_name[i], t->path, strerror(-r));
        }

        return 0;
}
