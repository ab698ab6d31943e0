/*
 * Avro decode benchmark (not a test): records/s and MB/s for
 *  (a) the compiled extractor pulling 6 fields out of ~15 KB ZTF-like alerts
 *      (three cutouts with stampData, prv_candidates),
 *  (b) full decode of VQE results (and of the alerts) to JSON,
 *  (c) avro-c's generic value API (avro_value_read) on the same alerts and
 *      VQE records, measured in the same run for the ratio.
 * Single thread. Prints one JSON object per measurement. Run through
 * tests/bench/avro/run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro/decoder.h"
#include "avro/sample.h"
#include "core/embedded.h"

#define RECORDS 256

/* avro-c's API, declared by hand: its headers include <avro/schema.h>, which
 * with server/ on the include path resolves to our own avro/schema.h. The
 * layouts below are avro-c 1.11's (avro/value.h: a value is two pointers). */
typedef struct avro_obj_t *avro_schema_t;
typedef struct avro_value_iface avro_value_iface_t;
typedef struct {
    avro_value_iface_t *iface;
    void *self;
} avro_value_t;
typedef struct avro_reader_t_ *avro_reader_t;
int avro_schema_from_json_length(const char *json, size_t length, avro_schema_t *schema);
int avro_schema_decref(avro_schema_t schema);
avro_value_iface_t *avro_generic_class_from_schema(avro_schema_t schema);
int avro_generic_value_new(avro_value_iface_t *iface, avro_value_t *dest);
void avro_value_decref(avro_value_t *value);
avro_reader_t avro_reader_memory(const char *buf, int64_t len);
void avro_reader_free(avro_reader_t reader);
int avro_value_read(avro_reader_t reader, avro_value_t *dest);
const char *avro_strerror(void);

typedef struct {
    ls_avro_buf_t bufs[RECORDS];
    size_t total;
} corpus_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ls_avro_schema_t *load(const char *path, const char **text)
{
    const ls_embedded_file_t *f = ls_embedded_find(path);
    ls_avro_schema_t *s;
    ls_error_t err;
    if (!f || ls_avro_schema_parse((const char *)f->data, f->len, NULL, &s, &err)) {
        fprintf(stderr, "cannot load %s\n", path);
        exit(1);
    }
    *text = (const char *)f->data;
    return s;
}

static void make_corpus(const ls_avro_node_t *root, corpus_t *c, size_t items, size_t bytes,
                        double null_ratio)
{
    c->total = 0;
    for (int i = 0; i < RECORDS; i++) {
        ls_avro_sample_options_t o = {.seed = (uint64_t)i + 1,
                                      .array_items = items,
                                      .bytes_length = bytes,
                                      .null_ratio = null_ratio};
        json_t *v = ls_avro_sample_value(root, &o);
        ls_error_t err;
        memset(&c->bufs[i], 0, sizeof(c->bufs[i]));
        if (ls_avro_encode_json(root, v, &c->bufs[i], &err)) {
            fprintf(stderr, "encode: %s\n", err.message);
            exit(1);
        }
        c->total += c->bufs[i].len;
        json_decref(v);
    }
}

static void report(const char *name, const corpus_t *c, long reps, double secs)
{
    double records = (double)reps * RECORDS;
    printf("{\"bench\":\"%s\",\"avg_record_bytes\":%zu,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
           name, c->total / RECORDS, records / secs, (double)reps * (double)c->total / secs / 1e6);
    fflush(stdout);
}

/* Repeats fn over the corpus for about min_secs seconds; returns records/s. */
#define MEASURE(name, c, min_secs, body)                                                           \
    ({                                                                                             \
        long reps_ = 0;                                                                            \
        double t0_ = now(), el_;                                                                   \
        do {                                                                                       \
            for (int i = 0; i < RECORDS; i++) {                                                    \
                const uint8_t *data = (c)->bufs[i].data;                                           \
                size_t len = (c)->bufs[i].len;                                                     \
                body;                                                                              \
            }                                                                                      \
            reps_++;                                                                               \
        } while ((el_ = now() - t0_) < (min_secs));                                                \
        report(name, c, reps_, el_);                                                               \
        (double)reps_ *RECORDS / el_;                                                              \
    })

static double avroc_decode(const char *name, const char *schema_text, corpus_t *c, double secs)
{
    avro_schema_t schema;
    if (avro_schema_from_json_length(schema_text, strlen(schema_text), &schema)) {
        fprintf(stderr, "avro-c schema: %s\n", avro_strerror());
        exit(1);
    }
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t value;
    avro_generic_value_new(iface, &value);
    double rate = MEASURE(name, c, secs, {
        avro_reader_t reader = avro_reader_memory((const char *)data, (int64_t)len);
        if (avro_value_read(reader, &value)) {
            fprintf(stderr, "avro-c read: %s\n", avro_strerror());
            exit(1);
        }
        avro_reader_free(reader);
    });
    avro_value_decref(&value);
    /* avro_value_iface_decref is a macro over the iface struct; the class is
     * left to process exit. */
    (void)iface;
    avro_schema_decref(schema);
    return rate;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    const char *alert_text, *vqe_text;
    ls_avro_schema_t *alert = load("schemas/avro/alert.avsc", &alert_text);
    ls_avro_schema_t *vqe = load("schemas/avro/vqe_decorated_result.avsc", &vqe_text);
    static corpus_t alerts, vqes;
    /* ~15 KB like a ZTF alert: three ~3 KB cutouts and 25 previous candidates. */
    make_corpus(ls_avro_schema_root(alert), &alerts, 25, 3000, 0.1);
    make_corpus(ls_avro_schema_root(vqe), &vqes, 20, 0, 0.2);

    const char *paths[] = {"objectId",           "candid",      "candidate.ra", "candidate.dec",
                           "candidate.ssnamenr", "candidate.rb"};
    ls_avro_extractor_t *x;
    ls_error_t err;
    if (ls_avro_extractor_compile(ls_avro_schema_root(alert), NULL, paths, 6, &x, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ls_avro_slot_t slots[6];
    double sink = 0;
    double ours_extract = MEASURE("alert_extract_6_fields", &alerts, secs, {
        if (ls_avro_extractor_run(x, data, len, slots, &err))
            exit(1);
        sink += slots[2].v.d;
    });

    ls_avro_json_decoder_t *dv, *da;
    ls_avro_json_decoder_new(ls_avro_schema_root(vqe), NULL, &dv, &err);
    ls_avro_json_decoder_new(ls_avro_schema_root(alert), NULL, &da, &err);
    double ours_vqe = MEASURE("vqe_full_decode_json", &vqes, secs, {
        json_t *v;
        if (ls_avro_json_decode(dv, data, len, &v, &err))
            exit(1);
        json_decref(v);
    });
    double ours_alert_json = MEASURE("alert_full_decode_json", &alerts, secs, {
        json_t *v;
        if (ls_avro_json_decode(da, data, len, &v, &err))
            exit(1);
        json_decref(v);
    });
    double ours_skip = MEASURE("alert_validate_skip", &alerts, secs, {
        const uint8_t *p = data;
        if (ls_avro_skip(ls_avro_schema_root(alert), &p, data + len, &err))
            exit(1);
    });
    double avroc_alert = avroc_decode("avro_c_alert_value_read", alert_text, &alerts, secs);
    double avroc_vqe = avroc_decode("avro_c_vqe_value_read", vqe_text, &vqes, secs);
    printf(
        "{\"ratio_extract_vs_avro_c_alert\":%.1f,\"ratio_full_json_vs_avro_c_alert\":%.2f,"
        "\"ratio_skip_vs_avro_c_alert\":%.1f,\"ratio_full_json_vs_avro_c_vqe\":%.2f,\"sink\":%g}\n",
        ours_extract / avroc_alert, ours_alert_json / avroc_alert, ours_skip / avroc_alert,
        ours_vqe / avroc_vqe, sink != 0 ? 1.0 : 0.0);
    ls_avro_extractor_free(x);
    ls_avro_json_decoder_free(dv);
    ls_avro_json_decoder_free(da);
    for (int i = 0; i < RECORDS; i++) {
        ls_avro_buf_free(&alerts.bufs[i]);
        ls_avro_buf_free(&vqes.bufs[i]);
    }
    ls_avro_schema_free(alert);
    ls_avro_schema_free(vqe);
    return 0;
}
