/*
 * parquet_dump FILE [FIELD_ID...]: reads FILE with lakestream's Parquet
 * reader (pread-style callback, one row group at a time) and prints
 * {"schema":[...],"rows":[...]} in the canonical JSON of parquet_json.h,
 * projected to the given Iceberg field ids when any are given (whole
 * top-level fields: a map entry prints as [key,value] and needs both). On a read
 * error it prints the error and exits 1. tests/e2e/parquet_readers.test.mjs
 * compares its output with DuckDB's reading of files DuckDB wrote.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lake/parquet.h"
#include "parquet_json.h"

typedef struct {
    const ls_parquet_schema_t *schema;
    int items[LS_PARQUET_MAX_DEPTH + 2]; /* items written at each open level */
    int depth;
    long long rows;
} dump_t;

static bool is_map_value(dump_t *d, const ls_parquet_node_t *n)
{
    const ls_parquet_node_t *p = ls_parquet_schema_node(d->schema, n->parent);
    return p->type == LS_PARQUET_MAP && ls_parquet_schema_node(d->schema, p->children[1]) == n;
}

/* Separator and, inside a struct or a row, the field name; a map entry is [key,value]. */
static void open_item(dump_t *d, const ls_parquet_node_t *n)
{
    if (d->depth == 0) {
        printf("%s{", d->rows ? ",\n" : "\n");
        d->depth = 1;
        d->items[1] = 0;
    }
    if (is_map_value(d, n)) {
        putchar(',');
        return;
    }
    if (d->items[d->depth]++)
        putchar(',');
    const ls_parquet_node_t *p = ls_parquet_schema_node(d->schema, n->parent);
    if (p->type == LS_PARQUET_STRUCT)
        printf("\"%s\":", n->name);
    if (p->type == LS_PARQUET_MAP)
        putchar('[');
}

static void close_item(dump_t *d, const ls_parquet_node_t *n)
{
    if (is_map_value(d, n))
        putchar(']');
}

static ls_err_t on_value(void *ctx, const ls_parquet_node_t *n, const ls_parquet_value_t *v)
{
    open_item(ctx, n);
    json_value(stdout, v);
    close_item(ctx, n);
    return LS_ERR_OK;
}

static ls_err_t on_null(void *ctx, const ls_parquet_node_t *n)
{
    open_item(ctx, n);
    printf("null");
    close_item(ctx, n);
    return LS_ERR_OK;
}

static ls_err_t on_begin(void *ctx, const ls_parquet_node_t *n, char bracket)
{
    dump_t *d = ctx;
    open_item(d, n);
    putchar(bracket);
    d->items[++d->depth] = 0;
    return LS_ERR_OK;
}

static ls_err_t on_begin_list(void *ctx, const ls_parquet_node_t *n, size_t count)
{
    return on_begin(ctx, n, '[');
}

static ls_err_t on_begin_struct(void *ctx, const ls_parquet_node_t *n)
{
    return on_begin(ctx, n, '{');
}

static ls_err_t on_end(void *ctx, const ls_parquet_node_t *n, char bracket)
{
    dump_t *d = ctx;
    putchar(bracket);
    d->depth--;
    close_item(d, n);
    return LS_ERR_OK;
}

static ls_err_t on_end_list(void *ctx, const ls_parquet_node_t *n)
{
    return on_end(ctx, n, ']');
}
static ls_err_t on_end_map(void *ctx, const ls_parquet_node_t *n)
{
    return on_end(ctx, n, ']');
}
static ls_err_t on_end_struct(void *ctx, const ls_parquet_node_t *n)
{
    return on_end(ctx, n, '}');
}

static ls_err_t on_end_row(void *ctx)
{
    dump_t *d = ctx;
    if (d->depth == 0) /* a projection that selected nothing */
        printf("%s{", d->rows ? ",\n" : "\n");
    putchar('}');
    d->depth = 0;
    d->rows++;
    return LS_ERR_OK;
}

static ls_err_t file_read(void *ctx, uint64_t off, size_t len, void *buf, ls_error_t *err)
{
    if (pread(*(int *)ctx, buf, len, (off_t)off) != (ssize_t)len)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "short read at %llu", (unsigned long long)off);
    return LS_ERR_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: parquet_dump FILE [FIELD_ID...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseeko(f, 0, SEEK_END) != 0) {
        perror(argv[1]);
        return 2;
    }
    off_t size = ftello(f);
    int fd = fileno(f);
    ls_parquet_reader_t *r;
    ls_error_t err;
    if (ls_parquet_reader_open(file_read, &fd, (uint64_t)size, &r, &err)) {
        printf("error: %s\n", err.message);
        return 1;
    }
    if (argc > 2) {
        int32_t ids[64];
        size_t n = 0;
        for (int i = 2; i < argc && n < 64; i++)
            ids[n++] = (int32_t)atoi(argv[i]);
        if (ls_parquet_reader_select_field_ids(r, ids, n, &err)) {
            printf("error: %s\n", err.message);
            return 1;
        }
    }
    const ls_parquet_schema_t *s = ls_parquet_reader_schema(r);
    const ls_parquet_node_t *root = ls_parquet_schema_node(s, 0);
    printf("{\"schema\":[");
    for (int i = 0; i < root->n_children; i++) {
        if (i)
            putchar(',');
        json_schema(stdout, s, root->children[i]);
    }
    printf("],\"rows\":[");
    dump_t d = {.schema = s};
    ls_parquet_visitor_t v = {.value = on_value,
                              .null = on_null,
                              .begin_list = on_begin_list,
                              .end_list = on_end_list,
                              .begin_struct = on_begin_struct,
                              .end_struct = on_end_struct,
                              .end_row = on_end_row,
                              .begin_map = on_begin_list,
                              .end_map = on_end_map};
    if (ls_parquet_reader_read(r, NULL, NULL, &v, &d, &err)) {
        printf("\nerror: %s\n", err.message);
        return 1;
    }
    printf("]}\n");
    ls_parquet_reader_free(r);
    fclose(f);
    return 0;
}
