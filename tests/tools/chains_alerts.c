/*
 * Test producer for chain tests and benchmarks: ZTF-style alerts
 * (schemas/avro/alert.avsc) in Confluent framing, produced straight to a
 * Kafka bootstrap (a lakestreamd --embedded broker) with librdkafka.
 *   chains_alerts BOOTSTRAP TOPIC FIRST COUNT GARBAGE [CUTOUT_BYTES] [SCHEMA_ID]
 * Alert i (FIRST <= i < FIRST+COUNT): key and candid = i; candidate.rb =
 * 0.2 when i % 4 == 0 else 0.95; candidate.ssnamenr = "jupiter" when
 * i % 6 == 3, "ceres" when i % 6 == 0, else null. GARBAGE malformed records
 * follow (key "bad-N": random bytes, wrong magic, truncated alerts).
 * Prints "produced N bytes B" and exits 0 once every record is delivered.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/decoder.h"
#include "avro/framing.h"
#include "avro/sample.h"
#include "core/embedded.h"

static int failures;
static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err)
        failures++;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: see tests/tools/chains_alerts.c\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    long first = atol(argv[3]), count = atol(argv[4]), garbage = atol(argv[5]);
    long cutout = argc > 6 ? atol(argv[6]) : 0;
    int schema_id = argc > 7 ? atoi(argv[7]) : 1;
    const ls_embedded_file_t *f = ls_embedded_find("schemas/avro/alert.avsc");
    ls_avro_schema_t *schema;
    ls_error_t err;
    if (!f || ls_avro_schema_parse((const char *)f->data, f->len, NULL, &schema, &err)) {
        fprintf(stderr, "schema\n");
        return 1;
    }
    const ls_avro_node_t *root = ls_avro_schema_root(schema);
    ls_avro_sample_options_t so = {
        .seed = 42, .array_items = 0, .bytes_length = 8, .null_ratio = 0.1};
    json_t *tmpl = ls_avro_sample_value(root, &so);
    json_object_set_new(tmpl, "prv_candidates", json_null());
    char *stamp = malloc((size_t)cutout + 1);
    for (long i = 0; i < cutout; i++)
        stamp[i] = (char)('a' + i % 26);
    stamp[cutout] = '\0';
    json_t *cut = json_pack("{s:s,s:s}", "fileName", "stamp.fits.gz", "stampData", stamp);
    for (const char *k = "cutoutScience"; k; k = strcmp(k, "cutoutScience") == 0 ? "cutoutTemplate"
                                                 : strcmp(k, "cutoutTemplate") == 0
                                                     ? "cutoutDifference"
                                                     : NULL)
        json_object_set(tmpl, k, cutout > 0 ? cut : json_null());

    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "2000000", errstr, sizeof(errstr));
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    long long bytes = 0;
    json_t *cand = json_object_get(tmpl, "candidate");
    for (long i = first; i < first + count; i++) {
        json_object_set_new(tmpl, "candid", json_integer(i));
        char oid[32];
        snprintf(oid, sizeof(oid), "ZTF%08ld", i);
        json_object_set_new(tmpl, "objectId", json_string(oid));
        json_object_set_new(cand, "candid", json_integer(i));
        json_object_set_new(cand, "rb", json_real(i % 4 == 0 ? 0.2 : 0.95));
        json_object_set_new(cand, "ssnamenr",
                            i % 6 == 3   ? json_string("jupiter")
                            : i % 6 == 0 ? json_string("ceres")
                                         : json_null());
        ls_avro_buf_t buf = {0};
        uint8_t hdr[5];
        ls_avro_frame_write_header(hdr, schema_id);
        ls_avro_buf_append(&buf, hdr, 5);
        if (ls_avro_encode_json(root, tmpl, &buf, &err) != LS_ERR_OK) {
            fprintf(stderr, "encode: %s\n", err.message);
            return 1;
        }
        char key[32];
        int kl = snprintf(key, sizeof(key), "%ld", i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)kl),
                                 RD_KAFKA_V_VALUE(buf.data, buf.len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        bytes += (long long)buf.len;
        if (i == first + count - 1 || garbage > 0) {
            /* keep a copy of the last alert for truncation below */
        }
        for (long g = 0; g < garbage && i == first + count - 1; g++) {
            uint8_t junk[64];
            size_t jl;
            if (g % 3 == 0) {
                jl = 1 + (size_t)(g % 60);
                for (size_t b = 0; b < jl; b++)
                    junk[b] = (uint8_t)(rand() & 0xff);
                junk[0] = 0x7f; /* never a valid magic */
            } else if (g % 3 == 1) {
                jl = 20;
                memcpy(junk, buf.data, 20);
                junk[0] = 0x01; /* wrong magic */
            } else {
                jl = 40;
                memcpy(junk, buf.data, 40); /* truncated alert */
            }
            char gk[32];
            int gkl = snprintf(gk, sizeof(gk), "bad-%ld", g);
            while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(gk, (size_t)gkl),
                                     RD_KAFKA_V_VALUE(junk, jl),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
        }
        ls_avro_buf_free(&buf);
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    int left = rd_kafka_outq_len(rk);
    rd_kafka_destroy(rk);
    printf("produced %ld bytes %lld\n", count + garbage, bytes);
    json_decref(cut);
    json_decref(tmpl);
    free(stamp);
    ls_avro_schema_free(schema);
    return (failures || left) ? 1 : 0;
}
