/* SPDX-License-Identifier: MIT */
#pragma once

/* certbot's renewal/NAME.conf, read as certbot reads it (Python's configobj, the subset
 * certbot writes and a little more), so that renewctl import-certbot can take a server's
 * certificates over. A pure parser: text in, entries out.
 *
 * The syntax:
 *   # comment                   a whole line, or after a value (outside quotes)
 *   key = value                 at the top level or in the section above it
 *   [renewalparams]             a section; [[webroot_map]] one nested in the section
 *                               above it, [[[x]]] one level further, and so on
 *   key = a, b,                 a value with a comma is a list (a trailing comma is
 *                               allowed: "x," is a list of one); "," alone is empty
 *   key = 'a, b' / "a # b"      quotes keep commas and '#' (no escapes)
 *   key = '''..''' / """..."""  triple quotes, which may span lines
 *
 * Blank lines and indentation do not matter; a key belongs to the last section header
 * above it. Refused, as configobj refuses them: a line that is neither, a header whose
 * brackets do not match or that skips a level, a key or section given twice in one
 * section, an unterminated quote; and, beyond configobj, NUL bytes and control
 * characters (tab aside), and files over CERTBOT_CONF_SIZE_MAX. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define CERTBOT_CONF_SIZE_MAX (256U * 1024U)
/* Sections nest at most this deep ([renewalparams] is 1, [[webroot_map]] 2). */
#define CERTBOT_CONF_DEPTH_MAX 16U

typedef struct CertbotEntry {
        char *section;          /* "" at the top level, "renewalparams", "renewalparams/webroot_map" */
        char *key;
        char **values;          /* never NULL: one string for a scalar, the items of a list */
        bool is_list;
        unsigned line;          /* where the key is, counting from 1 */
} CertbotEntry;

typedef struct CertbotConf {
        CertbotEntry *entries;  /* in file order */
        size_t n_entries;
        char **sections;        /* the path of every section header, in file order */
} CertbotConf;

/* Parse len bytes of text. Returns 0, or -EINVAL for text that is not a renewal
 * configuration (-E2BIG above CERTBOT_CONF_SIZE_MAX) with, when ret_error is not NULL,
 * the reason as "line N: message" in *ret_error (NULL on success); -ENOMEM. */
int certbot_conf_parse(const char *text, size_t len, CertbotConf **ret, char **ret_error);

CertbotConf *certbot_conf_free(CertbotConf *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CertbotConf *, certbot_conf_free);

/* The entry key in section (a path as in CertbotEntry.section), or NULL. */
const CertbotEntry *certbot_conf_find(const CertbotConf *c, const char *section, const char *key);

/* Whether the file has that section header (also an empty one). */
bool certbot_conf_has_section(const CertbotConf *c, const char *section);

/* The text of a scalar, or of the single item of a list (certbot writes webroot_path =
 * /var/www/html, as a list of one). Returns 0 with a borrowed string, -ENOENT when the key
 * is not there, -EINVAL for a list of other than one item. */
int certbot_conf_get_string(const CertbotConf *c, const char *section, const char *key, const char **ret);

/* A boolean as certbot reads it: True or False in any case. Returns 1 or 0, -ENOENT when
 * the key is not there, -EINVAL for anything else. */
int certbot_conf_get_bool(const CertbotConf *c, const char *section, const char *key);
