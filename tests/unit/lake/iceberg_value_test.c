#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lake/iceberg_value.h"
#include "test.h"

static ls_parquet_value_t parse(const char *type, json_t *j, uint8_t **store)
{
    ls_iceberg_type_t t;
    ls_error_t err;
    ls_parquet_value_t v;
    if (ls_iceberg_type_parse(type, &t, &err) != LS_ERR_OK ||
        ls_iceberg_value_from_json(&t, j, "$", &v, store, &err) != LS_ERR_OK) {
        fprintf(stderr, "parse %s: %s\n", type, err.message);
        abort();
    }
    json_decref(j);
    return v;
}

static int32_t hash_of(const char *type, json_t *j)
{
    uint8_t *store = NULL;
    ls_parquet_value_t v = parse(type, j, &store);
    int32_t h = 0;
    if (!ls_iceberg_hash(&v, &h))
        abort();
    free(store);
    return h;
}

LS_TEST(murmur3_hashes_match_the_spec_appendix_b_vectors)
{
    LS_CHECK_INT_EQ(hash_of("int", json_integer(34)), 2017239379);
    LS_CHECK_INT_EQ(hash_of("long", json_integer(34)), 2017239379);
    LS_CHECK_INT_EQ(hash_of("decimal(9,2)", json_string("14.20")), -500754589);
    LS_CHECK_INT_EQ(hash_of("date", json_string("2017-11-16")), -653330422);
    LS_CHECK_INT_EQ(hash_of("time", json_string("22:31:08")), -662762989);
    LS_CHECK_INT_EQ(hash_of("timestamp", json_string("2017-11-16T22:31:08")), -2047944441);
    LS_CHECK_INT_EQ(hash_of("timestamp", json_string("2017-11-16T22:31:08.000001")), -1207196810);
    LS_CHECK_INT_EQ(hash_of("timestamptz", json_string("2017-11-16T14:31:08-08:00")), -2047944441);
    LS_CHECK_INT_EQ(hash_of("timestamptz", json_string("2017-11-16T14:31:08.000001-08:00")),
                    -1207196810);
    LS_CHECK_INT_EQ(hash_of("string", json_string("iceberg")), 1210000089);
    LS_CHECK_INT_EQ(hash_of("uuid", json_string("f79c3e09-677c-4bbd-a479-3f349cb785e7")),
                    1488055340);
    LS_CHECK_INT_EQ(hash_of("fixed[4]", json_string("00010203")), -188683207);
    LS_CHECK_INT_EQ(hash_of("binary", json_string("00010203")), -188683207);
    ls_parquet_value_t d = {.type = LS_PARQUET_DOUBLE, .v.d = 1.0};
    int32_t h;
    LS_CHECK(!ls_iceberg_hash(&d, &h));
}

static ls_parquet_value_t apply(const char *transform, const char *type, json_t *j, uint8_t **store)
{
    ls_iceberg_transform_t t;
    ls_error_t err;
    ls_iceberg_type_t src, res;
    if (ls_iceberg_transform_parse(transform, &t, &err) != LS_ERR_OK ||
        ls_iceberg_type_parse(type, &src, &err) != LS_ERR_OK ||
        ls_iceberg_transform_result_type(&t, &src, &res, &err) != LS_ERR_OK)
        abort();
    ls_parquet_value_t in = parse(type, j, store), out;
    if (!ls_iceberg_transform_apply(&t, &in, &out))
        abort();
    return out;
}

LS_TEST(bucket_and_truncate_follow_the_spec_examples)
{
    uint8_t *s = NULL;
    /* bucket: (hash & Integer.MAX_VALUE) % N */
    LS_CHECK_INT_EQ(apply("bucket[16]", "int", json_integer(34), &s).v.i32,
                    (2017239379 & 0x7fffffff) % 16);
    LS_CHECK_INT_EQ(apply("bucket[100]", "string", json_string("iceberg"), &s).v.i32,
                    1210000089 % 100);
    free(s);
    LS_CHECK_INT_EQ(apply("bucket[1000]", "decimal(9,2)", json_string("14.20"), &s).v.i32,
                    (int)((-500754589 & 0x7fffffff) % 1000));
    LS_CHECK_INT_EQ(apply("truncate[10]", "int", json_integer(1), &s).v.i32, 0);
    LS_CHECK_INT_EQ(apply("truncate[10]", "int", json_integer(-1), &s).v.i32, -10);
    LS_CHECK_INT_EQ(apply("truncate[10]", "long", json_integer(-1), &s).v.i64, -10);
    LS_CHECK(apply("truncate[50]", "decimal(9,2)", json_string("10.65"), &s).v.dec == 1050);
    ls_parquet_value_t v = apply("truncate[3]", "string", json_string("iceberg"), &s);
    LS_CHECK_INT_EQ((int)v.v.bytes.len, 3);
    LS_CHECK(memcmp(v.v.bytes.ptr, "ice", 3) == 0);
    free(s);
    /* code points, not bytes: "äöü" keeps two characters = 4 bytes */
    v = apply("truncate[2]", "string", json_string("\xc3\xa4\xc3\xb6\xc3\xbc"), &s);
    LS_CHECK_INT_EQ((int)v.v.bytes.len, 4);
    free(s);
}

LS_TEST(time_transforms_give_epoch_ordinals_also_before_1970)
{
    uint8_t *s = NULL;
    LS_CHECK_INT_EQ(apply("day", "date", json_string("2017-11-16"), &s).v.i32, 17486);
    LS_CHECK_INT_EQ(apply("year", "date", json_string("2017-11-16"), &s).v.i32, 47);
    LS_CHECK_INT_EQ(apply("month", "date", json_string("2017-11-16"), &s).v.i32, 47 * 12 + 10);
    LS_CHECK_INT_EQ(apply("month", "date", json_string("1970-01-01"), &s).v.i32, 0);
    LS_CHECK_INT_EQ(apply("month", "date", json_string("1969-12-31"), &s).v.i32, -1);
    LS_CHECK_INT_EQ(apply("year", "timestamp", json_string("1969-12-31T23:59:59"), &s).v.i32, -1);
    LS_CHECK_INT_EQ(apply("day", "timestamp", json_string("1969-12-31T23:59:59"), &s).v.i32, -1);
    LS_CHECK_INT_EQ(apply("hour", "timestamp", json_string("1970-01-01T01:00:00"), &s).v.i32, 1);
    LS_CHECK_INT_EQ(apply("hour", "timestamp", json_string("1969-12-31T23:30:00"), &s).v.i32, -1);
    LS_CHECK_INT_EQ(
        apply("hour", "timestamptz", json_string("2017-11-16T22:31:08+00:00"), &s).v.i32,
        17486 * 24 + 22);
    ls_iceberg_transform_t t;
    ls_iceberg_type_t src, res;
    ls_error_t err;
    ls_iceberg_transform_parse("year", &t, &err);
    ls_iceberg_type_parse("string", &src, &err);
    LS_CHECK_INT_EQ(ls_iceberg_transform_result_type(&t, &src, &res, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_iceberg_transform_parse("bucket[0]", &t, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_iceberg_transform_parse("bucket[x]", &t, &err), LS_ERR_INVALID_ARGUMENT);
}

static void check_bytes(const char *type, json_t *j, const char *hex)
{
    uint8_t *s = NULL;
    ls_parquet_value_t v = parse(type, j, &s);
    ls_buf_t b = LS_BUF_INIT;
    ls_iceberg_value_to_bytes(&v, &b);
    char got[80] = "";
    for (size_t i = 0; i < b.len; i++)
        sprintf(got + 2 * i, "%02x", (uint8_t)b.data[i]);
    LS_CHECK_STR_EQ(got, hex);
    ls_iceberg_type_t t;
    ls_error_t err;
    ls_iceberg_type_parse(type, &t, &err);
    ls_parquet_value_t back;
    LS_CHECK_INT_EQ(ls_iceberg_value_from_bytes(&t, (const uint8_t *)b.data, b.len, &back, &err),
                    LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_iceberg_value_compare(&v, &back), 0);
    ls_buf_free(&b);
    free(s);
}

LS_TEST(single_value_binary_serialization_matches_the_spec)
{
    check_bytes("boolean", json_true(), "01");
    check_bytes("int", json_integer(1), "01000000");
    check_bytes("long", json_integer(-2), "feffffffffffffff");
    check_bytes("float", json_real(1.0), "0000803f");
    check_bytes("double", json_real(1.0), "000000000000f03f");
    check_bytes("date", json_string("1970-01-02"), "01000000");
    check_bytes("timestamp", json_integer(1), "0100000000000000");
    check_bytes("string", json_string("abc"), "616263");
    check_bytes("uuid", json_string("f79c3e09-677c-4bbd-a479-3f349cb785e7"),
                "f79c3e09677c4bbda4793f349cb785e7");
    /* decimals: minimal two's complement, big-endian */
    check_bytes("decimal(9,2)", json_string("14.20"), "058c");
    check_bytes("decimal(9,2)", json_string("-1.28"), "80");
    check_bytes("decimal(9,2)", json_string("1.28"), "0080");
    check_bytes("decimal(9,2)", json_string("0"), "00");
    ls_iceberg_type_t t;
    ls_error_t err;
    ls_parquet_value_t v;
    ls_iceberg_type_parse("long", &t, &err);
    LS_CHECK_INT_EQ(ls_iceberg_value_from_bytes(&t, (const uint8_t *)"abc", 3, &v, &err),
                    LS_ERR_INVALID_ARGUMENT);
}

static void check_json_round_trip(const char *type, json_t *j, const char *text)
{
    uint8_t *s = NULL;
    ls_parquet_value_t v = parse(type, j, &s);
    ls_iceberg_type_t t;
    ls_error_t err;
    ls_iceberg_type_parse(type, &t, &err);
    json_t *out = ls_iceberg_value_to_json(&t, &v);
    char *dumped = json_dumps(out, JSON_ENCODE_ANY);
    LS_CHECK_STR_EQ(dumped, text);
    free(dumped);
    json_decref(out);
    free(s);
}

LS_TEST(json_values_round_trip_and_bad_ones_are_rejected)
{
    check_json_round_trip("timestamp", json_string("2017-11-16T22:31:08.5"),
                          "\"2017-11-16T22:31:08.500000\"");
    check_json_round_trip("timestamptz", json_string("2017-11-16T14:31:08-08:00"),
                          "\"2017-11-16T22:31:08.000000+00:00\"");
    check_json_round_trip("timestamp", json_string("1969-12-31T23:59:59.999999"),
                          "\"1969-12-31T23:59:59.999999\"");
    check_json_round_trip("date", json_integer(-1), "\"1969-12-31\"");
    check_json_round_trip("decimal(5,2)", json_string("-0.5"), "\"-0.50\"");
    check_json_round_trip("float", json_real(0.1), "0.10000000000000001");
    check_json_round_trip("binary", json_string("00ff"), "\"00ff\"");
    const char *bad[][2] = {{"int", "\"x\""},
                            {"date", "\"2017-13-01\""},
                            {"decimal(3,1)", "\"1.25\""},
                            {"decimal(3,1)", "\"100.0\""},
                            {"uuid", "\"nope\""},
                            {"fixed[2]", "\"00\""},
                            {"timestamp", "\"2017-11-16T25:00\""},
                            {"boolean", "1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ls_iceberg_type_t t;
        ls_error_t err;
        ls_parquet_value_t v;
        uint8_t *s = NULL;
        LS_CHECK_INT_EQ(ls_iceberg_type_parse(bad[i][0], &t, &err), LS_ERR_OK);
        json_t *j = json_loads(bad[i][1], JSON_DECODE_ANY, NULL);
        LS_CHECK_INT_EQ(ls_iceberg_value_from_json(&t, j, "$.x", &v, &s, &err),
                        LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(s == NULL);
        json_decref(j);
    }
    ls_iceberg_type_t t;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_iceberg_type_parse("decimal(40,2)", &t, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_iceberg_type_parse("struct", &t, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_iceberg_type_parse("decimal(10, 2)", &t, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(t.precision, 10);
}

LS_TEST_MAIN(LS_T(murmur3_hashes_match_the_spec_appendix_b_vectors),
             LS_T(bucket_and_truncate_follow_the_spec_examples),
             LS_T(time_transforms_give_epoch_ordinals_also_before_1970),
             LS_T(single_value_binary_serialization_matches_the_spec),
             LS_T(json_values_round_trip_and_bad_ones_are_rejected))
