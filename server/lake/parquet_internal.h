/*
 * Shared internals of the Parquet codec (parquet_schema.c, parquet_encoding.c,
 * parquet_writer.c, parquet_reader.c): the schema struct, the RLE/bit-packed
 * hybrid, compression, statistics ordering and the parquet.thrift ids. Not for
 * use outside server/lake/parquet*.c.
 */
#ifndef LS_LAKE_PARQUET_INTERNAL_H
#define LS_LAKE_PARQUET_INTERNAL_H

#include "lake/parquet.h"
#include "lake/thrift_compact.h"

struct ls_parquet_schema {
    ls_parquet_node_t *nodes;
    int n_nodes, cap_nodes;
    int *leaves; /* leaf index -> node index */
    int n_leaves;
    bool finished;
};

/* parquet.thrift enums we use. */
enum { LS_PQ_REQUIRED = 0, LS_PQ_OPTIONAL = 1, LS_PQ_REPEATED = 2 };
enum {
    LS_PQ_CT_UTF8 = 0,
    LS_PQ_CT_MAP = 1,
    LS_PQ_CT_MAP_KEY_VALUE = 2,
    LS_PQ_CT_LIST = 3,
    LS_PQ_CT_DECIMAL = 5,
    LS_PQ_CT_DATE = 6,
    LS_PQ_CT_TIME_MICROS = 8,
    LS_PQ_CT_TIMESTAMP_MICROS = 10
};
enum {
    LS_PQ_ENC_PLAIN = 0,
    LS_PQ_ENC_PLAIN_DICTIONARY = 2,
    LS_PQ_ENC_RLE = 3,
    LS_PQ_ENC_RLE_DICTIONARY = 8
};
enum { LS_PQ_PAGE_DATA = 0, LS_PQ_PAGE_DICTIONARY = 2, LS_PQ_PAGE_DATA_V2 = 3 };

/* Growable byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} ls_pq_buf_t;

void ls__pq_buf_reserve(ls_pq_buf_t *b, size_t extra);
static inline void ls__pq_buf_append(ls_pq_buf_t *b, const void *p, size_t n)
{
    if (n == 0) /* p may be NULL then (an empty value buffer) */
        return;
    if (b->len + n > b->cap)
        ls__pq_buf_reserve(b, n);
    __builtin_memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Thrift schema elements <-> schema. The writer emits the flattened element list; the reader
 * rebuilds a schema from it (rejecting shapes the writer never produces). */
void ls__pq_schema_write_thrift(const ls_parquet_schema_t *s, ls_thrift_writer_t *tw);
ls_parquet_schema_t *ls__pq_schema_from_thrift(ls_thrift_reader_t *tr, size_t n_elements,
                                               ls_error_t *err);

/* Bytes a physical value takes in PLAIN encoding (0 for BYTE_ARRAY, 1 for BOOLEAN storage in
 * our buffers even though PLAIN bit-packs booleans). */
size_t ls__pq_fixed_width(const ls_parquet_node_t *leaf);

/* RLE/bit-packed hybrid of `n` small values of `bit_width` bits (no length prefix). */
void ls__pq_rle_encode_u8(ls_pq_buf_t *out, const uint8_t *v, size_t n, int bit_width);
void ls__pq_rle_encode_u32(ls_pq_buf_t *out, const uint32_t *v, size_t n, int bit_width);
/* Decodes exactly `n` values (< 2^bit_width each, else error) from [p, p+len); values >
 * max_value are rejected. Returns bytes consumed or -1 with err set. */
long ls__pq_rle_decode_u8(const uint8_t *p, size_t len, int bit_width, uint8_t *out, size_t n,
                          uint32_t max_value, ls_error_t *err);
long ls__pq_rle_decode_u32(const uint8_t *p, size_t len, int bit_width, uint32_t *out, size_t n,
                           uint32_t max_value, ls_error_t *err);
int ls__pq_bit_width(uint32_t max_value);

/* Compression with a per-codec context kept by the caller (zstd contexts are reused). */
typedef struct {
    void *zcctx, *zdctx;
    int zstd_level;
} ls_pq_codec_ctx_t;

void ls__pq_codec_ctx_free(ls_pq_codec_ctx_t *c);
/* Appends the compressed form of [p, p+n) to out. */
ls_err_t ls__pq_compress(ls_pq_codec_ctx_t *c, ls_parquet_codec_t codec, const uint8_t *p, size_t n,
                         ls_pq_buf_t *out, ls_error_t *err);
/* Whether a page compressed with `codec` into `compressed` bytes can plausibly expand to
 * `uncompressed` bytes (each codec's maximum ratio, the frame's own size header, and
 * LS_PARQUET_MAX_PAGE_BYTES), so a reader never allocates for a size the input cannot hold. */
bool ls__pq_plausible_size(int codec, const uint8_t *p, size_t compressed, size_t uncompressed);
/* Decompresses into out (exactly `out_len` bytes expected). */
ls_err_t ls__pq_decompress(ls_pq_codec_ctx_t *c, int codec, const uint8_t *p, size_t n,
                           uint8_t *out, size_t out_len, ls_error_t *err);

/* Statistics order of two PLAIN-encoded values of `leaf` (a < b: negative). Floating values
 * must not be NaN. Byte arrays compare unsigned byte-wise; FIXED decimals as signed big-endian. */
int ls__pq_compare(const ls_parquet_node_t *leaf, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen);
/* Converts a PLAIN-encoded (statistics) value of `leaf` to a typed value (bytes borrowed). */
bool ls__pq_decode_value(const ls_parquet_node_t *leaf, const uint8_t *p, size_t len,
                         ls_parquet_value_t *out);

/* ---- column chunk encoding (parquet_chunk.c) ----------------------------- */

/* A leaf column's buffered entries for one row group: levels, and values in PLAIN layout
 * (booleans one byte each; byte arrays as 4-byte length + bytes). Borrowed. */
typedef struct {
    const ls_parquet_node_t *node;
    size_t width;       /* fixed value width; 0 for BYTE_ARRAY */
    const uint8_t *def; /* NULL when the leaf's max definition level is 0 */
    const uint8_t *rep; /* NULL when the leaf's max repetition level is 0 */
    size_t n_levels;
    const uint8_t *values;
    size_t n_values;
} ls_pq_column_t;

/* What the footer needs of an encoded chunk; min/max are owned copies (free()), left out when
 * longer than the footer limit. */
typedef struct {
    int64_t num_values, null_count;
    int64_t total_uncompressed, total_compressed;
    int64_t data_page_offset, dictionary_page_offset; /* -1 when no dictionary */
    bool has_min_max;
    uint8_t *min, *max;
    size_t min_len, max_len;
} ls_pq_chunk_meta_t;

/* A chunk's min/max over non-NaN values in PLAIN layout, whatever their length (borrowed from
 * the column's values or from `fixed`, so valid while both live and the struct is not
 * copied), and its NaN count. */
typedef struct {
    bool has;
    const uint8_t *min, *max;
    size_t min_len, max_len;
    int64_t nan;
    uint8_t fixed[2][8];
} ls_pq_chunk_stats_t;

/* Scratch reused across chunks by one writer. Zero-initialise; release with
 * ls__pq_encoder_free. */
typedef struct {
    ls_pq_codec_ctx_t codec;
    ls_pq_buf_t page, cpage;
    uint32_t *indices;
    size_t cap_indices;
} ls_pq_encoder_t;

void ls__pq_encoder_free(ls_pq_encoder_t *e);
/* Appends the encoded chunk (dictionary page when it pays and fits, then data pages) to `out`;
 * `offset` is the file offset `out`'s current end will have. Fills `cm` and `stats`. Returns
 * INVALID_ARGUMENT for a page over LS_PARQUET_MAX_PAGE_BYTES or INTERNAL for a compressor failure.
 */
ls_err_t ls__pq_encode_chunk(ls_pq_encoder_t *e, const ls_parquet_writer_options_t *o,
                             const ls_pq_column_t *col, uint64_t offset, ls_pq_buf_t *out,
                             ls_pq_chunk_meta_t *cm, ls_pq_chunk_stats_t *stats, ls_error_t *err);
/* Replaces *dst (heap) with a copy of [p, p+n). */
void ls__pq_keep_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t n);

#endif
