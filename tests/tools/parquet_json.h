/*
 * Canonical JSON for Parquet values and schemas, shared by the test tools
 * parquet_gen (expected values) and parquet_dump (what our reader reads), and
 * understood by tests/e2e/parquet_readers.test.mjs: boolean, int32 and date as
 * numbers; int64 and timestamps as decimal strings; float/double as strings
 * ("%.9g"/"%.17g", "NaN", "Infinity", "-Infinity", "-0"); strings as JSON
 * strings; binary as lowercase hex; decimals as the unscaled integer string;
 * lists as arrays; maps as arrays of [key, value]; structs as objects; null
 * as null. Test code only.
 */
#ifndef LS_TESTS_PARQUET_JSON_H
#define LS_TESTS_PARQUET_JSON_H

#include <math.h>
#include <stdio.h>

#include "lake/parquet.h"

static inline const char *type_name(ls_parquet_type_t t)
{
    static const char *names[] = {"boolean", "int32",  "int64", "float",     "double",
                                  "string",  "binary", "date",  "timestamp", "timestamptz",
                                  "decimal", "time",   "uuid",  "fixed",     "struct",
                                  "list",    "map"};
    return names[t];
}

static inline void json_schema(FILE *f, const ls_parquet_schema_t *s, int idx)
{
    const ls_parquet_node_t *n = ls_parquet_schema_node(s, idx);
    fprintf(f, "{\"name\":\"%s\",\"type\":\"%s\",\"optional\":%s,\"field_id\":%d", n->name,
            type_name(n->type), n->optional ? "true" : "false", n->field_id);
    if (n->type == LS_PARQUET_DECIMAL)
        fprintf(f, ",\"precision\":%d,\"scale\":%d", n->precision, n->scale);
    if (n->type == LS_PARQUET_FIXED)
        fprintf(f, ",\"length\":%d", n->precision);
    if (n->type == LS_PARQUET_MAP) {
        fprintf(f, ",\"key\":");
        json_schema(f, s, n->children[0]);
        fprintf(f, ",\"value\":");
        json_schema(f, s, n->children[1]);
    }
    if (n->type == LS_PARQUET_LIST) {
        fprintf(f, ",\"element\":");
        json_schema(f, s, n->children[0]);
    } else if (n->type == LS_PARQUET_STRUCT) {
        fprintf(f, ",\"fields\":[");
        for (int i = 0; i < n->n_children; i++) {
            if (i)
                fputc(',', f);
            json_schema(f, s, n->children[i]);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static inline void json_string(FILE *f, const uint8_t *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            fprintf(f, "\\%c", p[i]);
        else if (p[i] < 0x20)
            fprintf(f, "\\u%04x", p[i]);
        else
            fputc(p[i], f);
    }
    fputc('"', f);
}

static inline void json_double(FILE *f, double d, bool is_float)
{
    if (isnan(d))
        fprintf(f, "\"NaN\"");
    else if (isinf(d))
        fprintf(f, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else if (d == 0)
        fprintf(f, signbit(d) ? "\"-0\"" : "\"0\"");
    else
        fprintf(f, is_float ? "\"%.9g\"" : "\"%.17g\"", d);
}

static inline void json_int128(FILE *f, __int128 v)
{
    char buf[64];
    int i = 63;
    buf[i] = 0;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        buf[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--i] = '-';
    fprintf(f, "\"%s\"", buf + i);
}

static inline void json_value(FILE *f, const ls_parquet_value_t *v)
{
    switch (v->type) {
    case LS_PARQUET_BOOLEAN:
        fprintf(f, v->v.b ? "true" : "false");
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        fprintf(f, "%d", v->v.i32);
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_TIME:
        fprintf(f, "\"%lld\"", (long long)v->v.i64);
        break;
    case LS_PARQUET_FLOAT:
        json_double(f, v->v.f, true);
        break;
    case LS_PARQUET_DOUBLE:
        json_double(f, v->v.d, false);
        break;
    case LS_PARQUET_DECIMAL:
        json_int128(f, v->v.dec);
        break;
    case LS_PARQUET_STRING:
        json_string(f, v->v.bytes.ptr, v->v.bytes.len);
        break;
    default:
        fputc('"', f);
        for (size_t i = 0; i < v->v.bytes.len; i++)
            fprintf(f, "%02x", v->v.bytes.ptr[i]);
        fputc('"', f);
    }
}

#endif
