/* SPDX-License-Identifier: MIT */
/* The problems found while reading: each is recorded with its file and line, reading goes
 * on, and at the end all of them are handed back sorted as one "FILE:LINE: message"
 * text. */

#include <stdio.h>

#include "config-internal.h"
#include "strv.h"

/* Beyond this many problems the rest are only counted: nobody reads ten thousand. */
#define ERRORS_MAX 1000U

int parser_error_atv(Parser *p, size_t file, unsigned line, const char *fmt, va_list ap) {
        ConfigError *n;
        char *text;

        if (p->n_errors >= ERRORS_MAX) {
                p->n_dropped++;
                return -EINVAL;
        }
        if (vasprintf(&text, fmt, ap) < 0)
                return -ENOMEM;
        n = realloc(p->errors, (p->n_errors + 1) * sizeof *n);
        if (!n) {
                free(text);
                return -ENOMEM;
        }
        p->errors = n;
        p->errors[p->n_errors] = (ConfigError) { file, line, p->n_errors, text };
        p->n_errors++;
        return -EINVAL;
}

/* Record a problem at file:line (line 0: the file as a whole). Returns -EINVAL, so that
 * "return parser_error_at(…)" reports and fails in one go, or -ENOMEM. */
int parser_error_at(Parser *p, size_t file, unsigned line, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, file, line, fmt, ap);
        va_end(ap);
        return r;
}

/* Record a problem at the line being read; returns as parser_error_at(). */
int parser_error(Parser *p, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = parser_error_atv(p, p->file, p->line, fmt, ap);
        va_end(ap);
        return r;
}

/* Record that a file or directory could not be read (r, a negative errno): a problem
 * like any other, and the errno config_load() returns. Returns 0 or -ENOMEM. */
int parser_io_error(Parser *p, const char *display, int r, const char *what) {
        if (strv_extend(&p->files, display) < 0)
                return -ENOMEM;
        if (p->io_error == 0)
                p->io_error = r;
        if (r == -EFBIG)
                r = parser_error_at(p, strv_length(p->files) - 1, 0, "larger than %u bytes", CONFIG_FILE_SIZE_MAX);
        else
                r = parser_error_at(p, strv_length(p->files) - 1, 0, "cannot %s: %s", what, strerror(-r));
        return r == -ENOMEM ? r : 0;
}

static int error_compare(const void *a, const void *b) {
        const ConfigError *x = a, *y = b;

        if (x->file != y->file)
                return x->file < y->file ? -1 : 1;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All problems, sorted by file and line, as one text. Returns 0 or -ENOMEM. */
int parser_error_text(Parser *p, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        qsort(p->errors, p->n_errors, sizeof *p->errors, error_compare);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_errors; i++) {
                const ConfigError *e = &p->errors[i];
                if (i > 0)
                        fputc('\n', f);
                if (e->line > 0)
                        fprintf(f, "%s:%u: %s", p->files[e->file], e->line, e->text);
                else
                        fprintf(f, "%s: %s", p->files[e->file], e->text);
        }
        if (p->n_dropped > 0)
                fprintf(f, "\n(and %zu more problems)", p->n_dropped);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

void parser_errors_free(Parser *p) {
        for (size_t i = 0; i < p->n_errors; i++)
                free(p->errors[i].text);
        p->errors = mfree(p->errors);
        p->n_errors = 0;
}
