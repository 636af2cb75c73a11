/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "b64url.h"
#include "challenge-http01.h"
#include "macro.h"

bool http01_token_is_valid(const char *token) {
        /* A token is also a file name: no longer than NAME_MAX (255), or openat() fails with
         * ENAMETOOLONG after the directories were made. */
        return token && b64url_is_valid(token, HTTP01_TOKEN_MAX);
}

/* Open (creating if asked) one directory level below dir_fd without following symlinks. */
static int open_subdir(int dir_fd, const char *name, bool create) {
        bool made = false;
        int fd;

        if (create) {
                if (mkdirat(dir_fd, name, 0755) >= 0)
                        made = true;
                else if (errno != EEXIST)
                        return negative_errno();
        }
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* Like the file: the web server must traverse what we made, whatever the umask. */
        if (made && fchmod(fd, 0755) < 0) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        return fd;
}

static int open_challenge_dir(const char *webroot, bool create) {
        _cleanup_close_ int root = -EBADF, wk = -EBADF;

        root = open(webroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return negative_errno();
        wk = open_subdir(root, ".well-known", create);
        if (wk < 0)
                return wk;
        return open_subdir(wk, "acme-challenge", create);
}

static int write_all(int fd, const char *s, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, s, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                s += k;
                n -= (size_t) k;
        }
        return 0;
}

int http01_webroot_deploy(const char *webroot, const char *token, const char *key_authorization) {
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        int r;

        if (!http01_token_is_valid(token))
                return -EINVAL;
        dir = open_challenge_dir(webroot, true);
        if (dir < 0)
                return dir;

        for (int attempt = 0; attempt < 2; attempt++) {
                fd = openat(dir, token, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd >= 0 || errno != EEXIST)
                        break;
                /* Left over from an attempt that was killed: tokens are ours alone. */
                if (unlinkat(dir, token, 0) < 0 && errno != ENOENT)
                        return negative_errno();
        }
        if (fd < 0)
                return negative_errno();
        /* The web server runs as another user: make it readable whatever the umask. */
        if (fchmod(fd, 0644) < 0)
                r = negative_errno();
        else
                r = write_all(fd, key_authorization, strlen(key_authorization));
        if (r < 0) {
                (void) unlinkat(dir, token, 0);
                return r;
        }
        return 0;
}

int http01_webroot_remove(const char *webroot, const char *token) {
        _cleanup_close_ int dir = -EBADF;

        if (!http01_token_is_valid(token))
                return -EINVAL;
        dir = open_challenge_dir(webroot, false);
        if (dir == -ENOENT)
                return 0;
        if (dir < 0)
                return dir;
        if (unlinkat(dir, token, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}
