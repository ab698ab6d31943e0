#include <math.h>
#include <string.h>

#include "avro/decoder.h"
#include "avro/framing.h"
#include "avro/sample.h"
#include "core/embedded.h"
#include "test.h"

static ls_avro_schema_t *parse(const char *text)
{
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    if (ls_avro_schema_parse(text, strlen(text), NULL, &s, &err) != LS_ERR_OK) {
        fprintf(stderr, "schema: %s\n", err.message);
        abort();
    }
    return s;
}

static ls_avro_schema_t *embedded(const char *path)
{
    const ls_embedded_file_t *f = ls_embedded_find(path);
    LS_REQUIRE(f != NULL);
    return parse((const char *)f->data);
}

static void encode_or_die(const ls_avro_node_t *n, json_t *v, ls_avro_buf_t *buf)
{
    ls_error_t err;
    if (ls_avro_encode_json(n, v, buf, &err) != LS_ERR_OK) {
        fprintf(stderr, "encode: %s\n", err.message);
        abort();
    }
}

LS_TEST(vqe_and_alert_records_round_trip_through_encoder_and_json_decoder)
{
    const char *files[] = {"schemas/avro/vqe_decorated_result.avsc", "schemas/avro/alert.avsc",
                           "schemas/avro/order.avsc"};
    for (size_t f = 0; f < 3; f++) {
        ls_avro_schema_t *s = embedded(files[f]);
        const ls_avro_node_t *root = ls_avro_schema_root(s);
        ls_avro_json_decoder_t *d;
        ls_error_t err;
        LS_REQUIRE(ls_avro_json_decoder_new(root, NULL, &d, &err) == LS_ERR_OK);
        for (uint64_t seed = 1; seed <= 20; seed++) {
            ls_avro_sample_options_t o = {
                .seed = seed, .array_items = seed % 5, .bytes_length = 100, .null_ratio = 0.3};
            json_t *v = ls_avro_sample_value(root, &o);
            ls_avro_buf_t buf = {0};
            encode_or_die(root, v, &buf);
            json_t *back = NULL;
            LS_CHECK_INT_EQ(ls_avro_json_decode(d, buf.data, buf.len, &back, &err), LS_ERR_OK);
            LS_CHECK(back && json_equal(v, back));
            /* The interpretive skip agrees on the record's length. */
            const uint8_t *p = buf.data;
            LS_CHECK_INT_EQ(ls_avro_skip(root, &p, buf.data + buf.len, &err), LS_ERR_OK);
            LS_CHECK(p == buf.data + buf.len);
            json_decref(back);
            json_decref(v);
            ls_avro_buf_free(&buf);
        }
        ls_avro_json_decoder_free(d);
        ls_avro_schema_free(s);
    }
}

LS_TEST(known_encoding_bytes_match_the_avro_spec)
{
    ls_avro_schema_t *s =
        parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"},"
              "{\"name\":\"b\",\"type\":\"string\"},{\"name\":\"c\",\"type\":[\"null\",\"int\"]},"
              "{\"name\":\"d\",\"type\":{\"type\":\"array\",\"items\":\"int\"}}]}");
    json_t *v = json_pack("{s:i,s:s,s:i,s:[i,i]}", "a", -64, "b", "foo", "c", 1, "d", 3, 27);
    ls_avro_buf_t buf = {0};
    encode_or_die(ls_avro_schema_root(s), v, &buf);
    /* -64 zigzag = 127 = 0x7f; "foo" = len 3 (0x06) + bytes; union branch 1 (0x02) + 1 (0x02);
       array block of 2 (0x04), 3 (0x06), 27 (0x36), end (0x00). */
    const uint8_t expect[] = {0x7f, 0x06, 'f', 'o', 'o', 0x02, 0x02, 0x04, 0x06, 0x36, 0x00};
    LS_CHECK_INT_EQ(buf.len, sizeof(expect));
    LS_CHECK(memcmp(buf.data, expect, sizeof(expect)) == 0);
    json_decref(v);
    ls_avro_buf_free(&buf);
    ls_avro_schema_free(s);
}

static const char *alert_paths[] = {"objectId",           "candid",
                                    "candidate.ra",       "candidate.dec",
                                    "candidate.magpsf",   "candidate.fid",
                                    "candidate.ssnamenr", "cutoutScience.stampData",
                                    "candidate.rb",       "candidate.isdiffpos"};

LS_TEST(extractor_pulls_wanted_alert_fields_and_skips_the_rest)
{
    ls_avro_schema_t *s = embedded("schemas/avro/alert.avsc");
    const ls_avro_node_t *root = ls_avro_schema_root(s);
    ls_avro_extractor_t *x;
    ls_error_t err;
    LS_REQUIRE(ls_avro_extractor_compile(root, NULL, alert_paths, 10, &x, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_avro_extractor_slot_count(x), 10);
    int saw_null_ssnamenr = 0, saw_null_cutout = 0, saw_value_cutout = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        ls_avro_sample_options_t o = {
            .seed = seed, .array_items = 7, .bytes_length = 4000, .null_ratio = 0.4};
        json_t *v = ls_avro_sample_value(root, &o);
        ls_avro_buf_t buf = {0};
        encode_or_die(root, v, &buf);
        ls_avro_slot_t slots[10];
        LS_REQUIRE(ls_avro_extractor_run(x, buf.data, buf.len, slots, &err) == LS_ERR_OK);
        json_t *cand = json_object_get(v, "candidate");
        LS_CHECK_INT_EQ(slots[0].kind, LS_AVRO_SLOT_STRING);
        LS_CHECK(slots[0].bytes.len == json_string_length(json_object_get(v, "objectId")) &&
                 memcmp(slots[0].bytes.ptr, json_string_value(json_object_get(v, "objectId")),
                        slots[0].bytes.len) == 0);
        LS_CHECK_INT_EQ(slots[1].kind, LS_AVRO_SLOT_LONG);
        LS_CHECK(slots[1].v.i == json_integer_value(json_object_get(v, "candid")));
        LS_CHECK_INT_EQ(slots[2].kind, LS_AVRO_SLOT_DOUBLE);
        LS_CHECK(slots[2].v.d == json_real_value(json_object_get(cand, "ra")));
        LS_CHECK(slots[3].v.d == json_real_value(json_object_get(cand, "dec")));
        LS_CHECK_INT_EQ(slots[4].kind, LS_AVRO_SLOT_FLOAT);
        LS_CHECK(slots[4].v.d == json_real_value(json_object_get(cand, "magpsf")));
        LS_CHECK_INT_EQ(slots[5].kind, LS_AVRO_SLOT_INT);
        LS_CHECK(slots[5].v.i == json_integer_value(json_object_get(cand, "fid")));
        json_t *ss = json_object_get(cand, "ssnamenr");
        if (json_is_null(ss)) {
            saw_null_ssnamenr++;
            LS_CHECK_INT_EQ(slots[6].kind, LS_AVRO_SLOT_NULL);
        } else {
            LS_CHECK_INT_EQ(slots[6].kind, LS_AVRO_SLOT_STRING);
            LS_CHECK(slots[6].bytes.len == json_string_length(ss) &&
                     memcmp(slots[6].bytes.ptr, json_string_value(ss), slots[6].bytes.len) == 0);
        }
        json_t *cut = json_object_get(v, "cutoutScience");
        if (json_is_null(cut)) {
            saw_null_cutout++;
            LS_CHECK_INT_EQ(slots[7].kind, LS_AVRO_SLOT_NULL);
        } else {
            saw_value_cutout++;
            LS_CHECK_INT_EQ(slots[7].kind, LS_AVRO_SLOT_BYTES);
            LS_CHECK_INT_EQ(slots[7].bytes.len, 4000);
            /* The slot borrows from the input buffer. */
            LS_CHECK(slots[7].bytes.ptr > buf.data && slots[7].bytes.ptr < buf.data + buf.len);
        }
        json_t *rb = json_object_get(cand, "rb");
        LS_CHECK(json_is_null(rb) ? slots[8].kind == LS_AVRO_SLOT_NULL
                                  : slots[8].v.d == json_real_value(rb));
        json_decref(v);
        ls_avro_buf_free(&buf);
    }
    LS_CHECK(saw_null_ssnamenr > 0 && saw_null_cutout > 0 && saw_value_cutout > 0);
    ls_avro_extractor_free(x);
    ls_avro_schema_free(s);
}

LS_TEST(extractor_rejects_unknown_and_non_scalar_paths)
{
    ls_avro_schema_t *s = embedded("schemas/avro/alert.avsc");
    const ls_avro_node_t *root = ls_avro_schema_root(s);
    ls_avro_extractor_t *x = NULL;
    ls_error_t err;
    const char *unknown[] = {"candidate.nosuch"};
    LS_CHECK_INT_EQ(ls_avro_extractor_compile(root, NULL, unknown, 1, &x, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "nosuch") != NULL);
    LS_CHECK_STR_EQ(err.path, "candidate.nosuch");
    const char *record[] = {"candidate"};
    LS_CHECK_INT_EQ(ls_avro_extractor_compile(root, NULL, record, 1, &x, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "scalar") != NULL);
    const char *through_array[] = {"prv_candidates.jd"};
    LS_CHECK_INT_EQ(ls_avro_extractor_compile(root, NULL, through_array, 1, &x, &err),
                    LS_ERR_INVALID_ARGUMENT);
    const char *dup[] = {"candid", "candid"};
    LS_CHECK_INT_EQ(ls_avro_extractor_compile(root, NULL, dup, 2, &x, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(x == NULL);
    ls_avro_schema_free(s);
}

#define WRITER                                                                                     \
    "{\"type\":\"record\",\"name\":\"w.Rec\",\"fields\":[{\"name\":\"i\",\"type\":\"int\"},"       \
    "{\"name\":\"gone\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"                      \
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"old_name\",\"type\":\"float\"},"             \
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}}" \
    ","                                                                                            \
    "{\"name\":\"u\",\"type\":[\"null\",\"int\",\"string\"]},"                                     \
    "{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"x\","    \
    "\"type\":\"long\"}]}}]}"
#define READER                                                                                     \
    "{\"type\":\"record\",\"name\":\"r.Rec\",\"aliases\":[\"w.Rec\"],\"fields\":[{\"name\":\"i\"," \
    "\"type\":\"double\"},"                                                                        \
    "{\"name\":\"s\",\"type\":[\"null\",\"bytes\"]},{\"name\":\"new_name\",\"aliases\":[\"old_"    \
    "name\"],\"type\":\"double\"},"                                                                \
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"Z\"],"  \
    "\"default\":\"Z\"}},"                                                                         \
    "{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"                                    \
    "{\"name\":\"added\",\"type\":\"string\",\"default\":\"dflt\"},"                               \
    "{\"name\":\"added_rec\",\"type\":{\"type\":\"record\",\"name\":\"AR\",\"fields\":[{\"name\":" \
    "\"q\",\"type\":\"int\"}]},\"default\":{\"q\":7}},"                                            \
    "{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"x\","    \
    "\"type\":\"double\"}]}}]}"

LS_TEST(writer_data_is_resolved_to_the_reader_schema)
{
    ls_avro_schema_t *w = parse(WRITER), *r = parse(READER);
    json_t *v =
        json_pack("{s:i,s:[s,s],s:s,s:f,s:s,s:s,s:{s:I}}", "i", 42, "gone", "x", "y", "s", "hi",
                  "old_name", 1.5, "e", "C", "u", "str", "n", "x", (json_int_t)1 << 40);
    ls_avro_buf_t buf = {0};
    encode_or_die(ls_avro_schema_root(w), v, &buf);
    ls_avro_json_decoder_t *d;
    ls_error_t err;
    LS_REQUIRE(ls_avro_json_decoder_new(ls_avro_schema_root(w), ls_avro_schema_root(r), &d, &err) ==
               LS_ERR_OK);
    json_t *out = NULL;
    LS_REQUIRE(ls_avro_json_decode(d, buf.data, buf.len, &out, &err) == LS_ERR_OK);
    char *text = json_dumps(out, JSON_COMPACT);
    LS_CHECK_STR_EQ(text,
                    "{\"i\":42.0,\"s\":\"hi\",\"new_name\":1.5,\"e\":\"Z\",\"u\":\"str\",\"added\":"
                    "\"dflt\",\"added_rec\":{\"q\":7},\"n\":{\"x\":1099511627776.0}}");
    free(text);
    json_decref(out);
    ls_avro_json_decoder_free(d);

    const char *paths[] = {"i", "s", "new_name", "e", "u", "added", "added_rec.q", "n.x"};
    ls_avro_extractor_t *x;
    LS_REQUIRE(ls_avro_extractor_compile(ls_avro_schema_root(w), ls_avro_schema_root(r), paths, 8,
                                         &x, &err) == LS_ERR_OK);
    ls_avro_slot_t sl[8];
    LS_REQUIRE(ls_avro_extractor_run(x, buf.data, buf.len, sl, &err) == LS_ERR_OK);
    LS_CHECK(sl[0].kind == LS_AVRO_SLOT_DOUBLE && sl[0].v.d == 42.0);
    LS_CHECK(sl[1].kind == LS_AVRO_SLOT_BYTES && sl[1].bytes.len == 2 &&
             memcmp(sl[1].bytes.ptr, "hi", 2) == 0);
    LS_CHECK(sl[2].kind == LS_AVRO_SLOT_DOUBLE && sl[2].v.d == 1.5);
    LS_CHECK(sl[3].kind == LS_AVRO_SLOT_ENUM && sl[3].v.i == 2 &&
             memcmp(sl[3].bytes.ptr, "Z", 1) == 0);
    LS_CHECK(sl[4].kind == LS_AVRO_SLOT_STRING && sl[4].bytes.len == 3);
    LS_CHECK(sl[5].kind == LS_AVRO_SLOT_STRING && sl[5].bytes.len == 4 &&
             memcmp(sl[5].bytes.ptr, "dflt", 4) == 0);
    LS_CHECK(sl[6].kind == LS_AVRO_SLOT_INT && sl[6].v.i == 7);
    LS_CHECK(sl[7].kind == LS_AVRO_SLOT_DOUBLE && sl[7].v.d == 1099511627776.0);
    ls_avro_extractor_free(x);

    /* The reverse direction is incompatible (reader lacks defaults): refused up front. */
    const char *one[] = {"i"};
    x = NULL;
    LS_CHECK_INT_EQ(
        ls_avro_extractor_compile(ls_avro_schema_root(r), ls_avro_schema_root(w), one, 1, &x, &err),
        LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(x == NULL);
    LS_CHECK_INT_EQ(
        ls_avro_json_decoder_new(ls_avro_schema_root(r), ls_avro_schema_root(w), &d, &err),
        LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "READER_FIELD_MISSING_DEFAULT_VALUE") ||
             strstr(err.message, "TYPE_MISMATCH"));
    json_decref(v);
    ls_avro_buf_free(&buf);
    ls_avro_schema_free(w);
    ls_avro_schema_free(r);
}

LS_TEST(malformed_input_is_an_error_never_a_crash)
{
    ls_avro_schema_t *s = embedded("schemas/avro/vqe_decorated_result.avsc");
    const ls_avro_node_t *root = ls_avro_schema_root(s);
    ls_avro_sample_options_t o = {.seed = 9, .array_items = 3};
    json_t *v = ls_avro_sample_value(root, &o);
    ls_avro_buf_t buf = {0};
    encode_or_die(root, v, &buf);
    ls_avro_json_decoder_t *d;
    ls_error_t err;
    LS_REQUIRE(ls_avro_json_decoder_new(root, NULL, &d, &err) == LS_ERR_OK);
    const char *paths[] = {"basis_set", "molecule_id"};
    ls_avro_extractor_t *x;
    LS_REQUIRE(ls_avro_extractor_compile(root, NULL, paths, 2, &x, &err) == LS_ERR_OK);
    ls_avro_slot_t sl[2];
    /* Every strict prefix is truncated. Copies so ASan sees reads past the end. */
    for (size_t n = 0; n < buf.len; n++) {
        uint8_t *copy = ls_malloc(n);
        memcpy(copy, buf.data, n);
        json_t *out = NULL;
        LS_CHECK_INT_EQ(ls_avro_json_decode(d, copy, n, &out, &err), LS_ERR_INVALID_ARGUMENT);
        LS_CHECK_INT_EQ(ls_avro_extractor_run(x, copy, n, sl, &err), LS_ERR_INVALID_ARGUMENT);
        free(copy);
    }
    /* Trailing bytes. */
    uint8_t *longer = ls_malloc(buf.len + 1);
    memcpy(longer, buf.data, buf.len);
    longer[buf.len] = 0;
    json_t *out = NULL;
    LS_CHECK_INT_EQ(ls_avro_json_decode(d, longer, buf.len + 1, &out, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "trailing") != NULL);
    LS_CHECK_INT_EQ(ls_avro_extractor_run(x, longer, buf.len + 1, sl, &err),
                    LS_ERR_INVALID_ARGUMENT);
    free(longer);
    json_decref(v);
    ls_avro_buf_free(&buf);
    ls_avro_extractor_free(x);
    ls_avro_json_decoder_free(d);
    ls_avro_schema_free(s);

    s = parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"u\",\"type\":[\"null\","
              "\"string\"]},"
              "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"null\"}}]}");
    root = ls_avro_schema_root(s);
    LS_REQUIRE(ls_avro_json_decoder_new(root, NULL, &d, &err) == LS_ERR_OK);
    const char *p1[] = {"u"};
    LS_REQUIRE(ls_avro_extractor_compile(root, NULL, p1, 1, &x, &err) == LS_ERR_OK);
    static const struct {
        uint8_t bytes[16];
        size_t len;
        const char *needle;
    } bad[] = {
        {{0x04, 0x00}, 2, "union index"},                           /* branch 2 of 2 */
        {{0x01, 0x00}, 2, "union index"},                           /* branch -1 */
        {{0x02, 0x01, 'a', 0x00}, 4, "negative length"},            /* length -1 */
        {{0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00}, 7, "exceeds"}, /* length 2^31-1 */
        {{0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12, "varint"},
        {{0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00},
         12,
         "empty items"}, /* 2^62 nulls */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = NULL;
        LS_CHECK_INT_EQ(ls_avro_json_decode(d, bad[i].bytes, bad[i].len, &out, &err),
                        LS_ERR_INVALID_ARGUMENT);
        if (!strstr(err.message, bad[i].needle)) {
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, err.message, bad[i].needle);
            LS_CHECK(!"clear decode error");
        }
        LS_CHECK(out == NULL);
        LS_CHECK_INT_EQ(ls_avro_extractor_run(x, bad[i].bytes, bad[i].len, sl, &err),
                        LS_ERR_INVALID_ARGUMENT);
    }
    ls_avro_extractor_free(x);
    ls_avro_json_decoder_free(d);
    ls_avro_schema_free(s);
}

/* Regressions found by tests/fuzz/avro_decode_fuzz.c: the three decoders must
 * agree on what is one valid record. */
LS_TEST(decoders_agree_on_edge_encodings_found_by_fuzzing)
{
    ls_avro_schema_t *s =
        parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
              "{\"name\":\"o\",\"type\":[\"null\",\"long\"]},"
              "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"null\"}}]}");
    const ls_avro_node_t *root = ls_avro_schema_root(s);
    ls_avro_json_decoder_t *d;
    ls_avro_extractor_t *x;
    ls_error_t err;
    const char *paths[] = {"v", "o"};
    LS_REQUIRE(ls_avro_json_decoder_new(root, NULL, &d, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_avro_extractor_compile(root, NULL, paths, 2, &x, &err) == LS_ERR_OK);
    static const struct {
        uint8_t bytes[16];
        size_t len;
        bool valid;
    } cases[] = {
        {{0x02, 0x82, 0x00, 0x04, 0x00}, 5, true},              /* overlong union index 1 */
        {{0xfe, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x00}, 7, false}, /* int beyond 32 bits */
        {{0x02, 0x00, 0x01, 0x00, 0x02, 'k', 0x00},
         7,
         false}, /* block size 0 but 2 bytes of items */
        {{0x02, 0x00, 0x01, 0x04, 0x02, 'k', 0x00}, 7, true}, /* block size 2: right */
        {{0x02, 0x00, 0x02, 0x02, 0x00, 0x00}, 6, false}, /* map key with a NUL byte (JSON only) */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *out = NULL;
        ls_avro_slot_t sl[2];
        ls_err_t jrc = ls_avro_json_decode(d, cases[i].bytes, cases[i].len, &out, &err);
        LS_CHECK_INT_EQ(jrc, cases[i].valid ? LS_ERR_OK : LS_ERR_INVALID_ARGUMENT);
        json_decref(out);
        if (i == 2 || i == 4)
            continue; /* skipping decoders trust block sizes and do not look at keys */
        LS_CHECK_INT_EQ(ls_avro_extractor_run(x, cases[i].bytes, cases[i].len, sl, &err),
                        cases[i].valid ? LS_ERR_OK : LS_ERR_INVALID_ARGUMENT);
        const uint8_t *p = cases[i].bytes;
        ls_err_t src = ls_avro_skip(root, &p, cases[i].bytes + cases[i].len, &err);
        LS_CHECK(cases[i].valid ? src == LS_ERR_OK && p == cases[i].bytes + cases[i].len
                                : src != LS_ERR_OK);
    }
    ls_avro_extractor_free(x);
    ls_avro_json_decoder_free(d);
    ls_avro_schema_free(s);
}

LS_TEST(invalid_utf8_string_fails_json_decode)
{
    ls_avro_schema_t *s = parse("\"string\"");
    ls_avro_json_decoder_t *d;
    ls_error_t err;
    LS_REQUIRE(ls_avro_json_decoder_new(ls_avro_schema_root(s), NULL, &d, &err) == LS_ERR_OK);
    const uint8_t bytes[] = {0x04, 0xc3, 0x28};
    json_t *out = NULL;
    LS_CHECK_INT_EQ(ls_avro_json_decode(d, bytes, sizeof(bytes), &out, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "UTF-8") != NULL);
    ls_avro_json_decoder_free(d);
    ls_avro_schema_free(s);
}

LS_TEST(encoder_reports_the_path_of_a_value_that_does_not_fit)
{
    ls_avro_schema_t *s = embedded("schemas/avro/vqe_decorated_result.avsc");
    json_t *v = ls_avro_sample_value(ls_avro_schema_root(s),
                                     &(ls_avro_sample_options_t){.seed = 3, .array_items = 2});
    json_t *mol = json_object_get(v, "molecule");
    json_array_set_new(json_object_get(mol, "symbols"), 1, json_integer(5));
    ls_avro_buf_t buf = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_avro_encode_json(ls_avro_schema_root(s), v, &buf, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.molecule.symbols[1]");
    json_object_del(v, "basis_set");
    LS_CHECK_INT_EQ(ls_avro_encode_json(ls_avro_schema_root(s), v, &buf, &err),
                    LS_ERR_INVALID_ARGUMENT);
    json_decref(v);
    ls_avro_buf_free(&buf);
    ls_avro_schema_free(s);
}

LS_TEST(confluent_framing_round_trips_and_rejects_bad_headers)
{
    size_t len;
    uint8_t *framed = ls_avro_frame_encode(0x01020304, "abc", 3, &len);
    LS_CHECK_INT_EQ(len, 8);
    const uint8_t expect[] = {0, 1, 2, 3, 4, 'a', 'b', 'c'};
    LS_CHECK(memcmp(framed, expect, 8) == 0);
    int32_t id;
    const uint8_t *body;
    size_t body_len;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_avro_frame_decode(framed, len, &id, &body, &body_len, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(id, 0x01020304);
    LS_CHECK(body == framed + 5 && body_len == 3);
    LS_CHECK_INT_EQ(ls_avro_frame_decode(framed, 4, &id, &body, &body_len, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "too short") != NULL);
    framed[0] = 1;
    LS_CHECK_INT_EQ(ls_avro_frame_decode(framed, len, &id, &body, &body_len, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "magic") != NULL);
    const uint8_t neg[] = {0, 0x80, 0, 0, 1};
    LS_CHECK_INT_EQ(ls_avro_frame_decode(neg, 5, &id, &body, &body_len, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_avro_frame_decode(expect, 5, &id, &body, &body_len, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(body_len, 0);
    free(framed);
}

LS_TEST_MAIN(LS_T(vqe_and_alert_records_round_trip_through_encoder_and_json_decoder),
             LS_T(known_encoding_bytes_match_the_avro_spec),
             LS_T(extractor_pulls_wanted_alert_fields_and_skips_the_rest),
             LS_T(extractor_rejects_unknown_and_non_scalar_paths),
             LS_T(writer_data_is_resolved_to_the_reader_schema),
             LS_T(malformed_input_is_an_error_never_a_crash),
             LS_T(decoders_agree_on_edge_encodings_found_by_fuzzing),
             LS_T(invalid_utf8_string_fails_json_decode),
             LS_T(encoder_reports_the_path_of_a_value_that_does_not_fit),
             LS_T(confluent_framing_round_trips_and_rejects_bad_headers))
