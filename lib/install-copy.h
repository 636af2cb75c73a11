/* SPDX-License-Identifier: MIT */
#pragma once

/* Extra copies of a renewed certificate for software that wants its own files, with its
 * own owner and mode: the full chain, the private key, and the two combined in one file
 * (the full chain followed by the key: HAProxy's "crt" format).
 *
 * Modes: the full chain gets mode. The key and the combined file hold the private key, so
 * they get install_copy_key_mode(mode) = mode & 0640: whatever mode asks for, a key is
 * never readable (nor writable, nor executable) by others, nor writable by the group.
 * E.g. 0644 gives 0640 for the key, 0600 gives 0600, 0444 gives 0440. Asking for a
 * world-readable key is not an error: the narrower mode is the documented outcome.
 *
 * Every file is replaced atomically (lib/fileio.h write_file_atomic_owner()): a temporary
 * file in the destination directory gets its final owner, group and mode before the first
 * byte, is fsynced and renamed over the destination, and the directory is fsynced. A
 * destination that is a symbolic link is itself replaced by the new file; the link is never
 * followed for writing (its target stays as it was). Directories are not created. */

#include <sys/types.h>

typedef struct InstallCopy {
        const char *fullchain_path;     /* absolute path, or NULL for no such copy */
        const char *key_path;           /* absolute path, or NULL */
        const char *combined_path;      /* absolute path, or NULL */
        uid_t uid;                      /* owner of all three, (uid_t) -1 = the writer's (no chown) */
        gid_t gid;                      /* group of all three, (gid_t) -1 = the writer's */
        mode_t mode;                    /* permission bits (≤ 0777) of the full chain; 0 = 0644 */
} InstallCopy;

/* The mode the key and combined files get when mode is asked for (0 meaning 0644): see
 * above. */
mode_t install_copy_key_mode(mode_t mode);

/* Write the copies c asks for: the key first, then the full chain, then the combined file,
 * so that software that reloads when it sees a new certificate finds the matching key
 * already in place. fullchain_pem is needed for the full chain and combined files, key_pem
 * for the key and combined files (NUL-terminated PEM text). A missing newline at the end of
 * fullchain_pem is added in the combined file so the key starts on a line of its own.
 *
 * Everything that can be checked (paths absolute and distinct, modes, the input present,
 * the destination directories openable) is checked before the first file is written. A
 * failure after that (a full disk) can leave some copies new and others old; calling again
 * with the same input completes the set.
 *
 * Returns 0 (also when c names no path at all) or a negative errno: -EINVAL for a bad
 * InstallCopy or missing input, -ENOENT/-ENOTDIR/-EACCES for a destination directory, -EPERM
 * when the owner cannot be changed, any error of writing. On failure, if ret_error_text is
 * not NULL, *ret_error_text is set to a newly allocated sentence naming the file and the
 * reason (or NULL if even that could not be allocated). */
int install_copy_write(const InstallCopy *c, const char *fullchain_pem, const char *key_pem,
                       char **ret_error_text);
