/*
 * Confluent-framed decode benchmark (not a test): records/s and MB/s for VQE
 * results framed as 0x00 + schema id + Avro body, decoded the way an
 * in-process consumer will: split the frame, find the schema by id in the
 * registry service's cache (ls_registry_schema_cached, the hit path of
 * ls_registry_schema_get), then (a) validate-and-skip the body and (b) decode
 * it fully to JSON. The registry runs over a pool whose database is never
 * reached: every lookup here must be a cache hit. Single thread; one JSON
 * object per measurement. Run through tests/bench/registry/run.sh.
 *   registry_bench [SECONDS_PER_MEASUREMENT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro/binary.h"
#include "avro/decoder.h"
#include "avro/framing.h"
#include "avro/sample.h"
#include "core/embedded.h"
#include "registry/internal.h"

#define RECORDS 256
#define SCHEMA_ID 42

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, size_t total, long reps, double secs)
{
    printf("{\"bench\":\"%s\",\"avg_frame_bytes\":%zu,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
           name, total / RECORDS, (double)reps * RECORDS / secs,
           (double)reps * (double)total / secs / 1e6);
    fflush(stdout);
}

static void on_closed(void *arg)
{
    (void)arg;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    const ls_embedded_file_t *f = ls_embedded_find("schemas/avro/vqe_decorated_result.avsc");
    if (f == NULL) {
        fprintf(stderr, "the VQE schema is not embedded in this build\n");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_pg_t *pg;
    ls_pg_config_t cfg = {.dsn = "host=127.0.0.1 port=1 dbname=none", .pool_size = 1};
    ls_error_t err;
    if (ls_pg_open(&loop, &cfg, &pg, &err) != LS_ERR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ls_registry_t *r = ls_registry_new(pg);
    ls_registry_schema_t *entry =
        ls__registry_schema_new(SCHEMA_ID, (const char *)f->data, f->len, &err);
    if (entry == NULL) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ls__registry_cache_put(r, entry);
    const ls_avro_node_t *root = ls_avro_schema_root(ls_registry_schema_avro(entry));
    ls_registry_schema_unref(entry);

    uint8_t *frames[RECORDS];
    size_t lens[RECORDS], total = 0;
    for (int i = 0; i < RECORDS; i++) {
        ls_avro_sample_options_t o = {.seed = (uint64_t)i + 1, .array_items = 8};
        json_t *v = ls_avro_sample_value(root, &o);
        ls_avro_buf_t body = {0};
        if (ls_avro_encode_json(root, v, &body, &err) != LS_ERR_OK) {
            fprintf(stderr, "encode: %s\n", err.message);
            return 1;
        }
        frames[i] = ls_avro_frame_encode(SCHEMA_ID, body.data, body.len, &lens[i]);
        total += lens[i];
        ls_avro_buf_free(&body);
        json_decref(v);
    }

    ls_avro_json_decoder_t *decoder = NULL;
    if (ls_avro_json_decoder_new(root, NULL, &decoder, &err) != LS_ERR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (int mode = 0; mode < 2; mode++) {
        long reps = 0;
        double t0 = now(), el;
        do {
            for (int i = 0; i < RECORDS; i++) {
                int32_t id;
                const uint8_t *body;
                size_t len;
                if (ls_avro_frame_decode(frames[i], lens[i], &id, &body, &len, &err) != LS_ERR_OK)
                    abort();
                ls_registry_schema_t *s = ls_registry_schema_cached(r, id);
                if (s == NULL)
                    abort();
                const ls_avro_node_t *w = ls_avro_schema_root(ls_registry_schema_avro(s));
                if (mode == 0) {
                    const uint8_t *p = body;
                    if (ls_avro_skip(w, &p, body + len, &err) != LS_ERR_OK || p != body + len)
                        abort();
                } else {
                    json_t *out;
                    if (ls_avro_json_decode(decoder, body, len, &out, &err) != LS_ERR_OK)
                        abort();
                    json_decref(out);
                }
            }
            reps++;
        } while ((el = now() - t0) < secs);
        report(mode == 0 ? "framed_vqe_lookup_and_skip" : "framed_vqe_lookup_and_decode_json",
               total, reps, el);
    }
    ls_avro_json_decoder_free(decoder);
    for (int i = 0; i < RECORDS; i++)
        free(frames[i]);
    ls_pg_close(pg, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ls_registry_free(r);
    return uv_loop_close(&loop) == 0 ? 0 : 1;
}
