/*
 * SQL text for CDC sources (see query.h). Timestamps cross the boundary as
 * integer microseconds since the epoch so that the watermark compares
 * exactly (no float rounding, no DateStyle or TimeZone dependence);
 * extract(epoch ...) is numeric since PostgreSQL 14, hence exact.
 */
#include "cdc/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

bool ls_cdc_ident_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$'))
            return false;
    }
    return true;
}

void ls_cdc_quote_ident(ls_buf_t *out, const char *s)
{
    ls_buf_puts(out, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            ls_buf_puts(out, "\"\"");
        else
            ls_buf_append(out, p, 1);
    }
    ls_buf_puts(out, "\"");
}

ls_err_t ls_cdc_parse_table(const char *name, char *schema, char *table, ls_error_t *err)
{
    const char *dot = strchr(name, '.');
    char first[200];
    if (strlen(name) >= sizeof(first))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.table",
                                 "$.table is too long (at most schema.table, 63 bytes each)");
    if (dot == NULL) {
        snprintf(schema, 64, "public");
        snprintf(first, sizeof(first), "%s", name);
    } else {
        snprintf(first, sizeof(first), "%.*s", (int)(dot - name), name);
        if (!ls_cdc_ident_valid(first))
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.table",
                                     "$.table: schema name must be 1 to 63 of [A-Za-z0-9_$]");
        memcpy(schema, first, strlen(first) + 1); /* valid: at most 63 bytes */
        snprintf(first, sizeof(first), "%s", dot + 1);
    }
    if (!ls_cdc_ident_valid(first))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.table",
                                 "$.table must be TABLE or SCHEMA.TABLE, each 1 to 63 of "
                                 "[A-Za-z0-9_$] (names are used exactly as given, quoted)");
    memcpy(table, first, strlen(first) + 1);
    return LS_ERR_OK;
}

/* Type OIDs from pg_type.dat (stable across PostgreSQL versions). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
    OID_JSONB = 3802,
};

ls_cdc_kind_t ls_cdc_kind_for_type(uint32_t oid)
{
    switch (oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return LS_CDC_KIND_INTEGER;
    case OID_FLOAT4:
    case OID_FLOAT8:
        return LS_CDC_KIND_FLOAT;
    case OID_NUMERIC:
        return LS_CDC_KIND_NUMERIC;
    case OID_BOOL:
        return LS_CDC_KIND_BOOL;
    case OID_JSON:
    case OID_JSONB:
        return LS_CDC_KIND_JSON;
    case OID_TIMESTAMP:
        return LS_CDC_KIND_TIMESTAMP;
    case OID_TIMESTAMPTZ:
        return LS_CDC_KIND_TIMESTAMPTZ;
    case OID_DATE:
        return LS_CDC_KIND_DATE;
    default:
        return LS_CDC_KIND_STRING;
    }
}

const char *ls_cdc_key_cast(uint32_t oid)
{
    switch (oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return "int8";
    case OID_NUMERIC:
        return "numeric";
    case OID_TEXT:
    case OID_VARCHAR:
        return "text";
    case OID_UUID:
        return "uuid";
    default:
        return NULL;
    }
}

/* Columns: attname, base type oid, attnotnull; then (same on every row)
 * may_select, sees_all_activity. A domain resolves to its base type so that
 * a domain over integer is still a JSON number. */
const char ls_cdc_catalog_sql[] =
    "SELECT a.attname::text, "
    "(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)::int8, a.attnotnull, "
    "has_table_privilege(c.oid, 'SELECT'), "
    "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    "OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') "
    "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

const char ls_cdc_horizon_sql[] =
    "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8, "
    "(SELECT (extract(epoch FROM min(xact_start)) * 1000000)::int8 FROM pg_stat_activity "
    "WHERE backend_xid IS NOT NULL AND datname = current_database() "
    "AND pid <> pg_backend_pid())";

static void append_column_expr(ls_buf_t *b, const ls_cdc_column_t *col)
{
    ls_buf_t q = LS_BUF_INIT;
    ls_cdc_quote_ident(&q, col->name);
    switch (col->kind) {
    case LS_CDC_KIND_TIMESTAMPTZ:
        ls_buf_printf(b,
                      "CASE WHEN isfinite(%s) THEN to_char(%s AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') ELSE %s::text END",
                      q.data, q.data, q.data);
        break;
    case LS_CDC_KIND_TIMESTAMP:
        /* Wall-clock values without a zone are taken as UTC (documented). */
        ls_buf_printf(b,
                      "CASE WHEN isfinite(%s) THEN to_char(%s, "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') ELSE %s::text END",
                      q.data, q.data, q.data);
        break;
    case LS_CDC_KIND_DATE:
        ls_buf_printf(b, "CASE WHEN isfinite(%s) THEN to_char(%s, 'YYYY-MM-DD') ELSE %s::text END",
                      q.data, q.data, q.data);
        break;
    default:
        ls_buf_puts(b, q.data);
        break;
    }
    ls_buf_free(&q);
}

char *ls_cdc_poll_sql(const char *schema, const char *table, const char *ts_column, bool ts_has_tz,
                      const char *key_column, const char *key_cast, const ls_cdc_column_t *columns,
                      size_t ncolumns, int batch, bool with_watermark)
{
    ls_buf_t ts = LS_BUF_INIT, key = LS_BUF_INIT, b = LS_BUF_INIT;
    /* Qualified with the table's alias: ORDER BY would otherwise resolve a
     * bare name to the output column of the same name. */
    ls_buf_puts(&ts, "src.");
    ls_cdc_quote_ident(&ts, ts_column);
    ls_buf_puts(&key, "src.");
    ls_cdc_quote_ident(&key, key_column);
    /* The epoch as a value of the column's own type, so the comparison uses
     * the column's index and never converts the column. */
    const char *epoch = ts_has_tz ? "'epoch'::timestamptz" : "'epoch'::timestamp";
    ls_buf_printf(&b, "SELECT (extract(epoch FROM %s) * 1000000)::int8, %s::text", ts.data,
                  key.data);
    for (size_t i = 0; i < ncolumns; i++) {
        ls_buf_puts(&b, ", ");
        append_column_expr(&b, &columns[i]);
    }
    ls_buf_puts(&b, " FROM ");
    ls_cdc_quote_ident(&b, schema);
    ls_buf_puts(&b, ".");
    ls_cdc_quote_ident(&b, table);
    /* Only index-friendly conditions: a filter the planner cannot estimate
     * (isfinite()) turns the ordered index scan into a scan and sort of every
     * row past the watermark. The key is NOT NULL (checked at create); NULL
     * timestamps never compare; +infinity stays above the horizon and
     * -infinity below any watermark, so only the first poll excludes it. */
    if (with_watermark)
        ls_buf_printf(&b,
                      " AS src WHERE (%s, %s) > (%s + $1::int8 * interval '1 microsecond', $2::%s)",
                      ts.data, key.data, epoch, key_cast);
    else
        ls_buf_printf(&b, " AS src WHERE %s > '-infinity'", ts.data);
    /* The horizon is an instant; a timestamp without time zone column holds
     * wall-clock values of the writers' session time zone, which is taken to
     * be this session's (the server default). */
    if (ts_has_tz)
        ls_buf_printf(&b, " AND %s < 'epoch'::timestamptz + $%d::int8 * interval '1 microsecond'",
                      ts.data, with_watermark ? 3 : 1);
    else
        ls_buf_printf(&b,
                      " AND %s < ('epoch'::timestamptz + $%d::int8 * interval '1 microsecond') "
                      "AT TIME ZONE current_setting('TimeZone')",
                      ts.data, with_watermark ? 3 : 1);
    ls_buf_printf(&b, " ORDER BY %s, %s LIMIT %d", ts.data, key.data, batch);
    ls_buf_free(&ts);
    ls_buf_free(&key);
    return ls_buf_steal(&b, NULL);
}

void ls_cdc_channel_name(const char *source_name, char *buf, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)source_name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    snprintf(buf, size, "lakestream_cdc_%016llx", (unsigned long long)h);
}

static char *qualified(const char *schema, const char *name)
{
    ls_buf_t b = LS_BUF_INIT;
    ls_cdc_quote_ident(&b, schema);
    ls_buf_puts(&b, ".");
    ls_cdc_quote_ident(&b, name);
    return ls_buf_steal(&b, NULL);
}

char *ls_cdc_notify_function_sql(const char *schema, const char *channel)
{
    char *fn = qualified(schema, channel);
    /* The channel is our own hex name, safe inside the literal. An empty
     * payload lets PostgreSQL fold the notifications of one transaction. */
    char *sql = ls_asprintf("CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS "
                            "$lakestream$ BEGIN PERFORM pg_notify('%s', ''); RETURN NULL; END "
                            "$lakestream$",
                            fn, channel);
    free(fn);
    return sql;
}

char *ls_cdc_notify_trigger_sql(const char *schema, const char *table, const char *channel)
{
    char *fn = qualified(schema, channel);
    char *tbl = qualified(schema, table);
    ls_buf_t trig = LS_BUF_INIT;
    ls_cdc_quote_ident(&trig, channel);
    char *sql = ls_asprintf("CREATE OR REPLACE TRIGGER %s AFTER INSERT OR UPDATE ON %s "
                            "FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                            trig.data, tbl, fn);
    ls_buf_free(&trig);
    free(fn);
    free(tbl);
    return sql;
}

char *ls_cdc_drop_trigger_sql(const char *schema, const char *table, const char *channel)
{
    char *tbl = qualified(schema, table);
    ls_buf_t trig = LS_BUF_INIT;
    ls_cdc_quote_ident(&trig, channel);
    char *sql = ls_asprintf("DROP TRIGGER IF EXISTS %s ON %s", trig.data, tbl);
    ls_buf_free(&trig);
    free(tbl);
    return sql;
}

char *ls_cdc_drop_function_sql(const char *schema, const char *channel)
{
    char *fn = qualified(schema, channel);
    char *sql = ls_asprintf("DROP FUNCTION IF EXISTS %s()", fn);
    free(fn);
    return sql;
}
