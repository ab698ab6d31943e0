#include <string.h>

#include "avro/container.h"
#include "avro/decoder.h"
#include "avro/sample.h"
#include "core/embedded.h"
#include "test.h"

static ls_avro_schema_t *parse(const char *text)
{
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_avro_schema_parse(text, strlen(text), NULL, &s, &err) == LS_ERR_OK);
    return s;
}

/* Writes n sample records with codec; returns the file and the values. */
static uint8_t *write_file(const ls_avro_schema_t *s, ls_avro_codec_t codec, size_t n,
                           size_t block_bytes, json_t *values, size_t *len)
{
    ls_avro_container_options_t o = {.codec = codec, .block_bytes = block_bytes};
    const char *keys[] = {"iceberg.schema"}, *vals[] = {"{\"x\":1}"};
    o.meta_keys = keys;
    o.meta_values = vals;
    o.meta_count = 1;
    ls_avro_container_writer_t *w;
    ls_error_t err;
    LS_REQUIRE(ls_avro_container_writer_new(s, &o, &w, &err) == LS_ERR_OK);
    for (size_t i = 0; i < n; i++) {
        json_t *v = ls_avro_sample_value(
            ls_avro_schema_root(s),
            &(ls_avro_sample_options_t){.seed = i + 1, .array_items = 2, .null_ratio = 0.2});
        if (i % 2) {
            LS_REQUIRE(ls_avro_container_writer_append_json(w, v, &err) == LS_ERR_OK);
        } else {
            ls_avro_buf_t b = {0};
            LS_REQUIRE(ls_avro_encode_json(ls_avro_schema_root(s), v, &b, &err) == LS_ERR_OK);
            LS_REQUIRE(ls_avro_container_writer_append(w, b.data, b.len, &err) == LS_ERR_OK);
            ls_avro_buf_free(&b);
        }
        json_array_append_new(values, v);
    }
    LS_CHECK_INT_EQ(ls_avro_container_writer_count(w), n);
    uint8_t *data;
    LS_REQUIRE(ls_avro_container_writer_finish(w, &data, len, &err) == LS_ERR_OK);
    return data;
}

static ls_err_t read_all(const uint8_t *data, size_t len, json_t *out, ls_error_t *err)
{
    ls_avro_container_reader_t *r;
    ls_err_t rc = ls_avro_container_reader_open(data, len, NULL, &r, err);
    if (rc)
        return rc;
    ls_avro_json_decoder_t *d;
    LS_REQUIRE(ls_avro_json_decoder_new(ls_avro_schema_root(ls_avro_container_reader_schema(r)),
                                        NULL, &d, err) == LS_ERR_OK);
    for (;;) {
        const uint8_t *rec;
        size_t rl;
        if ((rc = ls_avro_container_reader_next(r, &rec, &rl, err)) || !rec)
            break;
        json_t *v;
        if ((rc = ls_avro_json_decode(d, rec, rl, &v, err)))
            break;
        json_array_append_new(out, v);
    }
    ls_avro_json_decoder_free(d);
    ls_avro_container_reader_free(r);
    return rc;
}

LS_TEST(container_round_trips_with_every_codec_and_keeps_the_original_schema_text)
{
    const char *text =
        "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
        "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
        "{\"name\":\"path\",\"type\":\"string\",\"field-id\":100,\"doc\":\"Location URI\"},"
        "{\"name\":\"counts\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"field-id\":101},"
        "{\"name\":\"blob\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":102}]}";
    ls_avro_schema_t *s = parse(text);
    for (int codec = 0; codec <= LS_AVRO_CODEC_ZSTANDARD; codec++) {
        json_t *written = json_array(), *read = json_array();
        size_t len;
        uint8_t *data = write_file(s, (ls_avro_codec_t)codec, 500, 2048, written, &len);
        ls_avro_container_reader_t *r;
        ls_error_t err;
        LS_REQUIRE(ls_avro_container_reader_open(data, len, NULL, &r, &err) == LS_ERR_OK);
        size_t sl;
        const uint8_t *st = ls_avro_container_reader_meta(r, "avro.schema", &sl);
        LS_CHECK(st && sl == strlen(text) && memcmp(st, text, sl) == 0);
        const uint8_t *extra = ls_avro_container_reader_meta(r, "iceberg.schema", &sl);
        LS_CHECK(extra && sl == 7);
        LS_CHECK_INT_EQ(ls_avro_container_reader_codec(r), codec);
        ls_avro_container_reader_free(r);
        LS_CHECK_INT_EQ(read_all(data, len, read, &err), LS_ERR_OK);
        LS_CHECK_INT_EQ(json_array_size(read), 500);
        LS_CHECK(json_equal(written, read));
        if (codec != LS_AVRO_CODEC_NULL) {
            /* Compression must actually shrink the many-block file of repetitive records' keys. */
            size_t plain_len;
            json_t *tmp = json_array();
            uint8_t *plain = write_file(s, LS_AVRO_CODEC_NULL, 500, 2048, tmp, &plain_len);
            LS_CHECK(len < plain_len);
            free(plain);
            json_decref(tmp);
        }
        free(data);
        json_decref(written);
        json_decref(read);
    }
    ls_avro_schema_free(s);
}

LS_TEST(same_records_give_byte_identical_files)
{
    ls_avro_schema_t *s = parse(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}");
    json_t *v1 = json_array(), *v2 = json_array();
    size_t l1, l2;
    uint8_t *f1 = write_file(s, LS_AVRO_CODEC_DEFLATE, 10, 0, v1, &l1);
    uint8_t *f2 = write_file(s, LS_AVRO_CODEC_DEFLATE, 10, 0, v2, &l2);
    LS_CHECK(l1 == l2 && memcmp(f1, f2, l1) == 0);
    free(f1);
    free(f2);
    json_decref(v1);
    json_decref(v2);
    ls_avro_schema_free(s);
}

LS_TEST(corrupt_or_truncated_files_are_errors)
{
    const ls_embedded_file_t *f = ls_embedded_find("schemas/avro/vqe_decorated_result.avsc");
    LS_REQUIRE(f != NULL);
    ls_avro_schema_t *s = parse((const char *)f->data);
    for (int codec = 0; codec <= LS_AVRO_CODEC_ZSTANDARD; codec++) {
        json_t *written = json_array();
        size_t len;
        uint8_t *data = write_file(s, (ls_avro_codec_t)codec, 20, 3000, written, &len);
        ls_error_t err;
        /* Each prefix either fails or yields fewer records; copies let ASan catch over-reads. */
        for (size_t n = 0; n < len; n += (codec == 0 ? 7 : 3)) {
            uint8_t *copy = ls_malloc(n);
            memcpy(copy, data, n);
            json_t *read = json_array();
            ls_err_t rc = read_all(copy, n, read, &err);
            LS_CHECK(rc != LS_ERR_OK || json_array_size(read) < 20);
            json_decref(read);
            free(copy);
        }
        /* A damaged sync marker after the first block. */
        uint8_t *bad = ls_malloc(len);
        memcpy(bad, data, len);
        bad[len - 1] ^= 0xff;
        json_t *read = json_array();
        LS_CHECK_INT_EQ(read_all(bad, len, read, &err), LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(strstr(err.message, "sync") != NULL);
        json_decref(read);
        free(bad);
        /* Decompressed block bigger than the configured limit. */
        ls_avro_container_reader_t *r;
        LS_REQUIRE(ls_avro_container_reader_open(
                       data, len, &(ls_avro_container_limits_t){.max_block_bytes = 100}, &r,
                       &err) == LS_ERR_OK);
        const uint8_t *rec;
        size_t rl;
        LS_CHECK_INT_EQ(ls_avro_container_reader_next(r, &rec, &rl, &err), LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(strstr(err.message, "limit") != NULL);
        ls_avro_container_reader_free(r);
        free(data);
        json_decref(written);
    }
    ls_error_t err;
    ls_avro_container_reader_t *r = NULL;
    LS_CHECK_INT_EQ(ls_avro_container_reader_open((const uint8_t *)"PAR1xxxx", 8, NULL, &r, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "magic") != NULL);
    /* Header with an unsupported codec. */
    const uint8_t hdr[] = {'O', 'b', 'j', 1,   4,   22,  'a', 'v', 'r', 'o', '.', 's',
                           'c', 'h', 'e', 'm', 'a', 10,  '"', 'i', 'n', 't', '"', 20,
                           'a', 'v', 'r', 'o', '.', 'c', 'o', 'd', 'e', 'c', 10,  'b',
                           'z', 'i', 'p', '2', 0,   1,   2,   3,   4,   5,   6,   7,
                           8,   9,   10,  11,  12,  13,  14,  15,  16};
    LS_CHECK_INT_EQ(ls_avro_container_reader_open(hdr, sizeof(hdr), NULL, &r, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "bzip2") != NULL);
    /* The same header with codec "null" and one block claiming 2^40 records in 1 byte. */
    uint8_t blk[sizeof(hdr) + 32];
    memcpy(blk, hdr, sizeof(hdr));
    memcpy(blk + 34, "\x08null", 5);
    size_t n = 34 + 5;
    memcpy(blk + n, hdr + 40, 17);
    n += 17;
    const uint8_t block[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x02, 0x02};
    memcpy(blk + n, block, sizeof(block));
    n += sizeof(block);
    memcpy(blk + n, hdr + 41, 16);
    n += 16;
    LS_REQUIRE(ls_avro_container_reader_open(blk, n, NULL, &r, &err) == LS_ERR_OK);
    const uint8_t *rec;
    size_t rl;
    LS_CHECK_INT_EQ(ls_avro_container_reader_next(r, &rec, &rl, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "count") != NULL);
    ls_avro_container_reader_free(r);
    /* Appending bytes that are not one record of the schema is refused. */
    ls_avro_container_writer_t *w;
    LS_REQUIRE(ls_avro_container_writer_new(s, NULL, &w, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_avro_container_writer_append(w, (const uint8_t *)"\x02", 1, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_avro_container_writer_count(w), 0);
    ls_avro_container_writer_free(w);
    ls_avro_schema_free(s);
}

LS_TEST_MAIN(LS_T(container_round_trips_with_every_codec_and_keeps_the_original_schema_text),
             LS_T(same_records_give_byte_identical_files),
             LS_T(corrupt_or_truncated_files_are_errors))
