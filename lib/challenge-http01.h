/* SPDX-License-Identifier: MIT */
#pragma once

/* http-01 through a web server's document root (RFC 8555 §8.3): the key authorization is
 * written to WEBROOT/.well-known/acme-challenge/TOKEN and removed afterwards. */

#include <stdbool.h>

#define HTTP01_TOKEN_MAX 255 /* NAME_MAX: the token is a file name */

/* A token is safe to use as a file name only if it is base64url, non-empty and at most
 * HTTP01_TOKEN_MAX long: no '/', '.', NUL or anything else. */
bool http01_token_is_valid(const char *token);

/* Write the challenge file (mode 0644; directories 0755 created as needed). No path
 * component under webroot may be a symlink; the file is created with O_EXCL|O_NOFOLLOW
 * (a stale file of ours with the same token is replaced). -EINVAL for a bad token. */
int http01_webroot_deploy(const char *webroot, const char *token, const char *key_authorization);

/* Remove the challenge file; a missing file is fine. -EINVAL for a bad token. */
int http01_webroot_remove(const char *webroot, const char *token);
