/*
 * Tests of the codec's building blocks: the Thrift compact encoder/decoder
 * (server/lake/thrift_compact.c) and the RLE/bit-packed hybrid and
 * compression wrappers (server/lake/parquet_encoding.c), including hostile
 * input that must fail cleanly.
 */
#include "core/alloc.h"
#include "lake/parquet_internal.h"
#include "test.h"

static uint64_t rng_state = 12345;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

LS_TEST(thrift_round_trips_fields_lists_and_skips_unknown_ones)
{
    ls_thrift_writer_t w = {0};
    ls_thrift_write_struct_begin(&w);
    ls_thrift_write_i32_field(&w, 1, -7);
    ls_thrift_write_i64_field(&w, 40, INT64_MIN); /* delta > 15: long field header */
    ls_thrift_write_binary_field(&w, 41, "hello", 5);
    ls_thrift_write_bool_field(&w, 42, true);
    ls_thrift_write_bool_field(&w, 43, false);
    ls_thrift_write_field(&w, 44, LS_THRIFT_LIST);
    ls_thrift_write_list_begin(&w, LS_THRIFT_I32, 20);
    for (int i = 0; i < 20; i++)
        ls_thrift_write_i32(&w, i * 1000 - 5000);
    /* field 45: a struct holding a double, a map and a set, which our reader must skip */
    ls_thrift_write_field(&w, 45, LS_THRIFT_STRUCT);
    ls_thrift_write_struct_begin(&w);
    ls_thrift_write_field(&w, 1, LS_THRIFT_DOUBLE);
    double d = 2.5;
    ls_thrift_write_raw(&w, &d, 8);
    ls_thrift_write_field(&w, 2, LS_THRIFT_MAP);
    uint8_t map[] = {2, (LS_THRIFT_BINARY << 4) | LS_THRIFT_I32, 1, 'k', 2, 1, 'j', 4};
    ls_thrift_write_raw(&w, map, sizeof(map));
    ls_thrift_write_field(&w, 3, LS_THRIFT_SET);
    ls_thrift_write_list_begin(&w, LS_THRIFT_TRUE, 2);
    uint8_t bools[] = {1, 0};
    ls_thrift_write_raw(&w, bools, 2);
    ls_thrift_write_struct_end(&w);
    ls_thrift_write_i32_field(&w, 46, 99);
    ls_thrift_write_struct_end(&w);

    ls_error_t err;
    ls_thrift_reader_t r;
    ls_thrift_reader_init(&r, w.data, w.len, &err);
    ls_thrift_read_struct_begin(&r);
    int16_t id;
    int t;
    bool bv;
    int seen = 0;
    while (ls_thrift_read_field(&r, &id, &t, &bv)) {
        seen++;
        if (id == 1)
            LS_CHECK_INT_EQ(ls_thrift_read_i32(&r), -7);
        else if (id == 40)
            LS_CHECK(ls_thrift_read_i64(&r) == INT64_MIN);
        else if (id == 41) {
            size_t n;
            const uint8_t *p = ls_thrift_read_binary(&r, &n);
            LS_CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
        } else if (id == 42 || id == 43)
            LS_CHECK_INT_EQ(bv, id == 42);
        else if (id == 44) {
            int et;
            size_t n = ls_thrift_read_list_begin(&r, &et);
            LS_CHECK_INT_EQ(n, 20);
            LS_CHECK_INT_EQ(et, LS_THRIFT_I32);
            for (size_t i = 0; i < n; i++)
                LS_CHECK_INT_EQ(ls_thrift_read_i32(&r), (int)i * 1000 - 5000);
        } else if (id == 46)
            LS_CHECK_INT_EQ(ls_thrift_read_i32(&r), 99);
        else
            ls_thrift_skip(&r, t);
    }
    LS_CHECK(!r.failed);
    LS_CHECK_INT_EQ(seen, 8);
    LS_CHECK(r.p == r.end);

    /* every truncation fails cleanly (or stops early), never reads past the end */
    for (size_t cut = 0; cut < w.len; cut++) {
        uint8_t *part = ls_malloc(cut ? cut : 1);
        memcpy(part, w.data, cut);
        ls_thrift_reader_init(&r, part, cut, &err);
        ls_thrift_read_struct_begin(&r);
        while (ls_thrift_read_field(&r, &id, &t, NULL))
            ls_thrift_skip(&r, t);
        LS_CHECK(r.failed);
        free(part);
    }
    free(w.data);
}

LS_TEST(thrift_rejects_hostile_lengths_counts_and_depth)
{
    ls_error_t err;
    ls_thrift_reader_t r;
    /* binary claiming 2^40 bytes */
    uint8_t big_bin[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 'x'};
    ls_thrift_reader_init(&r, big_bin, sizeof(big_bin), &err);
    size_t n;
    LS_CHECK(ls_thrift_read_binary(&r, &n) == NULL && r.failed);
    LS_CHECK(strstr(err.message, "binary length") != NULL);
    /* list claiming a billion elements */
    uint8_t big_list[] = {0xF5, 0x80, 0x94, 0xEB, 0xDC, 0x03, 1};
    ls_thrift_reader_init(&r, big_list, sizeof(big_list), &err);
    int et;
    LS_CHECK_INT_EQ(ls_thrift_read_list_begin(&r, &et), 0);
    LS_CHECK(r.failed && strstr(err.message, "list count") != NULL);
    /* 11-byte varint */
    uint8_t long_varint[12];
    memset(long_varint, 0xFF, sizeof(long_varint));
    ls_thrift_reader_init(&r, long_varint, sizeof(long_varint), &err);
    ls_thrift_read_i64(&r);
    LS_CHECK(r.failed);
    /* structs nested 1000 deep: field 1 of type struct, again and again */
    uint8_t deep[1000];
    memset(deep, 0x1C, sizeof(deep));
    ls_thrift_reader_init(&r, deep, sizeof(deep), &err);
    ls_thrift_skip(&r, LS_THRIFT_STRUCT);
    LS_CHECK(r.failed && strstr(err.message, "deep") != NULL);
    /* unknown type nibble */
    uint8_t bad_type[] = {0x1D, 0};
    ls_thrift_reader_init(&r, bad_type, sizeof(bad_type), &err);
    int16_t id;
    int t;
    LS_CHECK(!ls_thrift_read_field(&r, &id, &t, NULL) && r.failed);
}

LS_TEST(rle_hybrid_round_trips_random_runs_at_every_bit_width)
{
    for (int bw = 0; bw <= 32; bw++) {
        uint32_t max = bw == 32 ? UINT32_MAX : (uint32_t)((1ull << bw) - 1);
        for (int trial = 0; trial < 20; trial++) {
            size_t n = rnd() % 300;
            uint32_t *v = ls_malloc((n + 1) * sizeof(uint32_t));
            for (size_t i = 0; i < n;) {
                uint32_t x = (uint32_t)(rnd() & max);
                size_t run = rnd() % 3 == 0 ? rnd() % 40 + 1 : 1; /* runs and noise */
                for (size_t k = 0; k < run && i < n; k++)
                    v[i++] = x;
            }
            ls_pq_buf_t out = {0};
            ls__pq_rle_encode_u32(&out, v, n, bw);
            uint32_t *back = ls_malloc((n + 1) * sizeof(uint32_t));
            ls_error_t err;
            long used = ls__pq_rle_decode_u32(out.data, out.len, bw, back, n, max, &err);
            LS_CHECK_INT_EQ(used, (long)out.len);
            LS_CHECK(n == 0 || memcmp(v, back, n * sizeof(uint32_t)) == 0);
            if (n && bw <= 8) { /* the u8 flavour used for levels agrees */
                uint8_t *v8 = ls_malloc(n), *b8 = ls_malloc(n);
                for (size_t i = 0; i < n; i++)
                    v8[i] = (uint8_t)v[i];
                ls_pq_buf_t o8 = {0};
                ls__pq_rle_encode_u8(&o8, v8, n, bw);
                LS_CHECK(o8.len == out.len && memcmp(o8.data, out.data, out.len) == 0);
                LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(o8.data, o8.len, bw, b8, n, max, &err),
                                (long)o8.len);
                LS_CHECK(memcmp(v8, b8, n) == 0);
                free(v8);
                free(b8);
                free(o8.data);
            }
            free(v);
            free(back);
            free(out.data);
        }
    }
}

LS_TEST(rle_hybrid_long_runs_are_compact_and_bad_runs_fail)
{
    uint8_t *levels = ls_malloc(1000000);
    memset(levels, 1, 1000000);
    ls_pq_buf_t out = {0};
    ls__pq_rle_encode_u8(&out, levels, 1000000, 1);
    LS_CHECK(out.len <= 5); /* one RLE run */
    ls_error_t err;
    uint8_t *back = ls_malloc(1000000);
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(out.data, out.len, 1, back, 1000000, 1, &err),
                    (long)out.len);
    LS_CHECK(back[0] == 1 && back[999999] == 1);
    /* a value above the allowed maximum (def level 2 when max is 1) */
    uint8_t run_of_two[] = {0x10, 0x02};
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(run_of_two, 2, 2, back, 8, 1, &err), -1);
    LS_CHECK(strstr(err.message, "out of range") != NULL);
    /* zero-length run (would loop forever), truncated bit-packed group, runs ending early */
    uint8_t zero_run[] = {0x00, 0x01};
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(zero_run, 2, 1, back, 8, 1, &err), -1);
    uint8_t short_pack[] = {0x03, 0xFF};
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(short_pack, 2, 3, back, 8, 7, &err), -1);
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(out.data, out.len, 1, back, 0, 1, &err), 0);
    uint8_t huge_groups[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
    LS_CHECK_INT_EQ(ls__pq_rle_decode_u8(huge_groups, 5, 1, back, 8, 1, &err), -1);
    free(levels);
    free(back);
    free(out.data);
}

LS_TEST(compression_round_trips_and_rejects_wrong_sizes)
{
    uint8_t in[5000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i % 17 == 0 ? rnd() : i / 100);
    ls_pq_codec_ctx_t c = {.zstd_level = 3};
    ls_error_t err;
    static const ls_parquet_codec_t codecs[] = {LS_PARQUET_UNCOMPRESSED, LS_PARQUET_SNAPPY,
                                                LS_PARQUET_ZSTD};
    for (int k = 0; k < 3; k++) {
        ls_pq_buf_t z = {0};
        LS_CHECK_INT_EQ(ls__pq_compress(&c, codecs[k], in, sizeof(in), &z, &err), LS_ERR_OK);
        if (codecs[k] != LS_PARQUET_UNCOMPRESSED)
            LS_CHECK(z.len < sizeof(in) / 2);
        uint8_t back[5000];
        LS_CHECK_INT_EQ(ls__pq_decompress(&c, codecs[k], z.data, z.len, back, sizeof(back), &err),
                        LS_ERR_OK);
        LS_CHECK(memcmp(in, back, sizeof(in)) == 0);
        /* a header that lies about the size, and garbage */
        LS_CHECK_INT_EQ(ls__pq_decompress(&c, codecs[k], z.data, z.len, back, 4999, &err),
                        LS_ERR_INVALID_ARGUMENT);
        z.data[z.len / 2] ^= 0x55;
        ls_err_t rc = ls__pq_decompress(&c, codecs[k], z.data, z.len / 2, back, sizeof(back), &err);
        LS_CHECK_INT_EQ(rc, LS_ERR_INVALID_ARGUMENT);
        free(z.data);
    }
    /* sizes a page header may claim before the reader allocates */
    ls_pq_buf_t z = {0};
    ls__pq_compress(&c, LS_PARQUET_ZSTD, in, sizeof(in), &z, &err);
    LS_CHECK(ls__pq_plausible_size(LS_PARQUET_ZSTD, z.data, z.len, sizeof(in)));
    LS_CHECK(!ls__pq_plausible_size(LS_PARQUET_ZSTD, z.data, z.len, sizeof(in) + 1));
    LS_CHECK(!ls__pq_plausible_size(LS_PARQUET_ZSTD, z.data, z.len, 2000000000));
    z.len = 0;
    ls__pq_compress(&c, LS_PARQUET_SNAPPY, in, sizeof(in), &z, &err);
    LS_CHECK(ls__pq_plausible_size(LS_PARQUET_SNAPPY, z.data, z.len, sizeof(in)));
    LS_CHECK(!ls__pq_plausible_size(LS_PARQUET_SNAPPY, z.data, z.len, 300000));
    LS_CHECK(ls__pq_plausible_size(LS_PARQUET_UNCOMPRESSED, in, 100, 100));
    LS_CHECK(!ls__pq_plausible_size(LS_PARQUET_UNCOMPRESSED, in, 100, 101));
    free(z.data);
    LS_CHECK_INT_EQ(ls__pq_decompress(&c, 4 /* BROTLI */, in, 10, in, 10, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "codec 4") != NULL);
    ls__pq_codec_ctx_free(&c);
}

LS_TEST_MAIN(LS_T(thrift_round_trips_fields_lists_and_skips_unknown_ones),
             LS_T(thrift_rejects_hostile_lengths_counts_and_depth),
             LS_T(rle_hybrid_round_trips_random_runs_at_every_bit_width),
             LS_T(rle_hybrid_long_runs_are_compact_and_bad_runs_fail),
             LS_T(compression_round_trips_and_rejects_wrong_sizes))
