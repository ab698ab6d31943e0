/*
 * Row to JSON for CDC sources: each column's PostgreSQL text value becomes a
 * JSON value by the column's kind (cdc/query.h), so that consumers get
 * numbers as numbers and timestamps as ISO-8601 UTC strings:
 *   integers           -> JSON number, verbatim
 *   float4/float8      -> JSON number; NaN and +-Infinity -> string
 *   numeric            -> JSON number verbatim when it has at most 15
 *                         significant digits (every such decimal survives a
 *                         round trip through a double), else the exact text
 *                         as a string; NaN/Infinity -> string
 *   boolean            -> true/false
 *   json/jsonb         -> embedded JSON
 *   timestamp(tz)      -> "2025-01-15T12:24:00Z" (fraction only when not zero)
 *   date               -> "2025-01-15"
 *   NULL               -> null
 *   anything else      -> string of PostgreSQL's text form (arrays "{1,2}",
 *                         bytea "\x..", uuid, interval...)
 * Invalid UTF-8 in a string is replaced by U+FFFD. Pure, any thread.
 */
#ifndef LS_CDC_ROW_H
#define LS_CDC_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "cdc/query.h"
#include "core/buf.h"

/* Appends s[0..len) as a JSON string (quotes included). */
void ls_cdc_json_string(ls_buf_t *out, const char *s, size_t len);

/* True when numeric text is finite with at most 15 significant digits. */
bool ls_cdc_numeric_is_exact_double(const char *s);

/* Appends one value; text is PostgreSQL's text form (NUL-terminated, len
 * bytes), ignored when is_null. */
void ls_cdc_value_json(ls_buf_t *out, ls_cdc_kind_t kind, const char *text, size_t len,
                       bool is_null);

#endif
