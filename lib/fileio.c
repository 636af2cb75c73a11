/* SPDX-License-Identifier: MIT */
/* Files on disk: atomic replacement, bounded reads, mkdir -p, directory fsync.
 *
 * write_file_atomic() follows the pattern of STYLE.md "Files on disk": the new content goes
 * into a file nobody can see yet (an O_TMPFILE inode, or failing that a randomly named
 * ".#name.XXXXXX" created O_EXCL), its group and exact mode are set before the first byte
 * is written, it is fsynced, then it takes the place of the old file in one rename(2), and
 * the directory is fsynced so the rename itself survives a crash. */

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "macro.h"

/* How often to draw a new random name when the previous one is taken. */
#define TEMP_NAME_ATTEMPTS 64

/* Write all of data to fd, retrying on EINTR and short writes. */
static int write_all(int fd, const void *data, size_t len) {
        const uint8_t *p = data;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Fill buf with n random characters from [A-Za-z0-9]. The names only need to be hard to
 * collide with, O_EXCL and link(2) refusing existing names do the rest, so when getrandom()
 * is unavailable a mix of the clock, the pid and the stack address is good enough. */
static void random_chars(char *buf, size_t n) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t rnd[16];

        if (n > sizeof(rnd))
                n = sizeof(rnd);

        if (getrandom(rnd, n, GRND_NONBLOCK) != (ssize_t) n) {
                struct timespec ts = {};
                uint64_t x;

                (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                x = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 32) ^ ((uint64_t) getpid() << 16) ^
                    (uint64_t) (uintptr_t) &ts;
                for (size_t i = 0; i < n; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        rnd[i] = (uint8_t) x;
                }
        }

        for (size_t i = 0; i < n; i++)
                buf[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
}

/* Make a temporary name ".#<base>.XXXXXX" in buf (NAME_MAX + 1 bytes), shortening base if
 * needed so the result is still a valid file name. */
static void temp_name(char buf[static NAME_MAX + 1], const char *base) {
        enum { SUFFIX = 6 };
        size_t max_base = NAME_MAX - (2 + 1 + SUFFIX);
        size_t l = strnlen(base, max_base);
        char *p = buf;

        *p++ = '.';
        *p++ = '#';
        memcpy(p, base, l);
        p += l;
        *p++ = '.';
        random_chars(p, SUFFIX);
        p += SUFFIX;
        *p = 0;
}

/* Split name into an open directory fd for its parent and a pointer to the last component.
 * Returns the fd or a negative errno. */
static int open_parent(int dir_fd, const char *name, const char **ret_base) {
        _cleanup_free_ char *dir = NULL;
        const char *slash, *base;
        int fd;

        slash = strrchr(name, '/');
        if (slash) {
                base = slash + 1;
                dir = slash == name ? strdup("/") : strndup(name, (size_t) (slash - name));
                if (!dir)
                        return -ENOMEM;
        } else
                base = name;

        if (isempty(base) || streq(base, ".") || streq(base, ".."))
                return -EINVAL;

        fd = openat(dir_fd, dir ?: ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        *ret_base = base;
        return fd;
}

/* Set group (unless gid is (gid_t) -1) and the exact mode: umask only narrows the mode
 * given at creation, and a chown may clear set-id bits, so both are applied explicitly, and
 * always before any content is written.
 *
 * With a new owner (uid not (uid_t) -1) the order is reversed: once the file belongs to
 * someone else, fchmod() would need CAP_FOWNER, which a daemon confined to CAP_CHOWN lacks.
 * Set-id bits would not survive that chown, so they are refused (-EINVAL) then. */
static int prepare_fd(int fd, mode_t mode, uid_t uid, gid_t gid) {
        if (uid != (uid_t) -1) {
                if (mode & (S_ISUID | S_ISGID))
                        return -EINVAL;
                if (fchmod(fd, mode & 07777) < 0)
                        return negative_errno();
                if (fchown(fd, uid, gid) < 0)
                        return negative_errno();
                return 0;
        }

        if (gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) < 0)
                return negative_errno();
        if (fchmod(fd, mode & 07777) < 0)
                return negative_errno();
        return 0;
}

/* Give the anonymous O_TMPFILE inode fd a random temporary name in parent_fd. Linking
 * through /proc/self/fd works without privileges; AT_EMPTY_PATH is the fallback when /proc
 * is not mounted (it needs CAP_DAC_READ_SEARCH). Writes the name to tmp. */
static int link_tmpfile(int fd, int parent_fd, const char *base, char tmp[static NAME_MAX + 1]) {
        char proc[sizeof("/proc/self/fd/") + 3 * sizeof(int)];

        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);

        for (unsigned attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
                temp_name(tmp, base);

                if (linkat(AT_FDCWD, proc, parent_fd, tmp, AT_SYMLINK_FOLLOW) >= 0)
                        return 0;
                if (errno == EEXIST)
                        continue;
                if (errno != ENOENT)
                        return negative_errno();

                /* No /proc? */
                if (linkat(fd, "", parent_fd, tmp, AT_EMPTY_PATH) >= 0)
                        return 0;
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

/* Create a new, empty, randomly named file in parent_fd with O_EXCL (for file systems
 * without O_TMPFILE). Writes the name to tmp and returns the fd. */
static int create_named_temp(int parent_fd, const char *base, mode_t mode, char tmp[static NAME_MAX + 1]) {
        for (unsigned attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
                int fd;

                temp_name(tmp, base);
                fd = openat(parent_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                            mode & 07777);
                if (fd >= 0)
                        return fd;
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

static int write_file_atomic_impl(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
                                  gid_t gid, bool noreplace) {
        _cleanup_close_ int parent_fd = -EBADF, fd = -EBADF;
        char tmp[NAME_MAX + 1] = "";
        const char *base = NULL;
        bool anonymous;
        int r;

        if (isempty(name) || (!data && len > 0))
                return -EINVAL;

        parent_fd = open_parent(dir_fd, name, &base);
        if (parent_fd < 0)
                return parent_fd;

        /* The anonymous inode starts with mode & ~umask, never wider than mode. Not when the
         * file is to get another owner, though: with fs.protected_hardlinks, linking an inode
         * that belongs to someone else needs CAP_FOWNER, so a named O_EXCL temporary file is
         * used then (it is as private: its mode and owner are final before it has content). */
        if (uid == (uid_t) -1) {
                fd = openat(parent_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 07777);
                /* No O_TMPFILE here (EISDIR: a kernel that predates it)? Then a named one. */
                if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR)
                        return negative_errno();
        }
        anonymous = fd >= 0;
        if (!anonymous) {
                fd = create_named_temp(parent_fd, base, mode, tmp);
                if (fd < 0)
                        return fd;
        }

        r = prepare_fd(fd, mode, uid, gid);
        if (r < 0)
                goto fail;

        r = write_all(fd, data, len);
        if (r < 0)
                goto fail;

        if (fsync(fd) < 0) {
                r = negative_errno();
                goto fail;
        }

        if (anonymous) {
                /* linkat(2) cannot replace an existing name, so the inode gets a temporary
                 * name first and the rename below puts it in place atomically. */
                r = link_tmpfile(fd, parent_fd, base, tmp);
                if (r < 0) {
                        tmp[0] = 0;
                        goto fail;
                }
        }

        if (noreplace ? renameat2(parent_fd, tmp, parent_fd, base, RENAME_NOREPLACE) < 0
                      : renameat(parent_fd, tmp, parent_fd, base) < 0) {
                r = negative_errno();
                goto fail;
        }
        tmp[0] = 0;

        if (fsync(parent_fd) < 0)
                return negative_errno();

        return 0;

fail:
        if (tmp[0])
                (void) unlinkat(parent_fd, tmp, 0);
        return r;
}

int write_file_atomic(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid) {
        return write_file_atomic_impl(dir_fd, name, data, len, mode, (uid_t) -1, gid, false);
}

int write_file_atomic_owner(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
                            gid_t gid) {
        return write_file_atomic_impl(dir_fd, name, data, len, mode, uid, gid, false);
}

int write_file_atomic_new(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid) {
        return write_file_atomic_impl(dir_fd, name, data, len, mode, (uid_t) -1, gid, true);
}

int write_file_new(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
        if (fd < 0)
                return negative_errno();
        r = prepare_fd(fd, mode, (uid_t) -1, gid);
        if (r >= 0)
                r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlinkat(dir_fd, name, 0);
        return r;
}

int read_file_at_full(int dir_fd, const char *path, int open_flags, size_t max_size, char **ret,
                      size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0, cap;

        if (isempty(path) || !ret)
                return -EINVAL;

        /* Keep max_size + 2 from overflowing. */
        if (max_size > SIZE_MAX / 2)
                max_size = SIZE_MAX / 2;

        /* O_NONBLOCK so that a FIFO in the way does not hang us before fstat() refuses it. */
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | open_flags);
        if (fd < 0)
                return negative_errno();

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uintmax_t) st.st_size > max_size)
                return -EFBIG;

        /* Room for the whole file, the NUL and one byte more, so that the usual case is one
         * read for the content and one that sees EOF. Files that grow meanwhile, or report
         * size 0 (procfs), make the buffer grow, up to max_size. */
        cap = (size_t) st.st_size + 2;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t k;

                if (n + 1 >= cap) {
                        size_t ncap;
                        char *nbuf;

                        if (n > max_size)
                                break;
                        ncap = cap < (max_size + 2) / 2 ? cap * 2 : max_size + 2;
                        if (ncap < 4096 && max_size + 2 >= 4096)
                                ncap = 4096;
                        /* Not realloc(): the content may be secret, so the old copy is
                         * wiped rather than left behind in freed memory. */
                        nbuf = malloc(ncap);
                        if (!nbuf) {
                                explicit_bzero(buf, n);
                                return -ENOMEM;
                        }
                        memcpy(nbuf, buf, n);
                        explicit_bzero(buf, n);
                        free(buf);
                        buf = nbuf;
                        cap = ncap;
                }

                k = read(fd, buf + n, cap - 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        explicit_bzero(buf, n);
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }

        if (n > max_size) {
                explicit_bzero(buf, n);
                return -EFBIG;
        }

        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int read_file_at(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_len) {
        return read_file_at_full(dir_fd, path, 0, max_size, ret, ret_len);
}

int mkdir_p_at(int dir_fd, const char *path, mode_t mode) {
        _cleanup_close_ int cur = -EBADF;
        const char *p;

        if (isempty(path))
                return -EINVAL;

        /* Walk down with directory fds, so each mkdirat() happens in the directory that was
         * just checked, not in whatever a path resolves to later. */
        if (path[0] == '/') {
                cur = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cur < 0)
                        return negative_errno();
        }

        p = path;
        for (;;) {
                char comp[NAME_MAX + 1];
                size_t l;
                bool created = false;
                int fd;

                p += strspn(p, "/");
                if (!*p)
                        break;

                l = strcspn(p, "/");
                if (l > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, l);
                comp[l] = 0;
                p += l;

                if (mkdirat(cur >= 0 ? cur : dir_fd, comp, mode & 07777) >= 0)
                        created = true;
                else if (errno != EEXIST)
                        return negative_errno();

                /* Existing components may be symlinks to directories, as with mkdir -p. */
                fd = openat(cur >= 0 ? cur : dir_fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();

                /* New directories get exactly mode, whatever the umask. */
                if (created && fchmod(fd, mode & 07777) < 0) {
                        int r = negative_errno();
                        safe_close(fd);
                        return r;
                }

                safe_close(cur);
                cur = fd;
        }

        return 0;
}

int fsync_dir_at(int dir_fd, const char *path) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, isempty(path) ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        if (fsync(fd) < 0)
                return negative_errno();

        return 0;
}
