/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "challenge-http01.h"
#include "challenge-journal.h"
#include "fileio.h"
#include "macro.h"

#define JOURNAL_DIR "pending"
#define WEBROOT_MAX 4096

static int open_journal(int state_dir_fd, bool create) {
        int fd;

        if (create && mkdirat(state_dir_fd, JOURNAL_DIR, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(state_dir_fd, JOURNAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

int challenge_journal_add(int state_dir_fd, const char *webroot, const char *token) {
        _cleanup_close_ int dir = -EBADF;

        if (!http01_token_is_valid(token) || !webroot || webroot[0] != '/' || strlen(webroot) >= WEBROOT_MAX)
                return -EINVAL;
        dir = open_journal(state_dir_fd, true);
        if (dir < 0)
                return dir;
        return write_file_atomic(dir, token, webroot, strlen(webroot), 0600, (gid_t) -1);
}

int challenge_journal_remove(int state_dir_fd, const char *token) {
        _cleanup_close_ int dir = -EBADF;

        if (!http01_token_is_valid(token))
                return -EINVAL;
        dir = open_journal(state_dir_fd, false);
        if (dir == -ENOENT)
                return 0;
        if (dir < 0)
                return dir;
        if (unlinkat(dir, token, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int challenge_journal_sweep(int state_dir_fd) {
        _cleanup_close_ int dir = -EBADF;
        DIR *d;
        struct dirent *de;
        int n = 0;

        dir = open_journal(state_dir_fd, false);
        if (dir == -ENOENT)
                return 0;
        if (dir < 0)
                return dir;
        d = fdopendir(dup(dir));
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                _cleanup_free_ char *webroot = NULL;
                size_t len;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_name[0] == '.') {
                        /* A temporary name of write_file_atomic() left by a crash. */
                        (void) unlinkat(dir, de->d_name, 0);
                        continue;
                }
                if (http01_token_is_valid(de->d_name) &&
                    read_file_at(dir, de->d_name, WEBROOT_MAX, &webroot, &len) >= 0 && webroot[0] == '/' &&
                    strlen(webroot) == len && http01_webroot_remove(webroot, de->d_name) >= 0)
                        n++;
                (void) unlinkat(dir, de->d_name, 0);
        }
        closedir(d);
        return n;
}
