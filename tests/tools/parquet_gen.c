/*
 * parquet_gen SEED OUTDIR [FILES]: writes FILES (default 12) Parquet files
 * with lakestream's writer for random schemas and random data (nulls, empty
 * and null lists, list<list<double>>, structs, maps, unicode and empty strings,
 * integer extremes, NaN, infinities, huge and tiny doubles, zero rows, many
 * row groups, every type and codec), and next to each `<n>.parquet` a
 * `<n>.json` with the schema, every value in canonical form, and the
 * per-leaf results the writer reported. tests/e2e/parquet_readers.test.mjs
 * checks the files with DuckDB and hyparquet against the JSON (and our
 * reader, through parquet_dump). The generator itself never reads its files
 * back, so the expected values come from what was put, not what was read.
 *
 * Values are in the canonical JSON of parquet_json.h.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lake/parquet.h"
#include "parquet_json.h"

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int next_field_id;

static void add_random(ls_parquet_schema_t *s, int parent, const char *name, int depth,
                       int force_type)
{
    ls_error_t err;
    int t = force_type >= 0 ? force_type : (int)(rnd() % (LS_PARQUET_MAP + 1));
    if (depth >= 2 && (t == LS_PARQUET_STRUCT || t == LS_PARQUET_LIST || t == LS_PARQUET_MAP))
        t = LS_PARQUET_DOUBLE;
    int precision = 0, scale = 0;
    if (t == LS_PARQUET_FIXED)
        precision = 1 + (int)(rnd() % 20);
    if (t == LS_PARQUET_DECIMAL) {
        static const int ps[] = {1, 5, 9, 10, 18, 19, 25, 38};
        precision = ps[rnd() % 8];
        scale = (int)(rnd() % (unsigned)(precision + 1));
    }
    int idx = ls_parquet_schema_add(s, parent, name, (ls_parquet_type_t)t, rnd() % 3 != 0,
                                    next_field_id++, precision, scale, &err);
    if (idx < 0) {
        fprintf(stderr, "schema: %s\n", err.message);
        exit(1);
    }
    if (t == LS_PARQUET_LIST) {
        add_random(s, idx, "element", depth + 1, -1);
    } else if (t == LS_PARQUET_MAP) {
        /* keys: required, distinct per map (gen_value makes them so) */
        static const ls_parquet_type_t keys[] = {LS_PARQUET_STRING, LS_PARQUET_INT32,
                                                 LS_PARQUET_INT64};
        if (ls_parquet_schema_add(s, idx, "key", keys[rnd() % 3], false, next_field_id++, 0, 0,
                                  &err) < 0) {
            fprintf(stderr, "schema: %s\n", err.message);
            exit(1);
        }
        add_random(s, idx, "value", depth + 1, -1);
    } else if (t == LS_PARQUET_STRUCT) {
        int n = 1 + (int)(rnd() % 3);
        char nm[16];
        for (int i = 0; i < n; i++) {
            snprintf(nm, sizeof(nm), "f%d", i);
            add_random(s, idx, nm, depth + 1, -1);
        }
    }
}

static size_t utf8_put(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static double rnd_double(void)
{
    static const double sp[] = {0.0,     -0.0,     NAN,    INFINITY, -INFINITY,
                                DBL_MAX, -DBL_MAX, 5e-324, -5e-324,  2.2250738585072014e-308,
                                1e300,   -1e-300,  1.0};
    if (rnd() % 4 == 0)
        return sp[rnd() % (sizeof(sp) / sizeof(sp[0]))];
    double x = (double)(int64_t)rnd() / (double)(1ull << (rnd() % 60));
    return x;
}

static float rnd_float(void)
{
    static const float sp[] = {0.0f,    -0.0f,    NAN,      INFINITY, -INFINITY,
                               FLT_MAX, -FLT_MAX, 1.4e-45f, FLT_MIN,  3.5f};
    if (rnd() % 4 == 0)
        return sp[rnd() % (sizeof(sp) / sizeof(sp[0]))];
    return (float)((double)(int32_t)rnd() / (double)(1u << (rnd() % 20)));
}

static void fail(ls_parquet_writer_t *w, ls_err_t rc)
{
    if (rc) {
        fprintf(stderr, "parquet_gen: %s\n", ls_parquet_writer_error(w)->message);
        exit(1);
    }
}

static void gen_value(ls_parquet_writer_t *w, const ls_parquet_schema_t *s, int idx, FILE *f)
{
    const ls_parquet_node_t *n = ls_parquet_schema_node(s, idx);
    if (n->optional && rnd() % 5 == 0) {
        fail(w, ls_parquet_writer_put_null(w));
        fprintf(f, "null");
        return;
    }
    ls_parquet_value_t v = {.type = n->type};
    uint8_t buf[128];
    switch (n->type) {
    case LS_PARQUET_MAP: {
        size_t cnt = rnd() % 4 == 0 ? 0 : rnd() % 4;
        const ls_parquet_node_t *key = ls_parquet_schema_node(s, n->children[0]);
        fail(w, ls_parquet_writer_begin_map(w));
        fputc('[', f);
        for (size_t i = 0; i < cnt; i++) {
            ls_parquet_value_t k = {.type = key->type};
            char kb[32];
            if (key->type == LS_PARQUET_STRING) {
                int len = snprintf(kb, sizeof(kb), "k%zu-%d", i, (int)(rnd() % 100));
                k.v.bytes.ptr = (const uint8_t *)kb;
                k.v.bytes.len = (size_t)len;
                fail(w, ls_parquet_writer_put_bytes(w, kb, (size_t)len));
            } else if (key->type == LS_PARQUET_INT32) {
                k.v.i32 = (int32_t)(i * 1000 + rnd() % 1000) - 1500;
                fail(w, ls_parquet_writer_put_int32(w, k.v.i32));
            } else {
                k.v.i64 = (int64_t)(i * 1000 + rnd() % 1000) * 1000000007LL;
                fail(w, ls_parquet_writer_put_int64(w, k.v.i64));
            }
            fprintf(f, "%s[", i ? "," : "");
            json_value(f, &k);
            fputc(',', f);
            gen_value(w, s, n->children[1], f);
            fputc(']', f);
        }
        fail(w, ls_parquet_writer_end_map(w));
        fputc(']', f);
        return;
    }
    case LS_PARQUET_LIST: {
        size_t cnt = rnd() % 4 == 0 ? 0 : rnd() % 5;
        fail(w, ls_parquet_writer_begin_list(w));
        fputc('[', f);
        for (size_t i = 0; i < cnt; i++) {
            if (i)
                fputc(',', f);
            gen_value(w, s, n->children[0], f);
        }
        fail(w, ls_parquet_writer_end_list(w));
        fputc(']', f);
        return;
    }
    case LS_PARQUET_STRUCT:
        fail(w, ls_parquet_writer_begin_struct(w));
        fputc('{', f);
        for (int i = 0; i < n->n_children; i++) {
            if (i)
                fputc(',', f);
            fprintf(f, "\"%s\":", ls_parquet_schema_node(s, n->children[i])->name);
            gen_value(w, s, n->children[i], f);
        }
        fail(w, ls_parquet_writer_end_struct(w));
        fputc('}', f);
        return;
    case LS_PARQUET_BOOLEAN:
        v.v.b = rnd() & 1;
        fail(w, ls_parquet_writer_put_bool(w, v.v.b));
        break;
    case LS_PARQUET_INT32:
        switch (rnd() % 6) {
        case 0:
            v.v.i32 = INT32_MIN;
            break;
        case 1:
            v.v.i32 = INT32_MAX;
            break;
        case 2:
            v.v.i32 = (int32_t)(rnd() % 3);
            break;
        default:
            v.v.i32 = (int32_t)rnd();
        }
        fail(w, ls_parquet_writer_put_int32(w, v.v.i32));
        break;
    case LS_PARQUET_DATE:
        v.v.i32 = (int32_t)(rnd() % 100000) - 50000;
        fail(w, ls_parquet_writer_put_int32(w, v.v.i32));
        break;
    case LS_PARQUET_INT64:
        switch (rnd() % 6) {
        case 0:
            v.v.i64 = INT64_MIN;
            break;
        case 1:
            v.v.i64 = INT64_MAX;
            break;
        case 2:
            v.v.i64 = -(int64_t)(rnd() % 3);
            break;
        default:
            v.v.i64 = (int64_t)rnd();
        }
        fail(w, ls_parquet_writer_put_int64(w, v.v.i64));
        break;
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        v.v.i64 = (int64_t)(rnd() % 10000000000000000ull) - 5000000000000000ll;
        fail(w, ls_parquet_writer_put_int64(w, v.v.i64));
        break;
    case LS_PARQUET_TIME:
        v.v.i64 = (int64_t)(rnd() % 86400000000ull);
        fail(w, ls_parquet_writer_put_int64(w, v.v.i64));
        break;
    case LS_PARQUET_UUID:
    case LS_PARQUET_FIXED: {
        size_t len = n->type == LS_PARQUET_UUID ? 16 : (size_t)n->precision;
        for (size_t i = 0; i < len; i++)
            buf[i] = rnd() % 4 == 0 ? 0 : (uint8_t)rnd();
        v.v.bytes.ptr = buf;
        v.v.bytes.len = len;
        fail(w, ls_parquet_writer_put_bytes(w, buf, len));
        break;
    }
    case LS_PARQUET_FLOAT:
        v.v.f = rnd_float();
        fail(w, ls_parquet_writer_put_float(w, v.v.f));
        break;
    case LS_PARQUET_DOUBLE:
        v.v.d = rnd_double();
        fail(w, ls_parquet_writer_put_double(w, v.v.d));
        break;
    case LS_PARQUET_DECIMAL: {
        __int128 lim = 1;
        for (int i = 0; i < n->precision; i++)
            lim *= 10;
        __int128 x;
        switch (rnd() % 5) {
        case 0:
            x = lim - 1;
            break;
        case 1:
            x = -(lim - 1);
            break;
        case 2:
            x = 0;
            break;
        default:
            x = (__int128)(((unsigned __int128)rnd() << 64 | rnd()) % (unsigned __int128)lim) *
                (rnd() & 1 ? 1 : -1);
        }
        v.v.dec = x;
        fail(w, ls_parquet_writer_put_decimal(w, x));
        break;
    }
    case LS_PARQUET_STRING: {
        static const char *pool[] = {"",         "alpha",  "Ünïcödé", "日本語テキスト",
                                     "emoji 😀🎉", "a\"b\\c"};
        size_t len = 0;
        if (rnd() % 2) {
            const char *p = pool[rnd() % 6];
            len = strlen(p);
            memcpy(buf, p, len);
        } else {
            int cps = (int)(rnd() % 20);
            for (int i = 0; i < cps; i++) {
                uint32_t cp;
                switch (rnd() % 4) {
                case 0:
                    cp = 0x20 + (uint32_t)(rnd() % 0x5F);
                    break;
                case 1:
                    cp = 0x80 + (uint32_t)(rnd() % 0x700);
                    break;
                case 2:
                    cp = 0x4E00 + (uint32_t)(rnd() % 0x5000);
                    break;
                default:
                    cp = 0x1F300 + (uint32_t)(rnd() % 0x300);
                }
                len += utf8_put(buf + len, cp);
            }
        }
        v.v.bytes.ptr = buf;
        v.v.bytes.len = len;
        fail(w, ls_parquet_writer_put_bytes(w, buf, len));
        break;
    }
    default: {
        size_t len = rnd() % 17;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rnd();
        v.v.bytes.ptr = buf;
        v.v.bytes.len = len;
        fail(w, ls_parquet_writer_put_bytes(w, buf, len));
    }
    }
    json_value(f, &v);
}

typedef struct {
    FILE *f;
} sink_ctx_t;

static ls_err_t file_sink(void *ctx, const void *p, size_t n, ls_error_t *err)
{
    if (fwrite(p, 1, n, ((sink_ctx_t *)ctx)->f) != n)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "short write");
    return LS_ERR_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: parquet_gen SEED OUTDIR [FILES]\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 10);
    const char *dir = argv[2];
    int files = argc > 3 ? atoi(argv[3]) : 12;
    static const ls_parquet_codec_t codecs[] = {LS_PARQUET_ZSTD, LS_PARQUET_SNAPPY,
                                                LS_PARQUET_UNCOMPRESSED};
    static const char *codec_names[] = {"zstd", "snappy", "none"};
    for (int fi = 0; fi < files; fi++) {
        rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)fi * 7919 + 1;
        for (int i = 0; i < 10; i++)
            rnd();
        next_field_id = 1;
        ls_parquet_schema_t *s = ls_parquet_schema_new();
        char nm[16];
        int ncols = 0;
        if (fi == 0) {
            /* every type at top level, plus list<list<double>> and a struct */
            for (int t = 0; t <= LS_PARQUET_FIXED; t++) {
                snprintf(nm, sizeof(nm), "c%d", ncols++);
                add_random(s, 0, nm, 0, t);
            }
            ls_error_t err;
            int m = ls_parquet_schema_add(s, 0, "matrix", LS_PARQUET_LIST, true, next_field_id++, 0,
                                          0, &err);
            int inner = ls_parquet_schema_add(s, m, "element", LS_PARQUET_LIST, true,
                                              next_field_id++, 0, 0, &err);
            ls_parquet_schema_add(s, inner, "element", LS_PARQUET_DOUBLE, true, next_field_id++, 0,
                                  0, &err);
            snprintf(nm, sizeof(nm), "c%d", ncols++);
            add_random(s, 0, nm, 0, LS_PARQUET_STRUCT);
            snprintf(nm, sizeof(nm), "c%d", ncols++);
            add_random(s, 0, nm, 0, LS_PARQUET_MAP);
        } else {
            int n = 1 + (int)(rnd() % 6);
            for (int i = 0; i < n; i++) {
                snprintf(nm, sizeof(nm), "c%d", ncols++);
                add_random(s, 0, nm, 0, -1);
            }
        }
        ls_parquet_writer_options_t o;
        ls_parquet_writer_options_init(&o);
        int ci = fi % 3;
        o.codec = codecs[ci];
        o.zstd_level = 1 + fi % 5;
        o.dictionary = fi % 4 != 3;
        if (fi % 4 == 1) { /* dictionaries overflow mid-chunk and fall back to PLAIN */
            o.dictionary_max_entries = 16;
            o.dictionary_max_bytes = 256;
        }
        if (fi % 2 == 1) {
            o.row_group_bytes = 600 + rnd() % 1500; /* many row groups */
            o.page_bytes = 1024;
        }
        int rows = fi == 2 ? 0 : (int)(rnd() % 300);
        char path[4096];
        snprintf(path, sizeof(path), "%s/f%d.parquet", dir, fi);
        sink_ctx_t sc = {fopen(path, "wb")};
        snprintf(path, sizeof(path), "%s/f%d.json", dir, fi);
        FILE *jf = fopen(path, "w");
        if (!sc.f || !jf) {
            fprintf(stderr, "parquet_gen: cannot create files in %s\n", dir);
            return 1;
        }
        ls_parquet_writer_t *w;
        ls_error_t err;
        if (ls_parquet_writer_new(s, &o, file_sink, &sc, &w, &err)) {
            fprintf(stderr, "parquet_gen: %s\n", err.message);
            return 1;
        }
        char seedtxt[64];
        snprintf(seedtxt, sizeof(seedtxt), "%llu/%d", (unsigned long long)seed, fi);
        ls_parquet_writer_set_metadata(w, "lakestream.gen", seedtxt, &err);
        fprintf(
            jf,
            "{\"file\":\"f%d.parquet\",\"gen\":\"%s\",\"codec\":\"%s\",\"rows\":%d,\"schema\":[",
            fi, seedtxt, codec_names[ci], rows);
        const ls_parquet_node_t *root = ls_parquet_schema_node(s, 0);
        for (int i = 0; i < root->n_children; i++) {
            if (i)
                fputc(',', jf);
            json_schema(jf, s, root->children[i]);
        }
        fprintf(jf, "],\n\"data\":[\n");
        for (int r = 0; r < rows; r++) {
            fputc('{', jf);
            for (int i = 0; i < root->n_children; i++) {
                if (i)
                    fputc(',', jf);
                fprintf(jf, "\"%s\":", ls_parquet_schema_node(s, root->children[i])->name);
                gen_value(w, s, root->children[i], jf);
            }
            fail(w, ls_parquet_writer_end_row(w));
            fprintf(jf, "}%s\n", r + 1 < rows ? "," : "");
        }
        if (ls_parquet_writer_close(w, &err)) {
            fprintf(stderr, "parquet_gen: %s\n", err.message);
            return 1;
        }
        const ls_parquet_file_result_t *res = ls_parquet_writer_result(w);
        fprintf(jf, "],\n\"row_groups\":%d,\"file_size\":%llu,\"leaves\":[\n", res->row_group_count,
                (unsigned long long)res->file_size);
        for (int i = 0; i < res->column_count; i++) {
            const ls_parquet_column_result_t *c = &res->columns[i];
            fprintf(jf,
                    "{\"path\":\"%s\",\"field_id\":%d,\"type\":\"%s\",\"value_count\":%lld,"
                    "\"null_count\":%lld,\"nan_count\":%lld,\"compressed_size\":%lld",
                    c->path, c->field_id, type_name(c->type), (long long)c->value_count,
                    (long long)c->null_count, (long long)c->nan_count,
                    (long long)c->compressed_size);
            if (c->has_min_max) {
                fprintf(jf, ",\"min\":");
                json_value(jf, &c->min);
                fprintf(jf, ",\"max\":");
                json_value(jf, &c->max);
            }
            fprintf(jf, "}%s\n", i + 1 < res->column_count ? "," : "");
        }
        fprintf(jf, "]}\n");
        fclose(jf);
        fclose(sc.f);
        ls_parquet_writer_free(w);
        ls_parquet_schema_free(s);
    }
    return 0;
}
