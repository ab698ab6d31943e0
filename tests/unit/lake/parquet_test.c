/*
 * Round-trip and robustness tests of the Parquet codec: random rows of a
 * schema covering every type and nesting are written and read back through
 * the visitor, compared as a canonical text trace; statistics, projection,
 * row-group skipping, writer misuse, and corrupted/truncated files (which
 * must give an error, never a crash: run under ASan).
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>

#include "core/alloc.h"
#include "lake/parquet.h"
#include "test.h"

typedef struct {
    char *data;
    size_t len, cap;
} text_t;

static void tx(text_t *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->data = ls_realloc(t->data, t->cap);
    }
    memcpy(t->data + t->len, buf, (size_t)n + 1);
    t->len += (size_t)n;
}

static void tx_value(text_t *t, const ls_parquet_value_t *v)
{
    switch (v->type) {
    case LS_PARQUET_BOOLEAN:
        tx(t, v->v.b ? "T," : "F,");
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        tx(t, "%d,", v->v.i32);
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_TIME:
        tx(t, "%lld,", (long long)v->v.i64);
        break;
    case LS_PARQUET_FLOAT: {
        uint32_t b;
        memcpy(&b, &v->v.f, 4);
        tx(t, "f%08x,", b);
        break;
    }
    case LS_PARQUET_DOUBLE: {
        uint64_t b;
        memcpy(&b, &v->v.d, 8);
        tx(t, "d%016llx,", (unsigned long long)b);
        break;
    }
    case LS_PARQUET_DECIMAL: {
        unsigned __int128 u = (unsigned __int128)v->v.dec;
        tx(t, "m%016llx%016llx,", (unsigned long long)(u >> 64), (unsigned long long)u);
        break;
    }
    default:
        tx(t, "s%zu:", v->v.bytes.len);
        for (size_t i = 0; i < v->v.bytes.len; i++)
            tx(t, "%02x", v->v.bytes.ptr[i]);
        tx(t, ",");
    }
}

static ls_err_t on_value(void *ctx, const ls_parquet_node_t *n, const ls_parquet_value_t *v)
{
    tx_value(ctx, v);
    return LS_ERR_OK;
}
static ls_err_t on_null(void *ctx, const ls_parquet_node_t *n)
{
    tx(ctx, "N,");
    return LS_ERR_OK;
}
static ls_err_t on_begin_list(void *ctx, const ls_parquet_node_t *n, size_t count)
{
    tx(ctx, "[%zu:", count);
    return LS_ERR_OK;
}
static ls_err_t on_end_list(void *ctx, const ls_parquet_node_t *n)
{
    tx(ctx, "],");
    return LS_ERR_OK;
}
static ls_err_t on_begin_struct(void *ctx, const ls_parquet_node_t *n)
{
    tx(ctx, "{");
    return LS_ERR_OK;
}
static ls_err_t on_end_struct(void *ctx, const ls_parquet_node_t *n)
{
    tx(ctx, "},");
    return LS_ERR_OK;
}
static ls_err_t on_end_row(void *ctx)
{
    tx(ctx, "\n");
    return LS_ERR_OK;
}

static ls_err_t on_begin_map(void *ctx, const ls_parquet_node_t *n, size_t count)
{
    tx(ctx, "<%zu:", count);
    return LS_ERR_OK;
}
static ls_err_t on_end_map(void *ctx, const ls_parquet_node_t *n)
{
    tx(ctx, ">,");
    return LS_ERR_OK;
}

static const ls_parquet_visitor_t trace_visitor = {
    .value = on_value,
    .null = on_null,
    .begin_list = on_begin_list,
    .end_list = on_end_list,
    .begin_struct = on_begin_struct,
    .end_struct = on_end_struct,
    .end_row = on_end_row,
    .begin_map = on_begin_map,
    .end_map = on_end_map,
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Schema: every primitive optional and required, a list<list<double>>, a list of structs, and a
 * struct holding a list. */
static ls_parquet_schema_t *make_schema(void)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    int fid = 1;
    static const ls_parquet_type_t prims[] = {
        LS_PARQUET_BOOLEAN,   LS_PARQUET_INT32,       LS_PARQUET_INT64,  LS_PARQUET_FLOAT,
        LS_PARQUET_DOUBLE,    LS_PARQUET_STRING,      LS_PARQUET_BINARY, LS_PARQUET_DATE,
        LS_PARQUET_TIMESTAMP, LS_PARQUET_TIMESTAMPTZ, LS_PARQUET_TIME,   LS_PARQUET_UUID};
    char name[32];
    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
        for (int opt = 0; opt < 2; opt++) {
            snprintf(name, sizeof(name), "p%zu_%d", i, opt);
            LS_REQUIRE(ls_parquet_schema_add(s, 0, name, prims[i], opt, fid++, 0, 0, &err) > 0);
        }
    LS_REQUIRE(ls_parquet_schema_add(s, 0, "dec9", LS_PARQUET_DECIMAL, true, fid++, 9, 2, &err) >
               0);
    LS_REQUIRE(ls_parquet_schema_add(s, 0, "dec18", LS_PARQUET_DECIMAL, false, fid++, 18, 4, &err) >
               0);
    LS_REQUIRE(ls_parquet_schema_add(s, 0, "dec38", LS_PARQUET_DECIMAL, true, fid++, 38, 10, &err) >
               0);
    LS_REQUIRE(ls_parquet_schema_add(s, 0, "fixed5", LS_PARQUET_FIXED, true, fid++, 5, 0, &err) >
               0);
    int ll = ls_parquet_schema_add(s, 0, "matrix", LS_PARQUET_LIST, true, fid++, 0, 0, &err);
    int inner = ls_parquet_schema_add(s, ll, "element", LS_PARQUET_LIST, true, fid++, 0, 0, &err);
    LS_REQUIRE(
        ls_parquet_schema_add(s, inner, "element", LS_PARQUET_DOUBLE, true, fid++, 0, 0, &err) > 0);
    int ls = ls_parquet_schema_add(s, 0, "points", LS_PARQUET_LIST, false, fid++, 0, 0, &err);
    int pt = ls_parquet_schema_add(s, ls, "element", LS_PARQUET_STRUCT, true, fid++, 0, 0, &err);
    LS_REQUIRE(ls_parquet_schema_add(s, pt, "x", LS_PARQUET_INT32, false, fid++, 0, 0, &err) > 0);
    LS_REQUIRE(ls_parquet_schema_add(s, pt, "label", LS_PARQUET_STRING, true, fid++, 0, 0, &err) >
               0);
    int st = ls_parquet_schema_add(s, 0, "meta", LS_PARQUET_STRUCT, true, fid++, 0, 0, &err);
    LS_REQUIRE(ls_parquet_schema_add(s, st, "id", LS_PARQUET_INT64, false, fid++, 0, 0, &err) > 0);
    int tags = ls_parquet_schema_add(s, st, "tags", LS_PARQUET_LIST, true, fid++, 0, 0, &err);
    LS_REQUIRE(
        ls_parquet_schema_add(s, tags, "element", LS_PARQUET_STRING, false, fid++, 0, 0, &err) > 0);
    int m = ls_parquet_schema_add(s, 0, "attrs", LS_PARQUET_MAP, true, fid++, 0, 0, &err);
    LS_REQUIRE(ls_parquet_schema_add(s, m, "key", LS_PARQUET_STRING, false, fid++, 0, 0, &err) > 0);
    int mv = ls_parquet_schema_add(s, m, "value", LS_PARQUET_LIST, true, fid++, 0, 0, &err);
    LS_REQUIRE(ls_parquet_schema_add(s, mv, "element", LS_PARQUET_INT32, true, fid++, 0, 0, &err) >
               0);
    int m2 = ls_parquet_schema_add(s, st, "counts", LS_PARQUET_MAP, false, fid++, 0, 0, &err);
    LS_REQUIRE(ls_parquet_schema_add(s, m2, "key", LS_PARQUET_INT64, false, fid++, 0, 0, &err) > 0);
    LS_REQUIRE(ls_parquet_schema_add(s, m2, "value", LS_PARQUET_DOUBLE, false, fid++, 0, 0, &err) >
               0);
    LS_REQUIRE(ls_parquet_schema_finish(s, &err) == LS_ERR_OK);
    return s;
}

static double pick_double(void)
{
    static const double specials[] = {0.0,      -0.0,      1e308, -1e308, 5e-324,
                                      INFINITY, -INFINITY, NAN,   1.5};
    if (rnd() % 4 == 0)
        return specials[rnd() % 9];
    return (double)(int64_t)rnd() / 1e6;
}

static void put_random(ls_parquet_writer_t *w, const ls_parquet_schema_t *s, int idx, text_t *t,
                       int low_card)
{
    const ls_parquet_node_t *n = ls_parquet_schema_node(s, idx);
    if (n->optional && rnd() % 5 == 0) {
        LS_CHECK_INT_EQ(ls_parquet_writer_put_null(w), LS_ERR_OK);
        tx(t, "N,");
        return;
    }
    ls_parquet_value_t v = {.type = n->type};
    char sbuf[64];
    switch (n->type) {
    case LS_PARQUET_STRUCT:
        LS_CHECK_INT_EQ(ls_parquet_writer_begin_struct(w), LS_ERR_OK);
        tx(t, "{");
        for (int i = 0; i < n->n_children; i++)
            put_random(w, s, n->children[i], t, low_card);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_struct(w), LS_ERR_OK);
        tx(t, "},");
        return;
    case LS_PARQUET_MAP: {
        size_t cnt = rnd() % 4;
        LS_CHECK_INT_EQ(ls_parquet_writer_begin_map(w), LS_ERR_OK);
        tx(t, "<%zu:", cnt);
        for (size_t i = 0; i < cnt; i++) {
            put_random(w, s, n->children[0], t, low_card);
            put_random(w, s, n->children[1], t, low_card);
        }
        LS_CHECK_INT_EQ(ls_parquet_writer_end_map(w), LS_ERR_OK);
        tx(t, ">,");
        return;
    }
    case LS_PARQUET_LIST: {
        size_t cnt = rnd() % 4;
        LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_OK);
        tx(t, "[%zu:", cnt);
        for (size_t i = 0; i < cnt; i++)
            put_random(w, s, n->children[0], t, low_card);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_list(w), LS_ERR_OK);
        tx(t, "],");
        return;
    }
    case LS_PARQUET_BOOLEAN:
        v.v.b = rnd() & 1;
        LS_CHECK_INT_EQ(ls_parquet_writer_put_bool(w, v.v.b), LS_ERR_OK);
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        v.v.i32 = low_card ? (int32_t)(rnd() % 5) - 2 : (int32_t)rnd();
        LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, v.v.i32), LS_ERR_OK);
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_TIME:
        v.v.i64 = rnd() % 7 == 0 ? (rnd() & 1 ? INT64_MIN : INT64_MAX) : (int64_t)rnd();
        LS_CHECK_INT_EQ(ls_parquet_writer_put_int64(w, v.v.i64), LS_ERR_OK);
        break;
    case LS_PARQUET_FLOAT:
        v.v.f = (float)pick_double();
        LS_CHECK_INT_EQ(ls_parquet_writer_put_float(w, v.v.f), LS_ERR_OK);
        break;
    case LS_PARQUET_DOUBLE:
        v.v.d = low_card ? (double)(rnd() % 3) : pick_double();
        LS_CHECK_INT_EQ(ls_parquet_writer_put_double(w, v.v.d), LS_ERR_OK);
        break;
    case LS_PARQUET_DECIMAL: {
        __int128 lim = 1;
        for (int i = 0; i < n->precision; i++)
            lim *= 10;
        __int128 x = (__int128)(((unsigned __int128)rnd() << 64 | rnd()) % (unsigned __int128)lim);
        if (rnd() & 1)
            x = -x;
        v.v.dec = x;
        LS_CHECK_INT_EQ(ls_parquet_writer_put_decimal(w, x), LS_ERR_OK);
        break;
    }
    case LS_PARQUET_UUID:
    case LS_PARQUET_FIXED: {
        size_t len = n->type == LS_PARQUET_UUID ? 16 : (size_t)n->precision;
        for (size_t i = 0; i < len; i++)
            sbuf[i] = low_card ? (char)(rnd() % 2) : (char)rnd();
        v.v.bytes.ptr = (const uint8_t *)sbuf;
        v.v.bytes.len = len;
        LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, sbuf, len), LS_ERR_OK);
        break;
    }
    default: {
        static const char *words[] = {"", "a", "é", "\xff\x01", "zz", "日本語", "Ω"};
        size_t len;
        if (low_card || rnd() % 2) {
            const char *wd = words[rnd() % 7];
            len = strlen(wd);
            memcpy(sbuf, wd, len);
        } else {
            len = rnd() % 40;
            for (size_t i = 0; i < len; i++)
                sbuf[i] = (char)(rnd() & 0xff);
        }
        v.v.bytes.ptr = (const uint8_t *)sbuf;
        v.v.bytes.len = len;
        LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, sbuf, len), LS_ERR_OK);
    }
    }
    tx_value(t, &v);
}

static uint8_t *write_random(const ls_parquet_schema_t *s, const ls_parquet_writer_options_t *o,
                             int rows, int low_card, text_t *expect, size_t *len_out,
                             int *n_rgs_out)
{
    ls_parquet_writer_t *w = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_parquet_writer_new(s, o, NULL, NULL, &w, &err) == LS_ERR_OK);
    const ls_parquet_node_t *root = ls_parquet_schema_node(s, 0);
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < root->n_children; i++)
            put_random(w, s, root->children[i], expect, low_card);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
        tx(expect, "\n");
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    const ls_parquet_file_result_t *res = ls_parquet_writer_result(w);
    LS_CHECK_INT_EQ(res->row_count, rows);
    if (n_rgs_out)
        *n_rgs_out = res->row_group_count;
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    LS_CHECK_INT_EQ(res->file_size, len);
    uint8_t *copy = ls_malloc(len);
    memcpy(copy, buf, len);
    *len_out = len;
    ls_parquet_writer_free(w);
    return copy;
}

static char *read_trace(const uint8_t *buf, size_t len, ls_err_t *rc_out)
{
    text_t got = {0};
    tx(&got, "%s", "");
    ls_parquet_reader_t *r = NULL;
    ls_error_t err;
    ls_err_t rc = ls_parquet_reader_open_memory(buf, len, &r, &err);
    for (int g = 0; !rc && g < ls_parquet_reader_num_row_groups(r); g++)
        rc = ls_parquet_reader_read_row_group(r, g, &trace_visitor, &got, &err);
    if (rc) {
        LS_CHECK(err.message[0] != 0);
        LS_CHECK(rc == LS_ERR_INVALID_ARGUMENT);
    }
    ls_parquet_reader_free(r);
    *rc_out = rc;
    return got.data;
}

LS_TEST(random_rows_round_trip_every_type_codec_and_encoding)
{
    ls_parquet_schema_t *s = make_schema();
    static const ls_parquet_codec_t codecs[] = {LS_PARQUET_ZSTD, LS_PARQUET_SNAPPY,
                                                LS_PARQUET_UNCOMPRESSED};
    for (int variant = 0; variant < 6; variant++) {
        rng_state = 0x9E3779B97F4A7C15ULL + (uint64_t)variant;
        ls_parquet_writer_options_t o;
        ls_parquet_writer_options_init(&o);
        o.codec = codecs[variant % 3];
        o.dictionary = variant < 3;
        o.row_group_bytes = variant % 2 ? 20000 : 1 << 20; /* many row groups or one */
        o.page_bytes = 2048;                               /* many pages */
        text_t expect = {0};
        size_t len;
        int n_rgs;
        uint8_t *file = write_random(s, &o, 700, variant == 1, &expect, &len, &n_rgs);
        if (variant % 2)
            LS_CHECK(n_rgs > 3);
        ls_err_t rc;
        char *got = read_trace(file, len, &rc);
        LS_CHECK_INT_EQ(rc, LS_ERR_OK);
        LS_CHECK(got && strcmp(got, expect.data) == 0);
        free(got);
        free(expect.data);
        free(file);
    }
    ls_parquet_schema_free(s);
}

LS_TEST(zero_rows_write_a_readable_file_with_no_row_groups)
{
    ls_parquet_schema_t *s = make_schema();
    text_t expect = {0};
    tx(&expect, "%s", "");
    size_t len;
    int n_rgs;
    uint8_t *file = write_random(s, NULL, 0, 0, &expect, &len, &n_rgs);
    LS_CHECK_INT_EQ(n_rgs, 0);
    ls_parquet_reader_t *r = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_parquet_reader_open_memory(file, len, &r, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_reader_num_rows(r), 0);
    LS_CHECK_INT_EQ(ls_parquet_reader_num_row_groups(r), 0);
    LS_CHECK(strstr(ls_parquet_reader_created_by(r), "lakestream") != NULL);
    const ls_parquet_schema_t *rs = ls_parquet_reader_schema(r);
    LS_CHECK_INT_EQ(ls_parquet_schema_node_count(rs), ls_parquet_schema_node_count(s));
    int dec = ls_parquet_schema_find_path(rs, "dec38");
    LS_REQUIRE(dec > 0);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, dec)->precision, 38);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, dec)->scale, 10);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, dec)->type_length, 16);
    int tz = ls_parquet_schema_find_path(rs, "p9_1");
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, tz)->type, LS_PARQUET_TIMESTAMPTZ);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, ls_parquet_schema_find_path(rs, "p8_0"))->type,
                    LS_PARQUET_TIMESTAMP);
    int el = ls_parquet_schema_find_path(rs, "matrix.element.element");
    LS_REQUIRE(el > 0);
    LS_CHECK_STR_EQ(ls_parquet_schema_node(rs, el)->path, "matrix.list.element.list.element");
    LS_CHECK_INT_EQ(
        ls_parquet_schema_node(rs, el)->field_id,
        ls_parquet_schema_node(s, ls_parquet_schema_find_path(s, "matrix.element.element"))
            ->field_id);
    ls_parquet_reader_free(r);
    free(file);
    free(expect.data);
    ls_parquet_schema_free(s);
}

/* A flat schema with values chosen so that signed and unsigned orders differ. */
LS_TEST(statistics_order_strings_unsigned_ints_signed_and_skip_nan)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    ls_parquet_schema_add(s, 0, "i", LS_PARQUET_INT64, true, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "s", LS_PARQUET_STRING, false, 2, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "d", LS_PARQUET_DOUBLE, false, 3, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "m", LS_PARQUET_DECIMAL, false, 4, 30, 0, &err);
    ls_parquet_writer_t *w;
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    o.row_group_bytes = 1; /* one row per row group: stats merge across groups */
    LS_REQUIRE(ls_parquet_writer_new(s, &o, NULL, NULL, &w, &err) == LS_ERR_OK);
    const char *strs[] = {"b", "\xc3\xa9", "a", "ab"};
    double ds[] = {NAN, -2.5, 7.0, NAN};
    __int128 ms[] = {-1, 5, -((__int128)1 << 90), 3};
    for (int i = 0; i < 4; i++) {
        if (i == 2)
            ls_parquet_writer_put_null(w);
        else
            ls_parquet_writer_put_int64(w, i == 0 ? -5 : i == 1 ? 3 : INT64_MIN + 1);
        ls_parquet_writer_put_bytes(w, strs[i], strlen(strs[i]));
        ls_parquet_writer_put_double(w, ds[i]);
        ls_parquet_writer_put_decimal(w, ms[i]);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    const ls_parquet_file_result_t *res = ls_parquet_writer_result(w);
    LS_CHECK_INT_EQ(res->row_group_count, 4);
    LS_CHECK_INT_EQ(res->columns[0].value_count, 4);
    LS_CHECK_INT_EQ(res->columns[0].null_count, 1);
    LS_CHECK_INT_EQ(res->columns[0].min.v.i64, INT64_MIN + 1);
    LS_CHECK_INT_EQ(res->columns[0].max.v.i64, 3);
    LS_CHECK_INT_EQ(res->columns[1].min.v.bytes.len, 1);
    LS_CHECK(memcmp(res->columns[1].min.v.bytes.ptr, "a", 1) == 0);
    LS_CHECK_INT_EQ(res->columns[1].max.v.bytes.len, 2);
    LS_CHECK(memcmp(res->columns[1].max.v.bytes.ptr, "\xc3\xa9", 2) == 0);
    LS_CHECK_INT_EQ(res->columns[2].nan_count, 2);
    LS_CHECK(res->columns[2].min.v.d == -2.5 && res->columns[2].max.v.d == 7.0);
    LS_CHECK(res->columns[3].min.v.dec == -((__int128)1 << 90));
    LS_CHECK(res->columns[3].max.v.dec == 5);
    LS_CHECK(res->columns[0].compressed_size > 0);
    LS_CHECK_INT_EQ(res->columns[3].field_id, 4);

    /* The reader sees the same per-row-group statistics and can skip by them. */
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    ls_parquet_reader_t *r;
    LS_REQUIRE(ls_parquet_reader_open_memory(buf, len, &r, &err) == LS_ERR_OK);
    int matching = -1, n_match = 0;
    for (int g = 0; g < ls_parquet_reader_num_row_groups(r); g++) {
        ls_parquet_chunk_stats_t cs;
        LS_CHECK_INT_EQ(ls_parquet_reader_chunk_stats(r, g, 1, &cs, &err), LS_ERR_OK);
        LS_CHECK(cs.has_min_max);
        /* predicate: s = "ab" */
        if (cs.min.v.bytes.len == 2 && memcmp(cs.min.v.bytes.ptr, "ab", 2) == 0) {
            matching = g;
            n_match++;
        }
    }
    LS_CHECK_INT_EQ(n_match, 1);
    ls_parquet_chunk_stats_t cs;
    LS_CHECK_INT_EQ(ls_parquet_reader_chunk_stats(r, 0, 2, &cs, &err), LS_ERR_OK);
    LS_CHECK(!cs.has_min_max); /* all NaN: no min/max */
    LS_CHECK_INT_EQ(ls_parquet_reader_chunk_stats(r, 2, 0, &cs, &err), LS_ERR_OK);
    LS_CHECK(cs.has_null_count && cs.null_count == 1 && !cs.has_min_max);
    /* projection by field id: only the decimal */
    int32_t ids[] = {4};
    LS_CHECK_INT_EQ(ls_parquet_reader_select_field_ids(r, ids, 1, &err), LS_ERR_OK);
    text_t got = {0};
    LS_CHECK_INT_EQ(ls_parquet_reader_read_row_group(r, matching, &trace_visitor, &got, &err),
                    LS_ERR_OK);
    LS_CHECK_STR_EQ(got.data, "m00000000000000000000000000000003,\n");
    free(got.data);
    const char *paths[] = {"s", "i"};
    got = (text_t){0};
    LS_CHECK_INT_EQ(ls_parquet_reader_select_paths(r, paths, 2, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_reader_read_row_group(r, 2, &trace_visitor, &got, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(got.data, "N,s1:61,\n");
    free(got.data);
    int32_t bad_ids[] = {99};
    LS_CHECK_INT_EQ(ls_parquet_reader_select_field_ids(r, bad_ids, 1, &err), LS_ERR_NOT_FOUND);
    ls_parquet_reader_free(r);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

LS_TEST(writer_rejects_misuse_and_recovers_after_abort_row)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, 0, "a", LS_PARQUET_DECIMAL, false, 1, 40, 0, &err),
                    -1);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, 7, "a", LS_PARQUET_INT32, false, 1, 0, 0, &err), -1);
    int a = ls_parquet_schema_add(s, 0, "a", LS_PARQUET_INT32, false, 1, 0, 0, &err);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, 0, "a", LS_PARQUET_INT32, false, 2, 0, 0, &err), -1);
    int l = ls_parquet_schema_add(s, 0, "l", LS_PARQUET_LIST, true, 2, 0, 0, &err);
    LS_CHECK(a > 0 && l > 0);
    ls_parquet_writer_t *w;
    LS_CHECK_INT_EQ(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err), LS_ERR_INVALID_ARGUMENT);
    ls_parquet_schema_add(s, l, "element", LS_PARQUET_DECIMAL, false, 3, 4, 1, &err);
    LS_REQUIRE(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_null(w), LS_ERR_INVALID_ARGUMENT); /* required */
    LS_CHECK(strstr(ls_parquet_writer_error(w)->message, "required") != NULL);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_double(w, 1), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 7), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 123456), LS_ERR_INVALID_ARGUMENT); /* > 10^4 */
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 12), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_INVALID_ARGUMENT); /* list open */
    LS_CHECK_INT_EQ(ls_parquet_writer_close(w, &err), LS_ERR_FAILED_PRECONDITION);
    ls_parquet_writer_abort_row(w);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 8), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int64(w, -9999), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_list(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 1), LS_ERR_INVALID_ARGUMENT); /* no field */
    LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    ls_err_t rc;
    char *got = read_trace(buf, len, &rc);
    LS_CHECK_INT_EQ(rc, LS_ERR_OK);
    LS_CHECK_STR_EQ(got, "8,[1:mffffffffffffffffffffffffffffd8f1,],\n");
    free(got);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

LS_TEST(corrupt_and_truncated_files_give_errors_not_crashes)
{
    ls_parquet_schema_t *s = make_schema();
    rng_state = 42;
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    o.row_group_bytes = 3000;
    o.page_bytes = 1024;
    text_t expect = {0};
    size_t len;
    uint8_t *file = write_random(s, &o, 25, 0, &expect, &len, NULL);
    ls_err_t rc;
    ls_parquet_reader_t *r;
    ls_error_t err;
    /* wrong magic, footer length past the file */
    uint8_t *bad = ls_malloc(len);
    memcpy(bad, file, len);
    bad[0] = 'X';
    LS_CHECK_INT_EQ(ls_parquet_reader_open_memory(bad, len, &r, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "magic") != NULL);
    memcpy(bad, file, len);
    uint32_t huge = 0x7fffffff;
    memcpy(bad + len - 8, &huge, 4);
    LS_CHECK_INT_EQ(ls_parquet_reader_open_memory(bad, len, &r, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "footer length") != NULL);
    /* every truncation: the tail moves, so it must fail cleanly */
    int failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        char *got = read_trace(file, cut, &rc);
        failures += rc != LS_ERR_OK;
        free(got);
    }
    LS_CHECK_INT_EQ(failures, (long long)len);
    /* truncation that keeps a valid tail: drop bytes from the middle */
    for (size_t cut = 4; cut + 1 < len; cut += 7) {
        size_t n = len - cut < 64 ? len - cut - 1 : 64;
        memcpy(bad, file, cut);
        memcpy(bad + cut, file + cut + n, len - cut - n);
        char *got = read_trace(bad, len - n, &rc);
        free(got);
    }
    /* random byte flips with a fixed seed: no crash; results either error or decode */
    rng_state = 7;
    int errors = 0, flips = 4000;
    for (int i = 0; i < flips; i++) {
        memcpy(bad, file, len);
        int k = 1 + (int)(rnd() % 3);
        for (int j = 0; j < k; j++)
            bad[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        if (rnd() % 4 == 0) /* aim at the footer where sizes live */
            bad[len - 9 - rnd() % 200] = (uint8_t)rnd();
        char *got = read_trace(bad, len, &rc);
        errors += rc != LS_ERR_OK;
        free(got);
    }
    LS_CHECK(errors > flips / 10);
    free(bad);
    free(file);
    free(expect.data);
    ls_parquet_schema_free(s);
}

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t calls, bytes;
} counting_file_t;

static ls_err_t counting_read(void *ctx, uint64_t off, size_t len, void *buf, ls_error_t *err)
{
    counting_file_t *f = ctx;
    if (off > f->len || len > f->len - off)
        return ls_error_set(err, LS_ERR_INTERNAL, "read out of range");
    memcpy(buf, f->data + off, len);
    f->calls++;
    f->bytes += len;
    return LS_ERR_OK;
}

static ls_err_t count_rows(void *ctx)
{
    (*(int64_t *)ctx)++;
    return LS_ERR_OK;
}

LS_TEST(reader_streams_one_row_group_and_only_projected_chunks)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    ls_parquet_schema_add(s, 0, "id", LS_PARQUET_INT64, false, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "payload", LS_PARQUET_BINARY, false, 2, 0, 0, &err);
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    o.row_group_bytes = 200000;
    o.codec = LS_PARQUET_UNCOMPRESSED;
    ls_parquet_writer_t *w;
    LS_REQUIRE(ls_parquet_writer_new(s, &o, NULL, NULL, &w, &err) == LS_ERR_OK);
    uint8_t blob[1000];
    rng_state = 99;
    for (int i = 0; i < 2000; i++) {
        for (size_t k = 0; k < sizeof(blob); k++)
            blob[k] = (uint8_t)rnd();
        ls_parquet_writer_put_int64(w, i);
        ls_parquet_writer_put_bytes(w, blob, sizeof(blob));
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    counting_file_t f = {0};
    f.data = ls_parquet_writer_buffer(w, &f.len);
    ls_parquet_reader_t *r;
    LS_REQUIRE(ls_parquet_reader_open(counting_read, &f, f.len, &r, &err) == LS_ERR_OK);
    int n_rgs = ls_parquet_reader_num_row_groups(r);
    LS_CHECK(n_rgs >= 8);
    int32_t ids[] = {1};
    LS_CHECK_INT_EQ(ls_parquet_reader_select_field_ids(r, ids, 1, &err), LS_ERR_OK);
    size_t before = f.bytes, calls = f.calls;
    int64_t rows = 0;
    ls_parquet_visitor_t v = {.end_row = count_rows};
    LS_CHECK_INT_EQ(ls_parquet_reader_read_row_group(r, 3, &v, &rows, &err), LS_ERR_OK);
    ls_parquet_chunk_stats_t cs;
    ls_parquet_reader_chunk_stats(r, 3, 0, &cs, &err);
    LS_CHECK_INT_EQ(rows, ls_parquet_reader_row_group_rows(r, 3));
    LS_CHECK_INT_EQ(f.calls - calls, 1);                   /* one range read */
    LS_CHECK_INT_EQ(f.bytes - before, cs.compressed_size); /* of the id chunk only */
    LS_CHECK(f.bytes < f.len / 4);
    ls_parquet_reader_free(r);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

static ls_err_t failing_sink(void *ctx, const void *p, size_t n, ls_error_t *err)
{
    size_t *budget = ctx;
    if (n > *budget)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "disk full");
    *budget -= n;
    return LS_ERR_OK;
}

LS_TEST(writer_reports_sink_errors_and_rejects_oversized_rows)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    int l = ls_parquet_schema_add(s, 0, "xs", LS_PARQUET_LIST, false, 1, 0, 0, &err);
    ls_parquet_schema_add(s, l, "element", LS_PARQUET_BOOLEAN, false, 2, 0, 0, &err);
    size_t budget = 100;
    ls_parquet_writer_t *w;
    LS_REQUIRE(ls_parquet_writer_new(s, NULL, failing_sink, &budget, &w, &err) == LS_ERR_OK);
    /* one row with more list elements than a chunk may hold is rejected and can be aborted */
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_OK);
    for (int i = 0; i < LS_PARQUET_MAX_CHUNK_VALUES / 2 + 1; i++)
        ls_parquet_writer_put_bool(w, i & 1);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_list(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(ls_parquet_writer_error(w)->message, "too many") != NULL);
    ls_parquet_writer_abort_row(w);
    for (int r = 0; r < 100; r++) {
        LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_OK);
        for (int i = 0; i < 50; i++)
            ls_parquet_writer_put_bool(w, (i * r) & 1);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_list(w), LS_ERR_OK);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    /* the 100-byte sink cannot take the row group */
    LS_CHECK_INT_EQ(ls_parquet_writer_close(w, &err), LS_ERR_UNAVAILABLE);
    LS_CHECK_STR_EQ(err.message, "disk full");
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_INVALID_ARGUMENT);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

static uint8_t *write_strings(int mod, const ls_parquet_writer_options_t *o, size_t *len)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    ls_parquet_schema_add(s, 0, "s", LS_PARQUET_STRING, true, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "d", LS_PARQUET_DOUBLE, false, 2, 0, 0, &err);
    ls_parquet_writer_t *w;
    LS_REQUIRE(ls_parquet_writer_new(s, o, NULL, NULL, &w, &err) == LS_ERR_OK);
    char buf[32];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(buf, sizeof(buf), "value-%d", i % mod);
        if (i % 11 == 0)
            ls_parquet_writer_put_null(w);
        else
            ls_parquet_writer_put_bytes(w, buf, (size_t)n);
        ls_parquet_writer_put_double(w, (double)(i % mod) / 3);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    const uint8_t *b = ls_parquet_writer_buffer(w, len);
    uint8_t *copy = ls_malloc(*len);
    memcpy(copy, b, *len);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
    return copy;
}

LS_TEST(dictionary_overflow_falls_back_to_plain)
{
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    size_t plain_len, small_len, fallback_len, dict_len;
    o.dictionary = false;
    uint8_t *plain = write_strings(500, &o, &plain_len);
    uint8_t *small = write_strings(20, &o, &small_len);
    o.dictionary = true;
    uint8_t *dict = write_strings(20, &o, &dict_len);
    o.dictionary_max_entries = 100; /* 500 distinct values do not fit */
    uint8_t *fallback = write_strings(500, &o, &fallback_len);
    /* the fallback chunk is exactly the PLAIN chunk; the dictionary one is smaller */
    LS_CHECK_INT_EQ(fallback_len, plain_len);
    LS_CHECK(memcmp(fallback, plain, plain_len) == 0);
    LS_CHECK(dict_len < small_len);
    o.dictionary_max_entries = 65536;
    o.dictionary_max_bytes = 1000; /* by size this time */
    free(fallback);
    fallback = write_strings(500, &o, &fallback_len);
    LS_CHECK(fallback_len == plain_len && memcmp(fallback, plain, plain_len) == 0);
    ls_err_t rc;
    char *a = read_trace(plain, plain_len, &rc);
    LS_CHECK_INT_EQ(rc, LS_ERR_OK);
    char *b = read_trace(dict, dict_len, &rc);
    LS_CHECK_INT_EQ(rc, LS_ERR_OK);
    char *c = read_trace(small, small_len, &rc);
    LS_CHECK_STR_EQ(b, c);
    LS_CHECK(a && strlen(a) > 3000);
    free(a);
    free(b);
    free(c);
    free(plain);
    free(small);
    free(dict);
    free(fallback);
}

static bool only_s_ab(void *ctx, const ls_parquet_reader_t *r, int rg)
{
    ls_parquet_chunk_stats_t cs;
    ls_error_t err;
    (*(int *)ctx)++;
    if (ls_parquet_reader_chunk_stats(r, rg, 1, &cs, &err) || !cs.has_min_max)
        return true; /* unknown: must read */
    /* s = "ab" can only be in groups with min <= "ab" <= max */
    const ls_parquet_value_t *mn = &cs.min, *mx = &cs.max;
    size_t a = mn->v.bytes.len < 2 ? mn->v.bytes.len : 2,
           b = mx->v.bytes.len < 2 ? mx->v.bytes.len : 2;
    int lo = memcmp(mn->v.bytes.ptr, "ab", a);
    int hi = memcmp(mx->v.bytes.ptr, "ab", b);
    return (lo < 0 || (lo == 0 && mn->v.bytes.len <= 2)) &&
           (hi > 0 || (hi == 0 && mx->v.bytes.len >= 2));
}

LS_TEST(read_skips_row_groups_by_statistics_and_keeps_metadata)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    ls_parquet_schema_add(s, 0, "i", LS_PARQUET_INT64, false, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "s", LS_PARQUET_STRING, false, 2, 0, 0, &err);
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    o.row_group_bytes = 1;
    ls_parquet_writer_t *w;
    LS_REQUIRE(ls_parquet_writer_new(s, &o, NULL, NULL, &w, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(
        ls_parquet_writer_set_metadata(w, "iceberg.schema", "{\"type\":\"struct\"}", &err),
        LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_set_metadata(w, "k", "old", &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_set_metadata(w, "k", "new", &err), LS_ERR_OK);
    const char *strs[] = {"b", "\xc3\xa9", "a", "ab", "aa"};
    /* a value over the 64 MiB limit is refused before it is read; the row is dropped */
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int64(w, 99), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, "x", (64u << 20) + 1), LS_ERR_INVALID_ARGUMENT);
    ls_parquet_writer_abort_row(w);
    for (int i = 0; i < 5; i++) {
        ls_parquet_writer_put_int64(w, i);
        ls_parquet_writer_put_bytes(w, strs[i], strlen(strs[i]));
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_set_metadata(w, "late", "x", &err),
                    LS_ERR_FAILED_PRECONDITION);
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    ls_parquet_reader_t *r;
    LS_REQUIRE(ls_parquet_reader_open_memory(buf, len, &r, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls_parquet_reader_metadata(r, "iceberg.schema"), "{\"type\":\"struct\"}");
    LS_CHECK_STR_EQ(ls_parquet_reader_metadata(r, "k"), "new");
    LS_CHECK(ls_parquet_reader_metadata(r, "late") == NULL);
    int asked = 0;
    text_t got = {0};
    LS_CHECK_INT_EQ(ls_parquet_reader_read(r, only_s_ab, &asked, &trace_visitor, &got, &err),
                    LS_ERR_OK);
    LS_CHECK_INT_EQ(asked, 5);
    LS_CHECK_STR_EQ(got.data, "3,s2:6162,\n");
    free(got.data);
    got = (text_t){0};
    LS_CHECK_INT_EQ(ls_parquet_reader_read(r, NULL, NULL, &trace_visitor, &got, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(got.data, "0,s1:62,\n1,s2:c3a9,\n2,s1:61,\n3,s2:6162,\n4,s2:6161,\n");
    free(got.data);
    ls_parquet_reader_free(r);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

/* Each worker writes and reads its own file, as uv_queue_work items would; the codec must share
 * nothing between them (the data is deterministic per worker, so results must not depend on
 * interleaving). */
typedef struct {
    int id;
    uint64_t seed;
    bool ok;
    size_t len;
} worker_t;

static uint64_t local_rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    worker_t *wk = arg;
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    ls_parquet_schema_add(s, 0, "k", LS_PARQUET_INT64, false, 1, 0, 0, &err);
    int l = ls_parquet_schema_add(s, 0, "xs", LS_PARQUET_LIST, true, 2, 0, 0, &err);
    ls_parquet_schema_add(s, l, "element", LS_PARQUET_STRING, true, 3, 0, 0, &err);
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    o.codec = wk->id % 2 ? LS_PARQUET_SNAPPY : LS_PARQUET_ZSTD;
    o.row_group_bytes = 50000;
    ls_parquet_writer_t *w;
    wk->ok = ls_parquet_writer_new(s, &o, NULL, NULL, &w, &err) == LS_ERR_OK;
    text_t expect = {0};
    uint64_t st = wk->seed;
    char buf[24];
    for (int r = 0; wk->ok && r < 5000; r++) {
        int64_t k = (int64_t)local_rnd(&st);
        ls_parquet_writer_put_int64(w, k);
        tx(&expect, "%lld,", (long long)k);
        int n = (int)(local_rnd(&st) % 4);
        ls_parquet_writer_begin_list(w);
        tx(&expect, "[%d:", n);
        for (int i = 0; i < n; i++) {
            int len = snprintf(buf, sizeof(buf), "w%d-%d", wk->id, (int)(local_rnd(&st) % 50));
            ls_parquet_writer_put_bytes(w, buf, (size_t)len);
            tx(&expect, "s%d:", len);
            for (int j = 0; j < len; j++)
                tx(&expect, "%02x", (uint8_t)buf[j]);
            tx(&expect, ",");
        }
        ls_parquet_writer_end_list(w);
        tx(&expect, "],\n");
        wk->ok = ls_parquet_writer_end_row(w) == LS_ERR_OK;
    }
    wk->ok = wk->ok && ls_parquet_writer_close(w, &err) == LS_ERR_OK;
    size_t len = 0;
    const uint8_t *file = wk->ok ? ls_parquet_writer_buffer(w, &len) : NULL;
    ls_err_t rc = LS_ERR_INTERNAL;
    char *got = file ? read_trace(file, len, &rc) : NULL;
    wk->ok = wk->ok && rc == LS_ERR_OK && got && strcmp(got, expect.data) == 0;
    wk->len = len;
    free(got);
    free(expect.data);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
    return NULL;
}

LS_TEST(concurrent_writers_and_readers_share_no_state)
{
    enum { N = 4 };
    worker_t wk[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        wk[i] = (worker_t){.id = i, .seed = 1000 + (uint64_t)i};
        LS_REQUIRE(pthread_create(&th[i], NULL, worker, &wk[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        LS_CHECK(wk[i].ok);
        LS_CHECK(wk[i].len > 1000);
    }
}

LS_TEST(fixed_length_types_check_length_and_order_unsigned)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, 0, "f", LS_PARQUET_FIXED, false, 1, 0, 0, &err), -1);
    ls_parquet_schema_add(s, 0, "u", LS_PARQUET_UUID, false, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "f", LS_PARQUET_FIXED, false, 2, 3, 0, &err);
    ls_parquet_schema_add(s, 0, "t", LS_PARQUET_TIME, true, 3, 0, 0, &err);
    ls_parquet_writer_t *w;
    LS_REQUIRE(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err) == LS_ERR_OK);
    uint8_t lo[16] = {0x7f}, hi[16] = {0x80};
    LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, lo, 15), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(ls_parquet_writer_error(w)->message, "wrong length") != NULL);
    for (int i = 0; i < 2; i++) {
        LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, i ? lo : hi, 16), LS_ERR_OK);
        LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, i ? "\x01\x02\x03" : "\xff\x00\x00", 3),
                        LS_ERR_OK);
        LS_CHECK_INT_EQ(ls_parquet_writer_put_int64(w, i ? 86399999999 : 0), LS_ERR_OK);
        LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    const ls_parquet_file_result_t *res = ls_parquet_writer_result(w);
    LS_CHECK(res->columns[0].min.v.bytes.ptr[0] == 0x7f &&
             res->columns[0].max.v.bytes.ptr[0] == 0x80);
    LS_CHECK(res->columns[1].min.v.bytes.ptr[0] == 0x01 &&
             res->columns[1].max.v.bytes.ptr[0] == 0xff);
    LS_CHECK(res->columns[2].max.v.i64 == 86399999999);
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    ls_err_t rc;
    char *got = read_trace(buf, len, &rc);
    LS_CHECK_INT_EQ(rc, LS_ERR_OK);
    LS_CHECK_STR_EQ(got, "s16:80000000000000000000000000000000,s3:ff0000,0,\n"
                         "s16:7f000000000000000000000000000000,s3:010203,86399999999,\n");
    free(got);
    ls_parquet_reader_t *r;
    LS_REQUIRE(ls_parquet_reader_open_memory(buf, len, &r, &err) == LS_ERR_OK);
    const ls_parquet_schema_t *rs = ls_parquet_reader_schema(r);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, 1)->type, LS_PARQUET_UUID);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, 2)->type, LS_PARQUET_FIXED);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, 2)->precision, 3);
    LS_CHECK_INT_EQ(ls_parquet_schema_node(rs, 3)->type, LS_PARQUET_TIME);
    ls_parquet_reader_free(r);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

LS_TEST(map_misuse_is_rejected)
{
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_error_t err;
    int m = ls_parquet_schema_add(s, 0, "m", LS_PARQUET_MAP, false, 1, 0, 0, &err);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, m, "value", LS_PARQUET_INT32, false, 2, 0, 0, &err),
                    -1);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, m, "key", LS_PARQUET_INT32, true, 2, 0, 0, &err), -1);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, m, "key", LS_PARQUET_LIST, false, 2, 0, 0, &err), -1);
    LS_CHECK(ls_parquet_schema_add(s, m, "key", LS_PARQUET_INT32, false, 2, 0, 0, &err) > 0);
    ls_parquet_writer_t *w;
    LS_CHECK_INT_EQ(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "incomplete") != NULL);
    LS_CHECK(ls_parquet_schema_add(s, m, "value", LS_PARQUET_STRING, true, 3, 0, 0, &err) > 0);
    LS_CHECK_INT_EQ(ls_parquet_schema_add(s, m, "extra", LS_PARQUET_STRING, true, 4, 0, 0, &err),
                    -1);
    LS_REQUIRE(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_list(w), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_map(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_null(w), LS_ERR_INVALID_ARGUMENT); /* key required */
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 1), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_map(w), LS_ERR_INVALID_ARGUMENT); /* no value */
    LS_CHECK_INT_EQ(ls_parquet_writer_put_null(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_int32(w, 2), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_put_bytes(w, "two", 3), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_map(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_begin_map(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_map(w), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_parquet_writer_end_row(w), LS_ERR_OK);
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    size_t len;
    const uint8_t *buf = ls_parquet_writer_buffer(w, &len);
    ls_err_t rc;
    char *got = read_trace(buf, len, &rc);
    LS_CHECK_INT_EQ(rc, LS_ERR_OK);
    LS_CHECK_STR_EQ(got, "<2:1,N,2,s3:74776f,>,\n<0:>,\n");
    free(got);
    /* projection onto the value alone still walks every entry */
    ls_parquet_reader_t *r;
    LS_REQUIRE(ls_parquet_reader_open_memory(buf, len, &r, &err) == LS_ERR_OK);
    int32_t ids[] = {3};
    LS_CHECK_INT_EQ(ls_parquet_reader_select_field_ids(r, ids, 1, &err), LS_ERR_OK);
    text_t t = {0};
    LS_CHECK_INT_EQ(ls_parquet_reader_read(r, NULL, NULL, &trace_visitor, &t, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(t.data, "<2:N,s3:74776f,>,\n<0:>,\n");
    free(t.data);
    LS_CHECK_STR_EQ(ls_parquet_schema_node(ls_parquet_reader_schema(r), 2)->path,
                    "m.key_value.key");
    ls_parquet_reader_free(r);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

LS_TEST_MAIN(LS_T(random_rows_round_trip_every_type_codec_and_encoding),
             LS_T(zero_rows_write_a_readable_file_with_no_row_groups),
             LS_T(statistics_order_strings_unsigned_ints_signed_and_skip_nan),
             LS_T(writer_rejects_misuse_and_recovers_after_abort_row),
             LS_T(corrupt_and_truncated_files_give_errors_not_crashes),
             LS_T(reader_streams_one_row_group_and_only_projected_chunks),
             LS_T(writer_reports_sink_errors_and_rejects_oversized_rows),
             LS_T(dictionary_overflow_falls_back_to_plain),
             LS_T(read_skips_row_groups_by_statistics_and_keeps_metadata),
             LS_T(concurrent_writers_and_readers_share_no_state),
             LS_T(fixed_length_types_check_length_and_order_unsigned), LS_T(map_misuse_is_rejected))
