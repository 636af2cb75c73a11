/* SPDX-License-Identifier: MIT */
/* The state directory: accounts, archived certificate versions, and the live links.
 *
 * Layout and modes (created when missing; existing directories keep their modes):
 *   <state_dir>/                          0755
 *     accounts/                           0700  only the daemon needs account keys
 *       <ca>/                             0700
 *         key.pem, account.json           0600
 *     archive/                            0755  services must reach their certificate,
 *       <name>/                           0755  and the key with a configured group, so
 *         <N>/                            0755  the directories are traversable; secrecy
 *           privkey.pem                   0600  comes from the key file's own mode
 *                                               (0640 with key_gid)
 *           cert.pem chain.pem fullchain.pem 0644
 *         .new-<N>/                       a version being written
 *         hand-placed-<N>/                a hand-placed live directory replaced by N
 *     live/                               0755
 *       <name> -> ../archive/<name>/<N>
 *       .live-<name>.tmp                  the next link, before it is renamed over <name>
 *
 * Crash consistency. A version is built under the temporary name archive/<name>/.new-<N>;
 * every file in it is created with write_file_new() (data fsynced; the directory fsynced
 * once all four are there),
 * then the directory is renamed to <N> and archive/<name> fsynced. Only then is a new
 * symlink created as live/.live-<name>.tmp and renamed over live/<name>; live/ is fsynced.
 * rename(2) replaces the name atomically, also across a crash on the journalling file
 * systems Linux uses: after a reboot live/<name> is either the old link or the new one.
 * Whichever it is, it names a directory that was complete and durable before the rename
 * was issued (the old one is never modified; the new one was fsynced first), so a crash
 * at any instant leaves the old or the new version, never a mix:
 *   - before the directory rename: only .new-<N> exists, nothing points to it, and the
 *     next install deletes it (and reuses N);
 *   - between the directory rename and the link rename: <N> is complete but not live; the
 *     next install simply goes on with N+1;
 *   - a stale .live-<name>.tmp link is replaced by the next install;
 *   - a directory placed in live/<name> by hand cannot be replaced by rename(2); it is
 *     exchanged with the new link in one renameat2(RENAME_EXCHANGE), which is just as
 *     atomic, and then moved to the archive; a crash in between leaves it as
 *     live/.live-<name>.tmp, which the next install moves to the archive the same way;
 *   - pruning comes after the swap and only deletes versions that live/<name> does not
 *     point to.
 * Readers resolve the link once, open the version directory, and read every file from
 * that directory fd, so a concurrent swap cannot mix versions either; should pruning
 * delete the version under a reader, the reader sees ENOENT, notices that the link has
 * moved on, and starts over.
 *
 * There is a single writer per certificate name (the daemon serialises installs); readers
 * may run concurrently. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "key.h"
#include "ssl-util.h"
#include "store.h"
#include "x509.h"

#define STORE_NAME_MAX 64
/* Generous: a PEM chain of a few certificates is a few KiB. */
#define STORE_PEM_MAX (1024 * 1024)
#define STORE_JSON_MAX (1024 * 1024)
/* Versions are at most 9 decimal digits, so they always fit the int store_install()
 * returns. */
#define STORE_VERSION_DIGITS_MAX 9
/* How often store_load_live() starts over when the version it resolved was pruned while
 * it was reading it. */
#define LOAD_ATTEMPTS_MAX 8

#define MODE_DIR_PRIVATE 0700
#define MODE_DIR_PUBLIC 0755
#define MODE_KEY 0600
#define MODE_KEY_GROUP 0640
#define MODE_PUBLIC 0644

struct Store {
        int dir_fd;
        char *path;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* A buffer that may hold key material: wiped before it is freed. */
typedef struct Secret {
        char *data;
        size_t len;
} Secret;

static void secret_done(Secret *s) {
        if (s->data) {
                OPENSSL_cleanse(s->data, s->len);
                free(s->data);
                s->data = NULL;
        }
}

static void store_chain_freep(X509 ***chain) {
        if (*chain)
                x509_chain_free(*chain);
}

bool store_name_is_valid(const char *name) {
        size_t l;

        if (isempty(name))
                return false;
        l = strlen(name);
        if (l > STORE_NAME_MAX)
                return false;
        /* No leading dot: this refuses "." and "..", and keeps names apart from our
         * temporary names (".new-<N>", ".live-<name>.tmp"). */
        if (name[0] == '.')
                return false;
        for (size_t i = 0; i < l; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* Parse a version directory name: decimal, no sign, no leading zero, > 0. Returns 0 or
 * -EINVAL for anything else (which is then not a version and ignored). */
static int parse_version(const char *s, unsigned *ret) {
        unsigned v = 0;
        size_t l = strlen(s);

        if (l == 0 || l > STORE_VERSION_DIGITS_MAX || s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < l; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

/* The version a live link target names: "../archive/<name>/<N>" gives N; anything else
 * (a link placed by hand) gives 0. */
static unsigned version_from_target(const char *target, const char *name) {
        static const char prefix[] = "../archive/";
        size_t nl = strlen(name);
        unsigned v;

        if (strncmp(target, prefix, sizeof(prefix) - 1) != 0)
                return 0;
        target += sizeof(prefix) - 1;
        if (strncmp(target, name, nl) != 0 || target[nl] != '/')
                return 0;
        if (parse_version(target + nl + 1, &v) < 0)
                return 0;
        return v;
}

/* Read the target of the symlink dir_fd/name into buf. Returns 0, -ENOENT when absent,
 * -EINVAL when it is not a symlink. */
static int read_link(int dir_fd, const char *name, char buf[static PATH_MAX]) {
        ssize_t k;

        k = readlinkat(dir_fd, name, buf, PATH_MAX);
        if (k < 0)
                return negative_errno();
        if (k >= PATH_MAX)
                return -ENAMETOOLONG;
        buf[k] = 0;
        return 0;
}

/* Open a subdirectory of dir_fd, never following a symlink in its place. */
static int open_subdir(int dir_fd, const char *name) {
        return RET_NERRNO(openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

/* Create dir_fd/name with exactly mode unless it exists. Returns 1 if it was created,
 * 0 if it existed, or a negative errno. */
static int make_dir(int dir_fd, const char *name, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;

        if (mkdirat(dir_fd, name, mode) < 0)
                return errno == EEXIST ? 0 : negative_errno();

        /* umask may have narrowed the mode. */
        fd = open_subdir(dir_fd, name);
        if (fd < 0)
                return fd;
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        return 1;
}

/* Remove dir_fd/name and, if it is a directory, everything below it. Symlinks are removed,
 * never followed. Missing is not an error. Returns 0 or the first error met. */
static int rm_rf_at(int dir_fd, const char *name) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (unlinkat(dir_fd, name, 0) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return negative_errno();

        fd = open_subdir(dir_fd, name);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }

        for (;;) {
                int k;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno > 0 && r == 0)
                                r = -errno;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                k = rm_rf_at(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }

        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = negative_errno();
        return r;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

/* The numeric versions in archive/<name> (name_fd), sorted ascending. With clean_stale,
 * leftovers of an interrupted install (".new-*") are removed on the way. */
static int scan_versions(int name_fd, bool clean_stale, unsigned **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ unsigned *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int fd;

        fd = fcntl(name_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        /* A dup shares the offset with name_fd, which may have been read before. */
        rewinddir(d);

        for (;;) {
                unsigned x;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno > 0)
                                return -errno;
                        break;
                }

                if (clean_stale && strncmp(de->d_name, ".new-", 5) == 0) {
                        int r = rm_rf_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }

                if (parse_version(de->d_name, &x) < 0)
                        continue;

                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        unsigned *nv = reallocarray(v, ncap, sizeof(unsigned));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        cap = ncap;
                }
                v[n++] = x;
        }

        if (n > 0)
                qsort(v, n, sizeof(unsigned), cmp_unsigned);

        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int store_open(const char *state_dir, Store **ret) {
        static const struct {
                const char *name;
                mode_t mode;
        } subdirs[] = {
                { "accounts", MODE_DIR_PRIVATE },
                { "archive", MODE_DIR_PUBLIC },
                { "live", MODE_DIR_PUBLIC },
        };
        _cleanup_(store_freep) Store *s = NULL;
        bool existed, created = false;
        int r;

        if (isempty(state_dir) || !ret)
                return -EINVAL;

        existed = access(state_dir, F_OK) >= 0;
        r = mkdir_p_at(AT_FDCWD, state_dir, MODE_DIR_PUBLIC);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        s->dir_fd = -EBADF;

        s->path = strdup(state_dir);
        if (!s->path)
                return -ENOMEM;

        s->dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0)
                return negative_errno();

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_close_ int fd = -EBADF;

                r = make_dir(s->dir_fd, subdirs[i].name, subdirs[i].mode);
                if (r < 0)
                        return r;
                created = created || r > 0;

                /* Refuse a symlink or a file in place of our directories: the relative
                 * live links assume live/ and archive/ are siblings. */
                fd = open_subdir(s->dir_fd, subdirs[i].name);
                if (fd < 0)
                        return fd;
        }

        if (created && fsync(s->dir_fd) < 0)
                return negative_errno();

        if (!existed) {
                _cleanup_free_ char *parent = strdup(state_dir);
                char *slash;

                if (!parent)
                        return -ENOMEM;
                /* Drop trailing slashes, then the last component. */
                for (size_t l = strlen(parent); l > 1 && parent[l - 1] == '/'; l--)
                        parent[l - 1] = 0;
                slash = strrchr(parent, '/');
                if (!slash)
                        r = fsync_dir_at(AT_FDCWD, ".");
                else if (slash == parent)
                        r = fsync_dir_at(AT_FDCWD, "/");
                else {
                        *slash = 0;
                        r = fsync_dir_at(AT_FDCWD, parent);
                }
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        safe_close(s->dir_fd);
        free(s->path);
        free(s);
        return NULL;
}

int store_dir_fd(Store *s) {
        if (!s)
                return -EINVAL;
        return s->dir_fd;
}

int store_live_path(Store *s, const char *name, char **ret) {
        char *p;

        if (!s || !ret || !store_name_is_valid(name))
                return -EINVAL;

        if (asprintf(&p, "%s/live/%s", s->path, name) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* Write the four files of a version into the new, private directory vfd (".new-N", which
 * is renamed into place afterwards, so the files need no temporary names of their own). */
static int write_version(int vfd, const Secret *key_pem, const char *cert_pem, const char *chain_pem,
                         gid_t key_gid) {
        _cleanup_free_ char *fullchain = NULL;
        size_t cl = strlen(cert_pem), hl = strlen(chain_pem);
        bool need_nl = cl > 0 && cert_pem[cl - 1] != '\n' && hl > 0;
        int r;

        r = write_file_new(vfd, "privkey.pem", key_pem->data, key_pem->len,
                              key_gid == (gid_t) -1 ? MODE_KEY : MODE_KEY_GROUP, key_gid);
        if (r < 0)
                return r;

        r = write_file_new(vfd, "cert.pem", cert_pem, cl, MODE_PUBLIC, (gid_t) -1);
        if (r < 0)
                return r;

        r = write_file_new(vfd, "chain.pem", chain_pem, hl, MODE_PUBLIC, (gid_t) -1);
        if (r < 0)
                return r;

        fullchain = malloc(cl + need_nl + hl + 1);
        if (!fullchain)
                return -ENOMEM;
        memcpy(fullchain, cert_pem, cl);
        if (need_nl)
                fullchain[cl] = '\n';
        memcpy(fullchain + cl + need_nl, chain_pem, hl);
        fullchain[cl + need_nl + hl] = 0;

        r = write_file_new(vfd, "fullchain.pem", fullchain, cl + need_nl + hl, MODE_PUBLIC, (gid_t) -1);
        if (r < 0)
                return r;
        /* One fsync of the directory for all four entries. */
        return fsync(vfd) < 0 ? negative_errno() : 0;
}

/* Move a hand-placed directory (live_fd/from) out of live/ into archive/<name>/ as
 * "hand-placed-<version>", where it is never counted nor pruned. */
static int stash_hand_placed(int live_fd, const char *from, int name_fd, unsigned version) {
        char to[sizeof("hand-placed-") + STORE_VERSION_DIGITS_MAX + 1];

        (void) snprintf(to, sizeof(to), "hand-placed-%u", version);
        if (renameat2(live_fd, from, name_fd, to, RENAME_NOREPLACE) < 0)
                return negative_errno();
        if (fsync(name_fd) < 0)
                return negative_errno();
        return 0;
}

/* Point live/<name> at target with one rename. A directory placed there by hand is swapped
 * out atomically with RENAME_EXCHANGE and kept in the archive. */
static int swap_live(int live_fd, int name_fd, const char *name, const char *target, unsigned version) {
        char tmp[sizeof(".live-.tmp") + STORE_NAME_MAX];
        int r;

        (void) snprintf(tmp, sizeof(tmp), ".live-%s.tmp", name);

        /* A leftover of an interrupted install: a link, or a hand-placed directory that
         * was swapped out just before a crash. */
        if (unlinkat(live_fd, tmp, 0) < 0) {
                if (errno == EISDIR) {
                        r = stash_hand_placed(live_fd, tmp, name_fd, version);
                        if (r < 0)
                                return r;
                } else if (errno != ENOENT)
                        return negative_errno();
        }

        if (symlinkat(target, live_fd, tmp) < 0)
                return negative_errno();

        if (renameat(live_fd, tmp, live_fd, name) >= 0)
                return 0;
        if (errno != EISDIR) {
                r = negative_errno();
                (void) unlinkat(live_fd, tmp, 0);
                return r;
        }

        /* rename(2) cannot replace a directory by a symlink, but it can exchange them. */
        if (renameat2(live_fd, tmp, live_fd, name, RENAME_EXCHANGE) < 0) {
                r = negative_errno();
                (void) unlinkat(live_fd, tmp, 0);
                return r;
        }

        /* live/<name> is ours now. If the hand-placed directory cannot be moved, it stays
         * as the temporary name and the next install retries. */
        (void) stash_hand_placed(live_fd, tmp, name_fd, version);
        return 0;
}

/* Delete numeric versions beyond the newest keep, sparing whatever live/<name> points to.
 * Best effort: what cannot be removed now is retried on the next install. */
static void prune_versions(int name_fd, int live_fd, const char *name, unsigned keep) {
        _cleanup_free_ unsigned *v = NULL;
        char target[PATH_MAX];
        unsigned live = 0;
        size_t n = 0;

        if (keep == 0)
                return;

        if (scan_versions(name_fd, false, &v, &n) < 0 || n <= keep)
                return;

        if (read_link(live_fd, name, target) >= 0)
                live = version_from_target(target, name);

        for (size_t i = 0; i < n - keep; i++) {
                char d[STORE_VERSION_DIGITS_MAX + 1];

                if (v[i] == live)
                        continue;
                (void) snprintf(d, sizeof(d), "%u", v[i]);
                (void) rm_rf_at(name_fd, d);
        }

        (void) fsync(name_fd);
}

int store_install(Store *s, const char *name, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                  gid_t key_gid, unsigned keep_versions) {
        _cleanup_close_ int archive_fd = -EBADF, name_fd = -EBADF, live_fd = -EBADF, vfd = -EBADF;
        _cleanup_(secret_done) Secret key_pem = {};
        _cleanup_free_ unsigned *versions = NULL;
        char newdir[sizeof(".new-") + STORE_VERSION_DIGITS_MAX + 1];
        char vname[STORE_VERSION_DIGITS_MAX + 1];
        char target[sizeof("../archive//") + STORE_NAME_MAX + STORE_VERSION_DIGITS_MAX + 1];
        unsigned version;
        size_t n = 0;
        int r;

        if (!s || !key || isempty(cert_pem) || !store_name_is_valid(name))
                return -EINVAL;
        if (!chain_pem)
                chain_pem = "";

        /* Serialise the key before touching the disk. */
        r = key_to_pem(key, &key_pem.data, &key_pem.len);
        if (r < 0)
                return r;

        archive_fd = open_subdir(s->dir_fd, "archive");
        if (archive_fd < 0)
                return archive_fd;
        live_fd = open_subdir(s->dir_fd, "live");
        if (live_fd < 0)
                return live_fd;

        r = make_dir(archive_fd, name, MODE_DIR_PUBLIC);
        if (r < 0)
                return r;
        if (r > 0 && fsync(archive_fd) < 0)
                return negative_errno();

        name_fd = open_subdir(archive_fd, name);
        if (name_fd < 0)
                return name_fd;

        r = scan_versions(name_fd, true, &versions, &n);
        if (r < 0)
                return r;
        version = n > 0 ? versions[n - 1] + 1 : 1;
        if (version > 999999999u)
                return -EOVERFLOW;

        (void) snprintf(newdir, sizeof(newdir), ".new-%u", version);
        (void) snprintf(vname, sizeof(vname), "%u", version);
        (void) snprintf(target, sizeof(target), "../archive/%s/%u", name, version);

        r = make_dir(name_fd, newdir, MODE_DIR_PUBLIC);
        if (r < 0)
                return r;
        if (r == 0) /* scan_versions() removed all ".new-*", so someone else is at work. */
                return -EBUSY;

        vfd = open_subdir(name_fd, newdir);
        if (vfd < 0) {
                r = vfd;
                goto fail_new;
        }

        /* Each file is fsynced, and so is vfd once they are all there. */
        r = write_version(vfd, &key_pem, cert_pem, chain_pem, key_gid);
        if (r < 0)
                goto fail_new;

        if (renameat2(name_fd, newdir, name_fd, vname, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL) {
                        r = negative_errno();
                        goto fail_new;
                }
                /* The file system does not know RENAME_NOREPLACE; the version number is
                 * unused (we are the only writer), so a plain rename is as good. */
                if (renameat(name_fd, newdir, name_fd, vname) < 0) {
                        r = negative_errno();
                        goto fail_new;
                }
        }

        if (fsync(name_fd) < 0) {
                r = negative_errno();
                goto fail_version;
        }

        r = swap_live(live_fd, name_fd, name, target, version);
        if (r < 0)
                goto fail_version;

        /* The swap has happened: from here on, failing must not remove the new version. */
        if (fsync(live_fd) < 0)
                return negative_errno();

        prune_versions(name_fd, live_fd, name, keep_versions);

        return (int) version;

fail_new:
        (void) rm_rf_at(name_fd, newdir);
        (void) fsync(name_fd);
        return r;

fail_version:
        (void) rm_rf_at(name_fd, vname);
        (void) fsync(name_fd);
        return r;
}

/* The certificate PEM of the version directory vfd: cert.pem, or for a hand-placed
 * directory that only has the full chain, fullchain.pem. */
static int read_cert_pem(int vfd, char **ret, size_t *ret_len) {
        int r;

        r = read_file_at(vfd, "cert.pem", STORE_PEM_MAX, ret, ret_len);
        if (r == -ENOENT)
                r = read_file_at(vfd, "fullchain.pem", STORE_PEM_MAX, ret, ret_len);
        return r;
}

/* The first certificate of a PEM text. */
static int parse_cert(const char *pem, size_t len, X509 **ret) {
        _cleanup_(store_chain_freep) X509 **chain = NULL;
        int r;

        r = x509_chain_from_pem(pem, len, &chain);
        if (r < 0)
                return r;
        if (r == 0 || !chain || !chain[0])
                return -ENODATA;

        if (X509_up_ref(chain[0]) != 1)
                return ssl_error(-ENOMEM);
        *ret = chain[0];
        return 0;
}

/* Read a PEM private key relative to dir_fd, wiping the text afterwards. */
static int load_key(int dir_fd, const char *path, EVP_PKEY **ret) {
        _cleanup_(secret_done) Secret pem = {};
        int r;

        r = read_file_at(dir_fd, path, STORE_PEM_MAX, &pem.data, &pem.len);
        if (r < 0)
                return r;

        return key_from_pem(pem.data, pem.len, ret);
}

/* One attempt of store_load_live(). *ret_raced is set when the files were missing but
 * the link now points elsewhere, i.e. a version was pruned under us. */
static int load_live_once(int live_fd, const char *name, X509 **ret_cert, EVP_PKEY **ret_key,
                          unsigned *ret_version, bool *ret_raced) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(secret_done) Secret key_pem = {};
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_close_ int vfd = -EBADF;
        char target[PATH_MAX], again[PATH_MAX];
        size_t cert_len = 0;
        unsigned version = 0;
        bool is_link;
        int r;

        *ret_raced = false;

        r = read_link(live_fd, name, target);
        if (r == -EINVAL) {
                /* Not a symlink: a directory placed by hand (version 0). */
                is_link = false;
                vfd = open_subdir(live_fd, name);
        } else if (r < 0)
                return r;
        else {
                /* Open what the link said, not the link again: the version number and the
                 * files then belong together even if the link is swapped meanwhile. */
                is_link = true;
                version = version_from_target(target, name);
                vfd = RET_NERRNO(openat(live_fd, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        }
        if (vfd < 0) {
                r = vfd;
                goto check_race;
        }

        /* Read both files before parsing either: once their content is in memory, pruning
         * the version cannot get in the way any more. */
        if (ret_cert) {
                r = read_cert_pem(vfd, &cert_pem, &cert_len);
                if (r < 0)
                        goto check_race;
        }
        if (ret_key) {
                r = read_file_at(vfd, "privkey.pem", STORE_PEM_MAX, &key_pem.data, &key_pem.len);
                if (r < 0)
                        goto check_race;
        }

        if (ret_cert) {
                r = parse_cert(cert_pem, cert_len, &cert);
                if (r < 0)
                        return r;
        }
        if (ret_key) {
                r = key_from_pem(key_pem.data, key_pem.len, &key);
                if (r < 0)
                        return r;
        }

        if (ret_cert)
                *ret_cert = TAKE_PTR(cert);
        if (ret_key)
                *ret_key = TAKE_PTR(key);
        if (ret_version)
                *ret_version = version;
        return 0;

check_race:
        if (r == -ENOENT && is_link && read_link(live_fd, name, again) >= 0 && !streq(again, target))
                *ret_raced = true;
        return r;
}

int store_load_live(Store *s, const char *name, X509 **ret_cert, EVP_PKEY **ret_key, unsigned *ret_version) {
        _cleanup_close_ int live_fd = -EBADF;
        int r;

        if (!s || !store_name_is_valid(name))
                return -EINVAL;

        live_fd = open_subdir(s->dir_fd, "live");
        if (live_fd < 0)
                return live_fd;

        for (unsigned attempt = 0;; attempt++) {
                bool raced;

                r = load_live_once(live_fd, name, ret_cert, ret_key, ret_version, &raced);
                if (!raced || attempt >= LOAD_ATTEMPTS_MAX)
                        return r;
        }
}

/* "accounts/<ca>/<file>" into buf. */
static int account_path(const char *ca, const char *file, char *buf, size_t size) {
        if (!store_name_is_valid(ca))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "accounts/%s/%s", ca, file) >= size)
                return -ENAMETOOLONG;
        return 0;
}

#define ACCOUNT_PATH_MAX (sizeof("accounts//account.json") + STORE_NAME_MAX)

/* Create accounts/<ca> if needed, durably. */
static int account_dir(Store *s, const char *ca) {
        _cleanup_close_ int accounts_fd = -EBADF;
        int r;

        accounts_fd = open_subdir(s->dir_fd, "accounts");
        if (accounts_fd < 0)
                return accounts_fd;

        r = make_dir(accounts_fd, ca, MODE_DIR_PRIVATE);
        if (r < 0)
                return r;
        if (r > 0 && fsync(accounts_fd) < 0)
                return negative_errno();
        return 0;
}

int store_load_account_key(Store *s, const char *ca, EVP_PKEY **ret) {
        char path[ACCOUNT_PATH_MAX];
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = account_path(ca, "key.pem", path, sizeof(path));
        if (r < 0)
                return r;

        return load_key(s->dir_fd, path, ret);
}

int store_save_account_key(Store *s, const char *ca, EVP_PKEY *key) {
        _cleanup_(secret_done) Secret pem = {};
        char path[ACCOUNT_PATH_MAX];
        int r;

        if (!s || !key)
                return -EINVAL;
        r = account_path(ca, "key.pem", path, sizeof(path));
        if (r < 0)
                return r;

        r = key_to_pem(key, &pem.data, &pem.len);
        if (r < 0)
                return r;

        r = account_dir(s, ca);
        if (r < 0)
                return r;

        return write_file_atomic(s->dir_fd, path, pem.data, pem.len, MODE_KEY, (gid_t) -1);
}

int store_load_account_json(Store *s, const char *ca, char **ret) {
        char path[ACCOUNT_PATH_MAX];
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = account_path(ca, "account.json", path, sizeof(path));
        if (r < 0)
                return r;

        return read_file_at(s->dir_fd, path, STORE_JSON_MAX, ret, NULL);
}

int store_save_account_json(Store *s, const char *ca, const char *json) {
        char path[ACCOUNT_PATH_MAX];
        int r;

        if (!s || !json)
                return -EINVAL;
        r = account_path(ca, "account.json", path, sizeof(path));
        if (r < 0)
                return r;

        r = account_dir(s, ca);
        if (r < 0)
                return r;

        return write_file_atomic(s->dir_fd, path, json, strlen(json), MODE_KEY, (gid_t) -1);
}
