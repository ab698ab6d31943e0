/*
 * Avro object container files (see container.h). The writer keeps the whole
 * file in one growing buffer plus the current block's uncompressed bytes; the
 * reader decompresses one block at a time into a buffer bounded by the
 * limits, and finds record boundaries by skipping values with the schema.
 */
#include "avro/container.h"

#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "avro/binary.h"
#include "avro/decoder.h"
#include "core/alloc.h"
#include "registry/canonical.h"

static const uint8_t magic[4] = {'O', 'b', 'j', 1};

#define DEFAULT_BLOCK_BYTES (64u * 1024)
#define DEFAULT_MAX_BLOCK (64u * 1024 * 1024)
#define MAX_META_ENTRIES 1024

static const char *const codec_names[] = {"null", "deflate", "snappy", "zstandard"};

const char *ls_avro_codec_name(ls_avro_codec_t codec)
{
    return (unsigned)codec < 4 ? codec_names[codec] : "?";
}

ls_err_t ls_avro_codec_parse(const char *name, size_t len, ls_avro_codec_t *out, ls_error_t *err)
{
    for (int i = 0; i < 4; i++)
        if (strlen(codec_names[i]) == len && memcmp(codec_names[i], name, len) == 0) {
            *out = (ls_avro_codec_t)i;
            return LS_ERR_OK;
        }
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unsupported Avro codec \"%.*s\"",
                        (int)(len > 40 ? 40 : len), name);
}

/* ---- compression ---- */

static ls_err_t compress_block(ls_avro_codec_t codec, int level, const uint8_t *in, size_t len,
                               ls_avro_buf_t *out, ls_error_t *err)
{
    switch (codec) {
    case LS_AVRO_CODEC_NULL:
        ls_avro_buf_append(out, in, len);
        return LS_ERR_OK;
    case LS_AVRO_CODEC_DEFLATE: {
        z_stream z = {0};
        /* raw deflate (no zlib header), as the Avro spec requires */
        if (deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return ls_error_set(err, LS_ERR_INTERNAL, "deflateInit2 failed");
        size_t bound = deflateBound(&z, (uLong)len);
        uint8_t *dst = ls_avro_buf_reserve(out, bound);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = dst;
        z.avail_out = (uInt)bound;
        int rc = deflate(&z, Z_FINISH);
        size_t produced = bound - z.avail_out;
        deflateEnd(&z);
        if (rc != Z_STREAM_END)
            return ls_error_set(err, LS_ERR_INTERNAL, "deflate failed (%d)", rc);
        out->len += produced;
        return LS_ERR_OK;
    }
    case LS_AVRO_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(len);
        uint8_t *dst = ls_avro_buf_reserve(out, bound + 4);
        size_t produced = bound;
        if (snappy_compress((const char *)in, len, (char *)dst, &produced) != SNAPPY_OK)
            return ls_error_set(err, LS_ERR_INTERNAL, "snappy compression failed");
        uint32_t crc = (uint32_t)crc32(0L, in, (uInt)len);
        dst[produced] = (uint8_t)(crc >> 24);
        dst[produced + 1] = (uint8_t)(crc >> 16);
        dst[produced + 2] = (uint8_t)(crc >> 8);
        dst[produced + 3] = (uint8_t)crc;
        out->len += produced + 4;
        return LS_ERR_OK;
    }
    case LS_AVRO_CODEC_ZSTANDARD: {
        size_t bound = ZSTD_compressBound(len);
        uint8_t *dst = ls_avro_buf_reserve(out, bound);
        size_t produced = ZSTD_compress(dst, bound, in, len, level ? level : 3);
        if (ZSTD_isError(produced))
            return ls_error_set(err, LS_ERR_INTERNAL, "zstd compression failed: %s",
                                ZSTD_getErrorName(produced));
        out->len += produced;
        return LS_ERR_OK;
    }
    }
    return ls_error_set(err, LS_ERR_INTERNAL, "unknown codec");
}

static ls_err_t corrupt(ls_error_t *err, const char *what)
{
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "invalid Avro container file: %s", what);
}

static ls_err_t decompress_block(ls_avro_codec_t codec, const uint8_t *in, size_t len, size_t max,
                                 ls_avro_buf_t *out, ls_error_t *err)
{
    out->len = 0;
    switch (codec) {
    case LS_AVRO_CODEC_NULL:
        if (len > max)
            return corrupt(err, "block larger than the limit");
        ls_avro_buf_append(out, in, len);
        return LS_ERR_OK;
    case LS_AVRO_CODEC_DEFLATE: {
        z_stream z = {0};
        if (inflateInit2(&z, -15) != Z_OK)
            return ls_error_set(err, LS_ERR_INTERNAL, "inflateInit2 failed");
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        int rc = Z_OK;
        while (rc != Z_STREAM_END) {
            size_t want = max - out->len < 65536 ? max - out->len : 65536;
            if (want == 0) {
                inflateEnd(&z);
                return corrupt(err, "decompressed block larger than the limit");
            }
            uint8_t *dst = ls_avro_buf_reserve(out, want);
            z.next_out = dst;
            z.avail_out = (uInt)want;
            rc = inflate(&z, Z_NO_FLUSH);
            out->len += want - z.avail_out;
            if (rc != Z_OK && rc != Z_STREAM_END) {
                inflateEnd(&z);
                return corrupt(err, "deflate data is corrupt or truncated");
            }
            if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
                inflateEnd(&z);
                return corrupt(err, "deflate data is truncated");
            }
        }
        inflateEnd(&z);
        return LS_ERR_OK;
    }
    case LS_AVRO_CODEC_SNAPPY: {
        if (len < 4)
            return corrupt(err, "snappy block without checksum");
        size_t n;
        if (snappy_uncompressed_length((const char *)in, len - 4, &n) != SNAPPY_OK)
            return corrupt(err, "snappy data is corrupt");
        if (n > max)
            return corrupt(err, "decompressed block larger than the limit");
        uint8_t *dst = ls_avro_buf_reserve(out, n);
        if (snappy_uncompress((const char *)in, len - 4, (char *)dst, &n) != SNAPPY_OK)
            return corrupt(err, "snappy data is corrupt");
        uint32_t crc = (uint32_t)crc32(0L, dst, (uInt)n);
        const uint8_t *c = in + len - 4;
        if (crc != ((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]))
            return corrupt(err, "snappy block checksum mismatch");
        out->len = n;
        return LS_ERR_OK;
    }
    case LS_AVRO_CODEC_ZSTANDARD: {
        ZSTD_DStream *ds = ZSTD_createDStream();
        ZSTD_inBuffer ib = {in, len, 0};
        size_t rc = 1;
        while (rc != 0) {
            size_t want = max - out->len < 65536 ? max - out->len : 65536;
            if (want == 0) {
                ZSTD_freeDStream(ds);
                return corrupt(err, "decompressed block larger than the limit");
            }
            ZSTD_outBuffer ob = {ls_avro_buf_reserve(out, want), want, 0};
            rc = ZSTD_decompressStream(ds, &ob, &ib);
            out->len += ob.pos;
            if (ZSTD_isError(rc)) {
                ZSTD_freeDStream(ds);
                return corrupt(err, "zstandard data is corrupt");
            }
            if (rc != 0 && ib.pos == ib.size && ob.pos < ob.size) {
                ZSTD_freeDStream(ds);
                return corrupt(err, "zstandard data is truncated");
            }
        }
        ZSTD_freeDStream(ds);
        return LS_ERR_OK;
    }
    }
    return corrupt(err, "unknown codec");
}

/* ---- writer ---- */

struct ls_avro_container_writer {
    const ls_avro_schema_t *schema;
    ls_avro_container_options_t opt;
    uint8_t sync[16];
    ls_avro_buf_t file, block;
    uint64_t block_count, total;
};

static void write_meta(ls_avro_buf_t *b, const char *key, const char *value, size_t value_len)
{
    ls_avro_write_bytes(b, key, strlen(key));
    ls_avro_write_bytes(b, value, value_len);
}

ls_err_t ls_avro_container_writer_new(const ls_avro_schema_t *schema,
                                      const ls_avro_container_options_t *options,
                                      ls_avro_container_writer_t **out, ls_error_t *err)
{
    ls_avro_container_writer_t *w = ls_calloc(1, sizeof(*w));
    if (options)
        w->opt = *options;
    if ((unsigned)w->opt.codec > LS_AVRO_CODEC_ZSTANDARD) {
        int codec = (int)w->opt.codec;
        free(w);
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unknown codec %d", codec);
    }
    if (!w->opt.block_bytes)
        w->opt.block_bytes = DEFAULT_BLOCK_BYTES;
    w->schema = schema;
    size_t text_len;
    const char *text = ls_avro_schema_text(schema, &text_len);
    if (w->opt.sync) {
        memcpy(w->sync, w->opt.sync, 16);
    } else {
        uint64_t a = ls_registry_fingerprint64(text, text_len);
        uint64_t b = ls_registry_fingerprint64(&a, sizeof(a));
        memcpy(w->sync, &a, 8);
        memcpy(w->sync + 8, &b, 8);
    }
    ls_avro_buf_append(&w->file, magic, 4);
    ls_avro_write_long(&w->file, (int64_t)(2 + w->opt.meta_count));
    write_meta(&w->file, "avro.schema", text, text_len);
    const char *codec = ls_avro_codec_name(w->opt.codec);
    write_meta(&w->file, "avro.codec", codec, strlen(codec));
    for (size_t i = 0; i < w->opt.meta_count; i++)
        write_meta(&w->file, w->opt.meta_keys[i], w->opt.meta_values[i],
                   strlen(w->opt.meta_values[i]));
    ls_avro_write_long(&w->file, 0);
    ls_avro_buf_append(&w->file, w->sync, 16);
    *out = w;
    return LS_ERR_OK;
}

static ls_err_t flush_block(ls_avro_container_writer_t *w, ls_error_t *err)
{
    if (w->block_count == 0)
        return LS_ERR_OK;
    ls_avro_buf_t packed = {0};
    ls_err_t rc =
        compress_block(w->opt.codec, w->opt.level, w->block.data, w->block.len, &packed, err);
    if (rc) {
        ls_avro_buf_free(&packed);
        return rc;
    }
    ls_avro_write_long(&w->file, (int64_t)w->block_count);
    ls_avro_write_long(&w->file, (int64_t)packed.len);
    ls_avro_buf_append(&w->file, packed.data, packed.len);
    ls_avro_buf_append(&w->file, w->sync, 16);
    ls_avro_buf_free(&packed);
    w->block.len = 0;
    w->block_count = 0;
    return LS_ERR_OK;
}

ls_err_t ls_avro_container_writer_append(ls_avro_container_writer_t *w, const uint8_t *record,
                                         size_t len, ls_error_t *err)
{
    const uint8_t *p = record;
    ls_err_t rc = ls_avro_skip(ls_avro_schema_root(w->schema), &p, record + len, err);
    if (rc)
        return rc;
    if (p != record + len)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "record has %zu trailing bytes",
                            (size_t)(record + len - p));
    ls_avro_buf_append(&w->block, record, len);
    w->block_count++;
    w->total++;
    if (w->block.len >= w->opt.block_bytes)
        return flush_block(w, err);
    return LS_ERR_OK;
}

ls_err_t ls_avro_container_writer_append_json(ls_avro_container_writer_t *w, json_t *record,
                                              ls_error_t *err)
{
    size_t mark = w->block.len;
    ls_err_t rc = ls_avro_encode_json(ls_avro_schema_root(w->schema), record, &w->block, err);
    if (rc) {
        w->block.len = mark;
        return rc;
    }
    w->block_count++;
    w->total++;
    if (w->block.len >= w->opt.block_bytes)
        return flush_block(w, err);
    return LS_ERR_OK;
}

uint64_t ls_avro_container_writer_count(const ls_avro_container_writer_t *w)
{
    return w->total;
}

ls_err_t ls_avro_container_writer_finish(ls_avro_container_writer_t *w, uint8_t **data, size_t *len,
                                         ls_error_t *err)
{
    ls_err_t rc = flush_block(w, err);
    if (!rc) {
        *data = w->file.data;
        *len = w->file.len;
        w->file.data = NULL;
    }
    ls_avro_container_writer_free(w);
    return rc;
}

void ls_avro_container_writer_free(ls_avro_container_writer_t *w)
{
    if (!w)
        return;
    ls_avro_buf_free(&w->file);
    ls_avro_buf_free(&w->block);
    free(w);
}

/* ---- reader ---- */

typedef struct {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
} meta_t;

struct ls_avro_container_reader {
    const uint8_t *data, *p, *end;
    size_t max_block;
    ls_avro_schema_t *schema;
    ls_avro_codec_t codec;
    uint8_t sync[16];
    meta_t *meta;
    size_t meta_count;
    ls_avro_buf_t block;
    const uint8_t *bp, *bend;
    int64_t remaining;
    bool failed;
};

ls_err_t ls_avro_container_reader_open(const uint8_t *data, size_t len,
                                       const ls_avro_container_limits_t *limits,
                                       ls_avro_container_reader_t **out, ls_error_t *err)
{
    if (len < 4 || memcmp(data, magic, 4) != 0)
        return corrupt(err, "missing magic \"Obj\\x01\"");
    ls_avro_container_reader_t *r = ls_calloc(1, sizeof(*r));
    r->data = data;
    r->p = data + 4;
    r->end = data + len;
    r->max_block = limits && limits->max_block_bytes ? limits->max_block_bytes : DEFAULT_MAX_BLOCK;
    ls_err_t rc = LS_ERR_OK;
    size_t cap = 0;
    for (;;) {
        int64_t count, size;
        if (!ls_avro_read_long(&r->p, r->end, &count)) {
            rc = corrupt(err, "bad metadata block count");
            break;
        }
        if (count == 0)
            break;
        if (count < 0) {
            count = count == INT64_MIN ? 0 : -count;
            if (!ls_avro_read_long(&r->p, r->end, &size) || size < 0 || size > r->end - r->p) {
                rc = corrupt(err, "bad metadata block size");
                break;
            }
        }
        if (count <= 0 || (size_t)count > MAX_META_ENTRIES - r->meta_count) {
            rc = corrupt(err, "too many metadata entries");
            break;
        }
        for (int64_t i = 0; i < count && !rc; i++) {
            int64_t kl, vl;
            meta_t m;
            if (!ls_avro_read_long(&r->p, r->end, &kl) || kl < 0 || kl > r->end - r->p) {
                rc = corrupt(err, "bad metadata key");
                break;
            }
            m.key = r->p;
            m.key_len = (size_t)kl;
            r->p += kl;
            if (!ls_avro_read_long(&r->p, r->end, &vl) || vl < 0 || vl > r->end - r->p) {
                rc = corrupt(err, "bad metadata value");
                break;
            }
            m.value = r->p;
            m.value_len = (size_t)vl;
            r->p += vl;
            if (r->meta_count == cap) {
                cap = cap ? cap * 2 : 8;
                r->meta = ls_realloc(r->meta, cap * sizeof(meta_t));
            }
            r->meta[r->meta_count++] = m;
        }
        if (rc)
            break;
    }
    if (!rc && r->end - r->p < 16)
        rc = corrupt(err, "truncated header (sync marker)");
    if (!rc) {
        memcpy(r->sync, r->p, 16);
        r->p += 16;
        size_t sl, cl;
        const uint8_t *schema = ls_avro_container_reader_meta(r, "avro.schema", &sl);
        const uint8_t *codec = ls_avro_container_reader_meta(r, "avro.codec", &cl);
        if (!schema)
            rc = corrupt(err, "no avro.schema in metadata");
        else if ((rc = ls_avro_schema_parse((const char *)schema, sl, NULL, &r->schema, err)))
            ;
        else if (codec)
            rc = ls_avro_codec_parse((const char *)codec, cl, &r->codec, err);
    }
    if (rc) {
        ls_avro_container_reader_free(r);
        return rc;
    }
    *out = r;
    return LS_ERR_OK;
}

const ls_avro_schema_t *ls_avro_container_reader_schema(const ls_avro_container_reader_t *r)
{
    return r->schema;
}

ls_avro_codec_t ls_avro_container_reader_codec(const ls_avro_container_reader_t *r)
{
    return r->codec;
}

const uint8_t *ls_avro_container_reader_meta(const ls_avro_container_reader_t *r, const char *key,
                                             size_t *len)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < r->meta_count; i++)
        if (r->meta[i].key_len == kl && memcmp(r->meta[i].key, key, kl) == 0) {
            *len = r->meta[i].value_len;
            return r->meta[i].value;
        }
    return NULL;
}

static ls_err_t next_block(ls_avro_container_reader_t *r, ls_error_t *err)
{
    int64_t count, size;
    if (!ls_avro_read_long(&r->p, r->end, &count) || count < 0)
        return corrupt(err, "bad block count");
    if (!ls_avro_read_long(&r->p, r->end, &size) || size < 0)
        return corrupt(err, "bad block size");
    if (size > r->end - r->p || r->end - r->p - size < 16)
        return corrupt(err, "block extends beyond the end of the file");
    const uint8_t *payload = r->p;
    r->p += size;
    if (memcmp(r->p, r->sync, 16) != 0)
        return corrupt(err, "sync marker mismatch after block");
    r->p += 16;
    if (r->codec == LS_AVRO_CODEC_NULL) {
        /* Uncompressed: records are read in place. */
        if ((size_t)size > r->max_block)
            return corrupt(err, "block larger than the limit");
        r->bp = payload;
        r->bend = payload + size;
    } else {
        ls_err_t rc =
            decompress_block(r->codec, payload, (size_t)size, r->max_block, &r->block, err);
        if (rc)
            return rc;
        r->bp = r->block.data;
        r->bend = r->block.data + r->block.len;
    }
    /* A record takes at least one byte unless the schema encodes to nothing. */
    if ((uint64_t)count > (uint64_t)(r->bend - r->bp) + LS_AVRO_MAX_EMPTY_ITEMS)
        return corrupt(err, "block record count larger than its data");
    r->remaining = count;
    return LS_ERR_OK;
}

ls_err_t ls_avro_container_reader_next(ls_avro_container_reader_t *r, const uint8_t **record,
                                       size_t *len, ls_error_t *err)
{
    if (r->failed)
        return corrupt(err, "reader already failed");
    ls_err_t rc;
    while (r->remaining == 0) {
        if (r->bp != r->bend) {
            r->failed = true;
            return corrupt(err, "block has bytes after its last record");
        }
        if (r->p == r->end) {
            *record = NULL;
            *len = 0;
            return LS_ERR_OK;
        }
        if ((rc = next_block(r, err))) {
            r->failed = true;
            return rc;
        }
    }
    const uint8_t *start = r->bp;
    if ((rc = ls_avro_skip(ls_avro_schema_root(r->schema), &r->bp, r->bend, err))) {
        r->failed = true;
        return rc;
    }
    r->remaining--;
    *record = start;
    *len = (size_t)(r->bp - start);
    return LS_ERR_OK;
}

void ls_avro_container_reader_free(ls_avro_container_reader_t *r)
{
    if (!r)
        return;
    ls_avro_schema_free(r->schema);
    ls_avro_buf_free(&r->block);
    free(r->meta);
    free(r);
}
