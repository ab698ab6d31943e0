/*
 * SQL text for CDC sources: validation and quoting of the identifiers a user
 * names (schema-qualified table, key and timestamp columns), the mapping of
 * column types to how a row value becomes JSON, and the builders of the
 * statements a source runs (catalog check, horizon, keyset poll, notify
 * trigger). Identifiers are the only outside input ever spliced into SQL
 * text, and only after ls_cdc_ident_valid() accepted them and
 * ls_cdc_quote_ident() quoted them; every value travels as a parameter.
 * Pure (no I/O), any thread.
 */
#ifndef LS_CDC_QUERY_H
#define LS_CDC_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* An identifier we accept: 1..63 bytes of [A-Za-z0-9_$]. It is always used
 * quoted, so it is case-sensitive ("Orders" is not orders) and may start
 * with a digit ("2025em_orders", as in the reference design). */
bool ls_cdc_ident_valid(const char *s);

/* Appends s as a double-quoted identifier (inner quotes doubled). */
void ls_cdc_quote_ident(ls_buf_t *out, const char *s);

/* A table name as given: "table" (schema "public") or "schema.table".
 * Fills schema and table (each >= 64 bytes). INVALID_ARGUMENT with path
 * "$.table" otherwise. */
ls_err_t ls_cdc_parse_table(const char *name, char *schema, char *table, ls_error_t *err);

/* How a column's text value becomes JSON. */
typedef enum {
    LS_CDC_KIND_STRING,      /* JSON string of PostgreSQL's text form */
    LS_CDC_KIND_INTEGER,     /* int2/int4/int8/oid: JSON number verbatim */
    LS_CDC_KIND_FLOAT,       /* float4/float8: number, or string for NaN/Infinity */
    LS_CDC_KIND_NUMERIC,     /* number when <= 15 significant digits, else string */
    LS_CDC_KIND_BOOL,        /* "t"/"f" -> true/false */
    LS_CDC_KIND_JSON,        /* json/jsonb: embedded as JSON */
    LS_CDC_KIND_TIMESTAMPTZ, /* ISO-8601 UTC string made in SQL */
    LS_CDC_KIND_TIMESTAMP,   /* same, the wall-clock value taken as UTC */
    LS_CDC_KIND_DATE,        /* date: "YYYY-MM-DD" made in SQL */
} ls_cdc_kind_t;

/* The kind for a base type OID (domains are resolved to their base type by
 * the catalog query). Unknown types are STRING. */
ls_cdc_kind_t ls_cdc_kind_for_type(uint32_t type_oid);

/* Key column types the keyset comparison supports, with the cast used for
 * the watermark parameter; NULL when the type cannot be a key. */
const char *ls_cdc_key_cast(uint32_t type_oid);

/* The catalog query: one row per column of $1 (a quoted, qualified name
 * passed as a parameter to to_regclass): name, base type oid, not-null flag,
 * plus per query the privilege and pg_stat_activity visibility checks in
 * the first row's extra columns (see query.c for the column order). */
extern const char ls_cdc_catalog_sql[];

/* The horizon query: clock_timestamp() and the oldest xact_start of other
 * backends of this database holding a transaction id, both as microseconds
 * since the epoch (the second NULL when none). */
extern const char ls_cdc_horizon_sql[];

typedef struct {
    const char *name;
    ls_cdc_kind_t kind;
} ls_cdc_column_t;

/* The keyset poll: SELECT ts_us, key::text, <columns> FROM table WHERE
 * (ts, key) > ($1, $2) [only when with_watermark] AND ts < horizon($3)
 * ORDER BY ts, key LIMIT batch. $1 and $3 are microseconds since the epoch;
 * $2 is the key's text form. Caller frees. */
char *ls_cdc_poll_sql(const char *schema, const char *table, const char *ts_column, bool ts_has_tz,
                      const char *key_column, const char *key_cast, const ls_cdc_column_t *columns,
                      size_t ncolumns, int batch, bool with_watermark);

/* Channel, trigger and function names of a source's NOTIFY trigger: an
 * identifier derived from a hash of the source name ("lakestream_cdc_<16 hex>"),
 * so any source name maps to a valid, fixed-length identifier. buf >= 32. */
void ls_cdc_channel_name(const char *source_name, char *buf, size_t size);

/* CREATE OR REPLACE FUNCTION schema.<channel>() ... NOTIFY <channel> ... */
char *ls_cdc_notify_function_sql(const char *schema, const char *channel);
/* CREATE OR REPLACE TRIGGER <channel> AFTER INSERT OR UPDATE ON table
 * FOR EACH STATEMENT EXECUTE FUNCTION schema.<channel>() */
char *ls_cdc_notify_trigger_sql(const char *schema, const char *table, const char *channel);
/* DROP TRIGGER IF EXISTS / DROP FUNCTION IF EXISTS for the same names. */
char *ls_cdc_drop_trigger_sql(const char *schema, const char *table, const char *channel);
char *ls_cdc_drop_function_sql(const char *schema, const char *channel);

#endif
