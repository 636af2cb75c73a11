/* SPDX-License-Identifier: MIT */
/* Column-aligned tables for renewctl list. */

#include <stdlib.h>

#include "format.h"
#include "table.h"

struct Table {
        size_t n_columns;
        char **headers;         /* n_columns */
        size_t *max_width;      /* n_columns, 0 = no cap */
        char **cells;           /* n_rows * n_columns, row after row; cut to the caps when printed */
        size_t n_rows, n_allocated;
};

static void free_cells(char **cells, size_t n) {
        if (!cells)
                return;
        for (size_t i = 0; i < n; i++)
                free(cells[i]);
        free(cells);
}

int table_new(const char *const *headers, size_t n, Table **ret) {
        Table *t;

        if (!headers || n == 0 || !ret)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_columns = n;
        t->headers = calloc(n, sizeof(char *));
        t->max_width = calloc(n, sizeof(size_t));
        if (!t->headers || !t->max_width) {
                table_free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                t->headers[i] = text_sanitize(headers[i]);
                if (!t->headers[i]) {
                        table_free(t);
                        return -ENOMEM;
                }
        }
        *ret = t;
        return 0;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        free_cells(t->headers, t->n_columns);
        free_cells(t->cells, t->n_rows * t->n_columns);
        free(t->max_width);
        return mfree(t);
}

void table_set_max_width(Table *t, size_t column, size_t width) {
        if (!t || column >= t->n_columns)
                return;
        t->max_width[column] = width;
        /* Cells already added are cut when printed (see cell_text()). */
}

size_t table_rows(const Table *t) {
        return t ? t->n_rows : 0;
}

/* The cap of column, never below 4 (the room "x..." needs), or SIZE_MAX for none. */
static size_t column_cap(const Table *t, size_t column) {
        size_t w = t->max_width[column];

        return w == 0 ? SIZE_MAX : w < 4 ? 4 : w;
}

static size_t capped_width(const Table *t, size_t column, const char *s) {
        size_t w = text_width(s), cap = column_cap(t, column);

        return w < cap ? w : cap;
}

size_t table_column_width(const Table *t, size_t column) {
        size_t w;

        if (!t || column >= t->n_columns)
                return 0;
        w = capped_width(t, column, t->headers[column]);
        for (size_t r = 0; r < t->n_rows; r++) {
                size_t c = capped_width(t, column, t->cells[r * t->n_columns + column]);

                if (c > w)
                        w = c;
        }
        return w;
}

int table_add_row(Table *t, const char *const *cells) {
        size_t n;
        char **row;

        if (!t || !cells)
                return -EINVAL;

        if (t->n_rows == t->n_allocated) {
                size_t want = t->n_allocated ? t->n_allocated * 2 : 16;
                char **grown;

                if (want > SIZE_MAX / sizeof(char *) / t->n_columns)
                        return -ENOMEM;
                grown = realloc(t->cells, want * t->n_columns * sizeof(char *));
                if (!grown)
                        return -ENOMEM;
                t->cells = grown;
                t->n_allocated = want;
        }

        n = t->n_columns;
        row = t->cells + t->n_rows * n;
        for (size_t i = 0; i < n; i++) {
                row[i] = text_sanitize(cells[i] ? cells[i] : "-");
                if (!row[i]) {
                        for (size_t j = 0; j < i; j++)
                                row[j] = mfree(row[j]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

/* Print one row: each cell cut to its column's cap and padded to the column's width, the
 * last one unpadded. */
static int print_row(const Table *t, char *const *row, const size_t *widths, FILE *f) {
        for (size_t i = 0; i < t->n_columns; i++) {
                _cleanup_free_ char *s = strdup(row[i]);
                size_t w;

                if (!s)
                        return -ENOMEM;
                if (t->max_width[i] > 0)
                        text_truncate(s, column_cap(t, i));
                fputs(s, f);
                if (i + 1 == t->n_columns)
                        break;
                w = text_width(s);
                fprintf(f, "%*s", (int) (widths[i] - w + 2), "");
        }
        fputc('\n', f);
        return 0;
}

int table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = NULL;
        int r;

        if (!t || !f)
                return -EINVAL;
        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_columns; i++)
                widths[i] = table_column_width(t, i);

        r = print_row(t, t->headers, widths, f);
        for (size_t row = 0; r >= 0 && row < t->n_rows; row++)
                r = print_row(t, t->cells + row * t->n_columns, widths, f);
        if (r < 0)
                return r;
        return ferror(f) ? -EIO : 0;
}
