/*
 * Avro object container files, in memory: a writer that builds a file's bytes
 * (header with magic, metadata incl. avro.schema = the ORIGINAL schema text so
 * attributes like Iceberg's field-id survive, avro.codec, sync marker, then
 * blocks) and a reader that walks a file's blocks and records with every
 * count and size checked against the bytes present and configured bounds.
 * Used for Kafka-Connect-style archive objects and Iceberg manifests. No I/O
 * here: callers move bytes with uv_fs / the object store; compression makes
 * these CPU-heavy, so run them in uv_queue_work for big files. An object is
 * used by one thread at a time.
 */
#ifndef LS_AVRO_CONTAINER_H
#define LS_AVRO_CONTAINER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/error.h"

typedef enum {
    LS_AVRO_CODEC_NULL,
    LS_AVRO_CODEC_DEFLATE,
    LS_AVRO_CODEC_SNAPPY,
    LS_AVRO_CODEC_ZSTANDARD,
} ls_avro_codec_t;

/* Codec <-> avro.codec name ("null", "deflate", "snappy", "zstandard").
 * parse fails with LS_ERR_INVALID_ARGUMENT for other names (bzip2, xz). */
const char *ls_avro_codec_name(ls_avro_codec_t codec);
ls_err_t ls_avro_codec_parse(const char *name, size_t len, ls_avro_codec_t *out, ls_error_t *err);

typedef struct {
    ls_avro_codec_t codec;
    int level;          /* codec level; 0 = codec default */
    size_t block_bytes; /* uncompressed bytes per block before it is closed; 0 = 64 KiB */
    const uint8_t *
        sync; /* 16 bytes, or NULL: derived from the schema text so replays write identical files */
    const char *const *meta_keys; /* extra metadata (e.g. Iceberg's "schema", "partition-spec") */
    const char *const *meta_values;
    size_t meta_count;
} ls_avro_container_options_t;

typedef struct ls_avro_container_writer ls_avro_container_writer_t;

/* Starts a file for records of schema (borrowed; must outlive the writer),
 * whose original text goes into avro.schema. options may be NULL (null codec). */
ls_err_t ls_avro_container_writer_new(const ls_avro_schema_t *schema,
                                      const ls_avro_container_options_t *options,
                                      ls_avro_container_writer_t **out, ls_error_t *err);

/* Appends one record already in Avro binary (len bytes). It is checked to be
 * exactly one value of the schema; if not, LS_ERR_INVALID_ARGUMENT and the
 * file is unchanged. */
ls_err_t ls_avro_container_writer_append(ls_avro_container_writer_t *w, const uint8_t *record,
                                         size_t len, ls_error_t *err);

/* Appends one record given as JSON (decoder.h's mapping). */
ls_err_t ls_avro_container_writer_append_json(ls_avro_container_writer_t *w, json_t *record,
                                              ls_error_t *err);

/* Records appended so far. */
uint64_t ls_avro_container_writer_count(const ls_avro_container_writer_t *w);

/* Closes the last block and hands over the file bytes (*data owned by the
 * caller, free()). The writer is freed in all cases. */
ls_err_t ls_avro_container_writer_finish(ls_avro_container_writer_t *w, uint8_t **data, size_t *len,
                                         ls_error_t *err);

/* Discards an unfinished writer. */
void ls_avro_container_writer_free(ls_avro_container_writer_t *w);

typedef struct ls_avro_container_reader ls_avro_container_reader_t;

typedef struct {
    size_t max_block_bytes; /* largest decompressed block accepted; 0 = 64 MiB */
} ls_avro_container_limits_t;

/* Parses the header of a file of len bytes (borrowed; must outlive the
 * reader): magic, metadata, schema (parsed with our model), codec, sync.
 * limits may be NULL. Errors: not an Avro file, bad metadata, invalid or
 * missing schema, unknown codec. */
ls_err_t ls_avro_container_reader_open(const uint8_t *data, size_t len,
                                       const ls_avro_container_limits_t *limits,
                                       ls_avro_container_reader_t **out, ls_error_t *err);

/* The writer schema of the file; lives as long as the reader. */
const ls_avro_schema_t *ls_avro_container_reader_schema(const ls_avro_container_reader_t *r);

/* A metadata value (not NUL-terminated) or NULL; borrowed from the file. */
const uint8_t *ls_avro_container_reader_meta(const ls_avro_container_reader_t *r, const char *key,
                                             size_t *len);

ls_avro_codec_t ls_avro_container_reader_codec(const ls_avro_container_reader_t *r);

/* Next record: *record / *len borrow the record's Avro binary (valid until
 * the next call). At the end of the file *record is NULL and LS_ERR_OK is
 * returned. Errors: truncated or corrupt block, sync mismatch, decompression
 * failure, block larger than the limit, record data inconsistent with the
 * block's count or size. After an error the reader stays failed. */
ls_err_t ls_avro_container_reader_next(ls_avro_container_reader_t *r, const uint8_t **record,
                                       size_t *len, ls_error_t *err);

void ls_avro_container_reader_free(ls_avro_container_reader_t *r);

#endif
