/* SPDX-License-Identifier: MIT */
#pragma once

/* Files on disk, written so that a reader or a crash never sees half a file. */

#include <stddef.h>
#include <sys/types.h>

/* Write len bytes to dir_fd/name atomically: a temporary file in the same directory is
 * created with mode (so secrets are never readable by others, not even for an instant),
 * written, fsynced, renamed over name, and the directory fsynced. gid (or (gid_t)-1 to
 * leave it) is applied before any byte is written. Returns 0 or a negative errno. */
int write_file_atomic(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid);

/* As write_file_atomic(), and the owner is set to uid (or left, with (uid_t) -1) together
 * with the group, before any byte is written. Changing the owner needs CAP_CHOWN (-EPERM
 * otherwise) but not CAP_FOWNER: the temporary file is then a named one created O_EXCL,
 * whose mode is set before its owner. Set-id bits in mode with a new owner: -EINVAL. */
int write_file_atomic_owner(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid,
                            gid_t gid);

/* As write_file_atomic(), but never replaces an existing dir_fd/name: -EEXIST then (the
 * check and the rename are one atomic step). */
int write_file_atomic_new(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid);

/* Create dir_fd/name (which must not exist) with exactly mode and gid (-1 to leave it)
 * set before any byte is written, write len bytes and fsync it. The directory is not
 * fsynced: this is for files inside a new private directory that is itself moved into
 * place atomically afterwards (fsync the directory once, then). On failure the file is
 * removed. */
int write_file_new(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, gid_t gid);

/* Read a whole regular file relative to dir_fd (AT_FDCWD allowed), refusing files larger
 * than max_size (-EFBIG). The buffer is NUL-terminated; *ret_len excludes the NUL. */
int read_file_at(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_len);

/* read_file_at() with open_flags added to the openat() flags (O_NOFOLLOW to refuse a
 * symlink with -ELOOP). The buffer is wiped on every failure, so it may hold secrets.
 * Returns 0 or a negative errno. */
int read_file_at_full(int dir_fd, const char *path, int open_flags, size_t max_size, char **ret,
                      size_t *ret_len);

/* mkdir -p of path relative to dir_fd with mode for the directories it creates. */
int mkdir_p_at(int dir_fd, const char *path, mode_t mode);

/* fsync a directory by path relative to dir_fd. */
int fsync_dir_at(int dir_fd, const char *path);
