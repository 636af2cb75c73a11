/* SPDX-License-Identifier: MIT */
#pragma once

/* What the parts of the config reader share; included by lib/config*.c only.
 *
 *   config.c          the Parser's life, loading files and drop-ins, the public entry points
 *   config-error.c    collecting problems and turning them into one "FILE:LINE: …" text
 *   config-syntax.c   the INI line reader: sections, key = value, comments, quotes, limits
 *   config-table.c    the section.key table and the value parsers
 *   config-value.c    what a valid name, address, URL, unit, group or number looks like
 *   config-check.c    checks that need several keys: when a [ca] closes, and for each
 *                     certificate once [defaults] are applied
 *   config-dump.c     the value printers and config_dump() */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* ---- characters and text ---- */

static inline bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static inline bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static inline char ascii_tolower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/* A C0 control character or DEL, tab included. */
static inline bool is_control(char c) {
        return (unsigned char) c < 0x20 || c == 0x7f;
}

/* config-syntax.c: the value syntax, shared with the parsers and the printers. */
char *config_strip(char *s);
int config_value_lex(char *s, char **ret);
int config_value_unquote(char *s, char **ret);
int config_split_words(const char *s, char ***ret);

/* config-value.c: checks of single values. */
int config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
int config_identifier_parse(const char *s, char **ret, const char **ret_problem);
bool config_dns_server_is_valid(const char *s);
bool config_group_is_valid(const char *s);
bool config_url_is_valid(const char *s, bool *ret_https);
bool config_token_is_valid(const char *s);

/* ---- the key table (config-table.c) ---- */

enum {
        SEC_DAEMON = 1 << 0,
        SEC_CA = 1 << 1,
        SEC_DEFAULTS = 1 << 2,
        SEC_CERT = 1 << 3,
        SEC_CERTLIKE = SEC_DEFAULTS | SEC_CERT,
        SEC_SKIP = 1 << 4, /* the body of a refused section: ignored */
};

enum {
        KEY_REQUIRED = 1 << 0, /* must be set, and not empty */
        KEY_WORDS = 1 << 1,    /* a list: the parser splits it, quotes and all */
};

typedef struct Parser Parser;
typedef struct ConfigKey ConfigKey;

/* Parse v (for scalars already unquoted; "" = unset) into *field, replacing what is
 * there. Returns 0, -EINVAL after reporting the problem, or -ENOMEM. */
typedef int (*ConfigParseFunc)(Parser *p, const ConfigKey *k, char *v, void *field);
/* Print the value of *field as parseable text. */
typedef void (*ConfigDumpFunc)(FILE *f, const ConfigKey *k, const void *field);

struct ConfigKey {
        unsigned sections;
        const char *name;
        ConfigParseFunc parse;
        ConfigDumpFunc dump;
        size_t offset;
        const char *def; /* parsed to initialise the field, and for "key ="; NULL: zero */
        unsigned flags;
        unsigned min, max; /* parse_unsigned */
};

/* Room for this many keys in the arrays indexed by key; config-table.c checks it. */
#define CONFIG_KEYS_MAX 64U

extern const ConfigKey config_keys[];
extern const size_t config_n_keys;

/* The index of key name in section, or SIZE_MAX. */
size_t config_key_index(unsigned section, const char *name);
#define CERT_KEY_INDEX(name) config_key_index(SEC_CERT, name)

int config_section_init(Parser *p, unsigned section, void *base);
int parser_assign(Parser *p, size_t i, char *v, void *base);

/* config-dump.c: the printers the table names. */
void config_dump_string(FILE *f, const ConfigKey *k, const void *field);
void config_dump_secret(FILE *f, const ConfigKey *k, const void *field);
void config_dump_words(FILE *f, const ConfigKey *k, const void *field);
void config_dump_unsigned(FILE *f, const ConfigKey *k, const void *field);
void config_dump_mode(FILE *f, const ConfigKey *k, const void *field);
void config_dump_bool(FILE *f, const ConfigKey *k, const void *field);
void config_dump_key_type(FILE *f, const ConfigKey *k, const void *field);
void config_dump_challenge(FILE *f, const ConfigKey *k, const void *field);

/* ---- the parser ---- */

/* Where each key of one section was set (0: not set), and whether its value was refused. */
typedef struct KeyLines {
        unsigned line[CONFIG_KEYS_MAX];
        bool bad[CONFIG_KEYS_MAX];
} KeyLines;

typedef struct CertState {
        size_t file;
        KeyLines keys;
} CertState;

typedef struct ConfigError {
        size_t file;
        unsigned line;
        size_t seq;
        char *text;
} ConfigError;

struct Parser {
        Config *config;
        char **files;           /* every file read, for messages */
        size_t file;            /* the one being read */
        unsigned line;
        bool dropin;

        unsigned section;       /* SEC_*, or 0 before the first header */
        unsigned section_line;
        size_t section_index;   /* which CA or certificate */
        char section_label[96]; /* "[ca NAME]" */

        KeyLines daemon;
        unsigned daemon_line;
        KeyLines ca;            /* of the open [ca] */
        KeyLines defaults;
        unsigned defaults_line;
        CertConfig defaults_cert; /* [defaults] parsed, to check values */
        char *defaults_raw[CONFIG_KEYS_MAX]; /* and as written, to apply to certificates */
        CertState *certs;       /* parallel to config->certs */

        ConfigError *errors;
        size_t n_errors;
        size_t n_dropped;
        int io_error;           /* first error reading a file */
};

/* config-error.c */
_printf_(4, 0) int parser_error_atv(Parser *p, size_t file, unsigned line, const char *fmt, va_list ap);
_printf_(4, 5) int parser_error_at(Parser *p, size_t file, unsigned line, const char *fmt, ...);
_printf_(2, 3) int parser_error(Parser *p, const char *fmt, ...);
int parser_io_error(Parser *p, const char *display, int r, const char *what);
int parser_error_text(Parser *p, char **ret);
void parser_errors_free(Parser *p);

/* config-syntax.c */
int parser_feed(Parser *p, const char *filename, const char *text, size_t len, bool dropin);

/* config-check.c */
int parser_close_section(Parser *p);
int parser_resolve(Parser *p);
