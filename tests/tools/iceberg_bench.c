/*
 * Benchmarks of the CPU side of Iceberg tables (no I/O): scan planning over a
 * table of 10,000 data files in 100 manifests (manifest list + manifest
 * decoding, partition-summary and column-bound pruning), and the rows/s of
 * decoding a data file into JSON rows as a time-travel read does. Prints
 * one JSON object. Usage: iceberg_bench [files] [rows].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lake/iceberg_data.h"
#include "lake/iceberg_manifest.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const ls_error_t *err)
{
    fprintf(stderr, "%s: %s\n", what, err->message);
    exit(1);
}

typedef struct {
    uint8_t *bytes;
    size_t len;
} blob_t;

int main(int argc, char **argv)
{
    int n_files = argc > 1 ? atoi(argv[1]) : 10000;
    int n_rows = argc > 2 ? atoi(argv[2]) : 500000;
    int per_manifest = 100, n_manifests = (n_files + per_manifest - 1) / per_manifest;
    ls_error_t err;
    json_t *schema_in = json_loads("{\"type\":\"struct\",\"fields\":["
                                   "{\"name\":\"id\",\"type\":\"long\",\"required\":true},"
                                   "{\"name\":\"day\",\"type\":\"date\",\"required\":true},"
                                   "{\"name\":\"x\",\"type\":\"double\"},"
                                   "{\"name\":\"label\",\"type\":\"string\"}]}",
                                   0, NULL);
    json_t *part = json_loads("[{\"source\":\"day\",\"transform\":\"identity\"}]", 0, NULL);
    json_t *meta = ls_iceberg_metadata_new(schema_in, part, NULL, "u", "file:///bench", 1, &err);
    ls_iceberg_schema_t *schema = NULL;
    ls_iceberg_spec_t *spec = NULL;
    if (meta == NULL || ls_iceberg_metadata_schema(meta, -1, &schema, &err) != LS_ERR_OK ||
        ls_iceberg_metadata_spec(meta, -1, schema, &spec, &err) != LS_ERR_OK)
        die("table", &err);

    /* one real data file of 1000 rows gives realistic metrics; each synthetic file gets its own
     * day (one manifest per day) and id range */
    json_t *rows = json_array();
    for (int i = 0; i < 1000; i++)
        json_array_append_new(rows, json_pack("{s:i,s:i,s:f,s:s}", "id", i, "day", 19000, "x",
                                              i / 3.0, "label", "some label text"));
    ls_iceberg_new_file_t *files = NULL;
    size_t nf = 0;
    if (ls_iceberg_write_rows(schema, spec, rows, "file:///bench", 0, &files, &nf, &err) !=
        LS_ERR_OK)
        die("write", &err);
    json_t *list = json_array();
    blob_t *manifests = calloc((size_t)n_manifests, sizeof *manifests);
    ls_buf_t b = LS_BUF_INIT;
    for (int m = 0; m < n_manifests; m++) {
        json_t *entries = json_array();
        for (int k = 0; k < per_manifest && m * per_manifest + k < n_files; k++) {
            int idx = m * per_manifest + k;
            json_t *df = json_deep_copy(files[0].data_file);
            char path[96];
            snprintf(path, sizeof path, "file:///bench/data/f%06d.parquet", idx);
            json_object_set_new(df, "file_path", json_string(path));
            json_object_set_new(json_object_get(df, "partition"), "day", json_integer(19000 + m));
            int64_t lo = (int64_t)idx * 1000, hi = lo + 999;
            json_t *lb = json_object_get(df, "lower_bounds"),
                   *ub = json_object_get(df, "upper_bounds");
            b.len = 0;
            ls_parquet_value_t v = {.type = LS_PARQUET_INT64, .v.i64 = lo};
            ls_iceberg_value_to_bytes(&v, &b);
            json_object_set_new(json_array_get(lb, 0), "value",
                                ls_iceberg_avro_bytes(b.data, b.len));
            b.len = 0;
            v.v.i64 = hi;
            ls_iceberg_value_to_bytes(&v, &b);
            json_object_set_new(json_array_get(ub, 0), "value",
                                ls_iceberg_avro_bytes(b.data, b.len));
            /* the day column's bounds agree with the file's partition */
            b.len = 0;
            ls_parquet_value_t d = {.type = LS_PARQUET_DATE, .v.i32 = 19000 + m};
            ls_iceberg_value_to_bytes(&d, &b);
            json_object_set_new(json_array_get(lb, 1), "value",
                                ls_iceberg_avro_bytes(b.data, b.len));
            json_object_set_new(json_array_get(ub, 1), "value",
                                ls_iceberg_avro_bytes(b.data, b.len));
            json_array_append_new(entries, json_pack("{s:i,s:i,s:i,s:i,s:o}", "status", 1,
                                                     "snapshot_id", 1, "sequence_number", 1,
                                                     "file_sequence_number", 1, "data_file", df));
        }
        if (ls_iceberg_manifest_write(schema, spec, entries, &manifests[m].bytes, &manifests[m].len,
                                      &err) != LS_ERR_OK)
            die("manifest", &err);
        json_array_append_new(
            list, ls_iceberg_manifest_file_new("m", manifests[m].len, spec, entries, 1, 1));
        json_decref(entries);
    }
    uint8_t *list_bytes = NULL;
    size_t list_len = 0;
    if (ls_iceberg_manifest_list_write(list, 1, -1, 1, &list_bytes, &list_len, &err) != LS_ERR_OK)
        die("list", &err);

    /* planning: full scan, then a selective filter */
    const char *filters[2] = {NULL, getenv("BENCH_FILTER")
                                        ? getenv("BENCH_FILTER")
                                        : "day = '2022-02-27' AND id >= 5095000"};
    double plan_s[2];
    size_t kept[2];
    for (int f = 0; f < 2; f++) {
        ls_iceberg_filter_t flt;
        if (filters[f] != NULL &&
            ls_iceberg_filter_parse(filters[f], schema, &flt, &err) != LS_ERR_OK)
            die("filter", &err);
        double t0 = now_s();
        json_t *mfs = NULL;
        if (ls_iceberg_avro_read_all(list_bytes, list_len, 1000000, &mfs, &err) != LS_ERR_OK)
            die("read list", &err);
        kept[f] = 0;
        for (int m = 0; m < n_manifests; m++) {
            if (filters[f] != NULL &&
                !ls_iceberg_filter_may_match_manifest(&flt, spec, json_array_get(mfs, (size_t)m)))
                continue;
            json_t *entries = NULL;
            if (ls_iceberg_avro_read_all(manifests[m].bytes, manifests[m].len, 1000000, &entries,
                                         &err) != LS_ERR_OK)
                die("read manifest", &err);
            size_t i;
            json_t *e;
            json_array_foreach(entries, i, e)
            {
                if (filters[f] == NULL || ls_iceberg_filter_may_match_file(
                                              &flt, schema, spec, json_object_get(e, "data_file")))
                    kept[f]++;
            }
            json_decref(entries);
        }
        plan_s[f] = now_s() - t0;
        json_decref(mfs);
        if (filters[f] != NULL)
            ls_iceberg_filter_free(&flt);
    }

    /* time-travel read: decode a data file of n_rows into JSON rows */
    json_t *big = json_array();
    for (int i = 0; i < n_rows; i++)
        json_array_append_new(big, json_pack("{s:i,s:i,s:f,s:s}", "id", i, "day", 19000, "x",
                                             i * 0.5, "label", i % 3 ? "alpha" : "beta"));
    ls_iceberg_new_file_t *bf = NULL;
    size_t nbf = 0;
    double tw = now_s();
    if (ls_iceberg_write_rows(schema, spec, big, "file:///bench", 0, &bf, &nbf, &err) != LS_ERR_OK)
        die("write big", &err);
    double write_s = now_s() - tw;
    json_t *out = json_array();
    double tr = now_s();
    if (ls_iceberg_read_rows(schema, bf[0].bytes, bf[0].len, NULL, NULL, 0, -1, out, &err) !=
        LS_ERR_OK)
        die("read big", &err);
    double read_s = now_s() - tr;
    printf("{\"data_files\":%d,\"manifests\":%d,\"plan_full_ms\":%.1f,\"plan_full_files\":%zu,"
           "\"plan_filtered_ms\":%.1f,\"plan_filtered_files\":%zu,\"rows\":%d,"
           "\"parquet_bytes\":%zu,\"write_rows_per_s\":%.0f,\"read_rows_per_s\":%.0f}\n",
           n_files, n_manifests, plan_s[0] * 1e3, kept[0], plan_s[1] * 1e3, kept[1], n_rows,
           bf[0].len, n_rows / write_s, json_array_size(out) / read_s);
    json_decref(out);
    json_decref(big);
    ls_iceberg_new_files_free(bf, nbf);
    ls_iceberg_new_files_free(files, nf);
    for (int m = 0; m < n_manifests; m++)
        free(manifests[m].bytes);
    free(manifests);
    free(list_bytes);
    ls_buf_free(&b);
    json_decref(list);
    json_decref(rows);
    ls_iceberg_spec_free(spec);
    ls_iceberg_schema_free(schema);
    json_decref(meta);
    json_decref(schema_in);
    json_decref(part);
    return 0;
}
