/* SPDX-License-Identifier: MIT */
#pragma once

/* A text table for people: a header row in capitals, columns as wide as their widest cell
 * (counted in characters, not bytes) two spaces apart, the last column not padded. Cells
 * are copied and sanitised (text_sanitize()), and a column may have a maximum width
 * beyond which its cells are truncated with "...". */

#include <stddef.h>
#include <stdio.h>

#include "macro.h"

typedef struct Table Table;

/* A table with n columns named by headers (n > 0). Returns 0, -EINVAL, -ENOMEM. */
int table_new(const char *const *headers, size_t n, Table **ret);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Cap column's width at width characters (0: no cap, the default). */
void table_set_max_width(Table *t, size_t column, size_t width);

/* The width of column as it stands: its widest cell or header, capped. */
size_t table_column_width(const Table *t, size_t column);

/* Append a row of exactly as many cells as columns; a NULL cell is shown as "-".
 * Returns 0 or -ENOMEM (nothing appended). */
int table_add_row(Table *t, const char *const *cells);

size_t table_rows(const Table *t);

/* Print header and rows to f. Returns 0, -ENOMEM or -EIO. */
int table_print(const Table *t, FILE *f);
