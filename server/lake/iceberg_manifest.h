/*
 * Iceberg v2 manifests and manifest lists as Avro object container files with
 * the spec's schemas: every field carries its `field-id` (manifest_entry 0-4,
 * data_file 100-140, partition 1000+, manifest_file 500-519), maps are
 * arrays of key/value records with logicalType "map", and the headers carry
 * the metadata keys readers require (schema, schema-id, partition-spec,
 * partition-spec-id, format-version, content; snapshot-id, parent-snapshot-id,
 * sequence-number for lists). Entries travel as jansson objects in the Avro
 * JSON mapping of avro/decoder.h (bytes as strings of code points 0-255), so
 * files written by other engines read back the same way. Pure and
 * synchronous (encoding and decoding are CPU work: big files belong in
 * uv_queue_work); never trusts a file's sizes (the container reader bounds
 * them).
 */
#ifndef LS_LAKE_ICEBERG_MANIFEST_H
#define LS_LAKE_ICEBERG_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "lake/iceberg_metadata.h"
#include "lake/parquet.h"

enum { LS_ICEBERG_EXISTING = 0, LS_ICEBERG_ADDED = 1, LS_ICEBERG_DELETED = 2 };

/* Avro JSON for bytes (code points 0-255) and back. from_json appends to out; false when the
 * string holds a code point above 255. */
json_t *ls_iceberg_avro_bytes(const void *p, size_t n);
bool ls_iceberg_avro_bytes_get(const json_t *j, ls_buf_t *out);

/* Partition value <-> its Avro JSON (in the r102 partition record). Byte values of *out are
 * written to `store` (reset first) and borrowed from it. */
json_t *ls_iceberg_partition_value_json(const ls_iceberg_type_t *t, const ls_parquet_value_t *v);
bool ls_iceberg_partition_value_get(const ls_iceberg_type_t *t, const json_t *j,
                                    ls_parquet_value_t *out, ls_buf_t *store);

/* The data_file record for a Parquet file we wrote: path (full URL), sizes, record count,
 * the partition tuple (values[i] for spec field i; NULL entries are nulls), and per column
 * sizes, value/null/NaN counts and single-value-serialized lower/upper bounds from the
 * writer's results (matched to schema columns by field id). New reference. */
json_t *ls_iceberg_data_file_new(const char *path, const ls_parquet_file_result_t *r,
                                 const ls_iceberg_spec_t *spec,
                                 const ls_parquet_value_t *const *partition);

/* Encodes entries (array of manifest_entry objects: status, snapshot_id, sequence_number,
 * file_sequence_number, data_file) as a manifest for spec/schema. *out is malloc'ed (free()).
 * INVALID_ARGUMENT when an entry does not fit the schema. */
ls_err_t ls_iceberg_manifest_write(const ls_iceberg_schema_t *schema, const ls_iceberg_spec_t *spec,
                                   json_t *entries, uint8_t **out, size_t *out_len,
                                   ls_error_t *err);

/* The manifest_file record describing a manifest: counts by status and rows, partition
 * field summaries (contains_null, contains_nan, lower/upper bound) computed from entries. */
json_t *ls_iceberg_manifest_file_new(const char *path, size_t length, const ls_iceberg_spec_t *spec,
                                     json_t *entries, int64_t snapshot_id, int64_t sequence_number);

/* Encodes a manifest list (array of manifest_file objects). parent_id < 0: none. */
ls_err_t ls_iceberg_manifest_list_write(json_t *manifests, int64_t snapshot_id, int64_t parent_id,
                                        int64_t sequence_number, uint8_t **out, size_t *out_len,
                                        ls_error_t *err);

/* Decodes every record of a manifest or manifest list (any Avro container) into a new JSON
 * array (*out, caller owns). max_records bounds the count (INVALID_ARGUMENT beyond). */
ls_err_t ls_iceberg_avro_read_all(const uint8_t *data, size_t len, size_t max_records, json_t **out,
                                  ls_error_t *err);

#endif
