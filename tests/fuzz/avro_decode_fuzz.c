/*
 * libFuzzer harness for the Avro runtime: arbitrary bytes as a record body of
 * one of the project schemas (or a recursive one), decoded by the extractor,
 * the JSON decoder and the interpretive skip, which must agree; and the same
 * bytes as a container file. Crashes, sanitizer reports, or the three
 * decoders disagreeing on validity abort. Build and run with
 * tests/fuzz/avro_fuzz.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "avro/container.h"
#include "avro/decoder.h"
#include "core/embedded.h"

#define SCHEMAS 4

static ls_avro_schema_t *schemas[SCHEMAS];
static ls_avro_json_decoder_t *decoders[SCHEMAS];
static ls_avro_extractor_t *extractors[SCHEMAS];

static const char *recursive =
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"bytes\"]}},"
    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Node\"}},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";

static void setup(void)
{
    const char *files[] = {"schemas/avro/alert.avsc", "schemas/avro/vqe_decorated_result.avsc",
                           "schemas/avro/order.avsc"};
    const char *paths[][3] = {{"candidate.ra", "candidate.ssnamenr", "cutoutScience.stampData"},
                              {"basis_set", "vqe_result.maxcv", "molecule_id"},
                              {"order_id", "order_status", "amount"},
                              {"v", "next.v", "next.next.v"}};
    ls_error_t err;
    for (int i = 0; i < SCHEMAS; i++) {
        const char *text = i < 3 ? (const char *)ls_embedded_find(files[i])->data : recursive;
        if (ls_avro_schema_parse(text, strlen(text), NULL, &schemas[i], &err) ||
            ls_avro_json_decoder_new(ls_avro_schema_root(schemas[i]), NULL, &decoders[i], &err) ||
            ls_avro_extractor_compile(ls_avro_schema_root(schemas[i]), NULL, paths[i], 3,
                                      &extractors[i], &err))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schemas[0])
        setup();
    if (size < 1)
        return 0;
    int which = data[0] % SCHEMAS;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    ls_error_t err;
    json_t *v = NULL;
    ls_err_t json_rc = ls_avro_json_decode(decoders[which], body, len, &v, &err);
    ls_avro_slot_t slots[3];
    ls_err_t x_rc = ls_avro_extractor_run(extractors[which], body, len, slots, &err);
    const uint8_t *p = body;
    ls_err_t skip_rc = ls_avro_skip(ls_avro_schema_root(schemas[which]), &p, body + len, &err);
    bool skip_whole = skip_rc == LS_ERR_OK && p == body + len;
    /* Structural validity must agree (the JSON decoder alone checks UTF-8). */
    if (skip_whole != (x_rc == LS_ERR_OK))
        abort();
    if (json_rc == LS_ERR_OK && !skip_whole)
        abort();
    if (v) {
        /* Re-encoding what we decoded gives the input back. */
        ls_avro_buf_t out = {0};
        if (ls_avro_encode_json(ls_avro_schema_root(schemas[which]), v, &out, &err) == LS_ERR_OK) {
            ls_avro_json_decoder_t *d = decoders[which];
            json_t *again = NULL;
            if (ls_avro_json_decode(d, out.data, out.len, &again, &err) != LS_ERR_OK ||
                !json_equal(v, again))
                abort();
            json_decref(again);
        }
        ls_avro_buf_free(&out);
        json_decref(v);
    }
    ls_avro_container_reader_t *r;
    if (ls_avro_container_reader_open(data, size,
                                      &(ls_avro_container_limits_t){.max_block_bytes = 1 << 20}, &r,
                                      &err) == LS_ERR_OK) {
        const uint8_t *rec;
        size_t rl;
        for (int i = 0; i < 1000; i++)
            if (ls_avro_container_reader_next(r, &rec, &rl, &err) != LS_ERR_OK || !rec)
                break;
        ls_avro_container_reader_free(r);
    }
    return 0;
}
