/*
 * parquet_bench OUT.parquet [ROWS] [ZSTD_LEVEL] [PAGE_BYTES]: the write benchmark of
 * tests/bench/parquet/run.sh. Generates ROWS (default 5,000,000) rows of
 * (id int64, d1..d3 double, category string with 10 values, user string of 16
 * characters unique per row, samples list<double> of 8) with the same
 * formulas as the DuckDB side of run.sh, writes them with ZSTD through
 * lakestream's writer, and prints one JSON line with rows, seconds and
 * bytes. Timing covers generation + encoding + compression + file writes,
 * like DuckDB's COPY of a generated query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lake/parquet.h"

static ls_err_t file_sink(void *ctx, const void *p, size_t n, ls_error_t *err)
{
    if (fwrite(p, 1, n, ctx) != n)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "short write");
    return LS_ERR_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != LS_ERR_OK) {                                                                    \
            fprintf(stderr, "parquet_bench: %s failed: %s\n", #x,                                  \
                    ls_parquet_writer_error(w)->message);                                          \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: parquet_bench OUT.parquet [ROWS] [ZSTD_LEVEL] [PAGE_BYTES]\n");
        return 2;
    }
    long long rows = argc > 2 ? atoll(argv[2]) : 5000000;
    ls_error_t err;
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    ls_parquet_schema_add(s, 0, "id", LS_PARQUET_INT64, false, 1, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "d1", LS_PARQUET_DOUBLE, true, 2, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "d2", LS_PARQUET_DOUBLE, true, 3, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "d3", LS_PARQUET_DOUBLE, true, 4, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "category", LS_PARQUET_STRING, true, 5, 0, 0, &err);
    ls_parquet_schema_add(s, 0, "user", LS_PARQUET_STRING, true, 6, 0, 0, &err);
    int l = ls_parquet_schema_add(s, 0, "samples", LS_PARQUET_LIST, true, 7, 0, 0, &err);
    ls_parquet_schema_add(s, l, "element", LS_PARQUET_DOUBLE, true, 8, 0, 0, &err);
    ls_parquet_writer_options_t o;
    ls_parquet_writer_options_init(&o);
    if (argc > 3)
        o.zstd_level = atoi(argv[3]);
    if (argc > 4)
        o.page_bytes = (size_t)atoll(argv[4]);
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    double t0 = now();
    ls_parquet_writer_t *w = NULL;
    if (ls_parquet_writer_new(s, &o, file_sink, f, &w, &err)) {
        fprintf(stderr, "parquet_bench: %s\n", err.message);
        return 1;
    }
    char cat[16], user[32];
    for (long long i = 0; i < rows; i++) {
        CHECK(ls_parquet_writer_put_int64(w, i));
        CHECK(ls_parquet_writer_put_double(w, (double)((i * 2654435761LL) % 1000000) / 1000.0));
        CHECK(ls_parquet_writer_put_double(w, (double)((i * 40503LL) % 65536) * 0.001));
        CHECK(ls_parquet_writer_put_double(w, (double)i / 7.0));
        int cl = snprintf(cat, sizeof(cat), "cat_%lld", i % 10);
        CHECK(ls_parquet_writer_put_bytes(w, cat, (size_t)cl));
        int ul = snprintf(user, sizeof(user), "user_%011lld", (i * 7919) % 10000019);
        CHECK(ls_parquet_writer_put_bytes(w, user, (size_t)ul));
        CHECK(ls_parquet_writer_begin_list(w));
        for (long long k = 0; k < 8; k++)
            CHECK(ls_parquet_writer_put_double(w, (double)(((i * 8 + k) * 2654435761LL) % 1000003) /
                                                      100.0));
        CHECK(ls_parquet_writer_end_list(w));
        CHECK(ls_parquet_writer_end_row(w));
    }
    if (ls_parquet_writer_close(w, &err)) {
        fprintf(stderr, "parquet_bench: %s\n", err.message);
        return 1;
    }
    fclose(f);
    double secs = now() - t0;
    const ls_parquet_file_result_t *res = ls_parquet_writer_result(w);
    printf("{\"rows\":%lld,\"seconds\":%.3f,\"bytes\":%llu,\"row_groups\":%d}\n", rows, secs,
           (unsigned long long)res->file_size, res->row_group_count);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
    return 0;
}
