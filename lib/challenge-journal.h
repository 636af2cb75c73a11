/* SPDX-License-Identifier: MIT */
#pragma once

/* A journal of challenge files in web roots, so that a crash (kill -9, power loss) between
 * writing a challenge file and removing it leaves nothing behind for good: each file is
 * recorded under STATE_DIR/pending/<token> (content: the web root) before it is written
 * and forgotten after it is removed; at start-up every recorded file is removed. */

/* Record webroot/.well-known/acme-challenge/<token> (durably: fsynced). -EINVAL for a
 * token that is not a valid http-01 token or a relative webroot. */
int challenge_journal_add(int state_dir_fd, const char *webroot, const char *token);

/* Forget the record of token; a missing record is fine. */
int challenge_journal_remove(int state_dir_fd, const char *token);

/* Remove every recorded challenge file (through http01_webroot_remove()) and its record.
 * Returns the number of files cleaned up, or a negative errno if the journal cannot be
 * read; records that name a bad token or web root are dropped. */
int challenge_journal_sweep(int state_dir_fd);
