/*
 * Iceberg v2 table metadata: the metadata.json document (kept as a jansson
 * object so fields written by other engines survive our commits) and typed
 * views of the parts lakestream computes with: the current schema (flat,
 * primitive columns) and the default partition spec. Functions here build a
 * new table's metadata, add snapshots, move refs (branches and tags), expire
 * snapshots and resolve "as of" requests (tag, branch, snapshot id,
 * timestamp). Pure and synchronous: no I/O, any thread; one document is used
 * by one thread at a time. Never accepts a document without the fields the
 * spec requires for format-version 2.
 */
#ifndef LS_LAKE_ICEBERG_METADATA_H
#define LS_LAKE_ICEBERG_METADATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "lake/iceberg_value.h"

typedef struct {
    int32_t id;
    char *name;
    bool required;
    ls_iceberg_type_t type;
} ls_iceberg_field_t;

typedef struct {
    int32_t schema_id;
    ls_iceberg_field_t *fields;
    size_t n_fields;
    json_t *json; /* the schema object as in metadata (owned reference) */
} ls_iceberg_schema_t;

typedef struct {
    int32_t source_id, field_id;
    char *name;
    ls_iceberg_transform_t transform;
    ls_iceberg_type_t result;
    int source_index; /* index of the source column in the schema */
} ls_iceberg_partition_field_t;

typedef struct {
    int32_t spec_id;
    ls_iceberg_partition_field_t *fields;
    size_t n_fields;
    json_t *json; /* the spec object (owned reference) */
} ls_iceberg_spec_t;

/* Parses a schema object ({"type":"struct","schema-id":N,"fields":[...]}). Only primitive
 * top-level columns are supported (lakestream writes flat tables); column names must be
 * [A-Za-z_][A-Za-z0-9_]* so they are valid Avro and Parquet names. INVALID_ARGUMENT with the
 * field's path otherwise. *out owned by the caller (ls_iceberg_schema_free). */
ls_err_t ls_iceberg_schema_parse(json_t *schema, ls_iceberg_schema_t **out, ls_error_t *err);
void ls_iceberg_schema_free(ls_iceberg_schema_t *s);
/* Column index by field id or name, or -1. */
int ls_iceberg_schema_find_id(const ls_iceberg_schema_t *s, int32_t id);
int ls_iceberg_schema_find_name(const ls_iceberg_schema_t *s, const char *name);

/* Parses a partition spec object ({"spec-id":N,"fields":[{"source-id","field-id","name",
 * "transform"}]}) against schema. INVALID_ARGUMENT for unknown sources or transforms that do
 * not apply. */
ls_err_t ls_iceberg_spec_parse(json_t *spec, const ls_iceberg_schema_t *schema,
                               ls_iceberg_spec_t **out, ls_error_t *err);
void ls_iceberg_spec_free(ls_iceberg_spec_t *s);

/* ---- table metadata documents ---- */

/* Builds a user's table definition into v2 metadata: `schema` (Iceberg schema JSON; field ids
 * are assigned 1.. when absent, "required" defaults to false), `partition` (array of
 * {"source"|"source-id", "transform", "name"?}, may be NULL), `properties` (object of strings,
 * may be NULL). uuid is 36 chars; location the table's root URL. New reference, or NULL with
 * INVALID_ARGUMENT (path names the bad field). */
json_t *ls_iceberg_metadata_new(json_t *schema, json_t *partition, json_t *properties,
                                const char *uuid, const char *location, int64_t now_ms,
                                ls_error_t *err);

/* Checks that a parsed metadata.json is a v2 (or v1) table document we can use: the required
 * fields with the right JSON types (schemas are parsed later, by the operations that need the
 * typed views); fills absent optional arrays/objects with their empty forms. */
ls_err_t ls_iceberg_metadata_check(json_t *meta, ls_error_t *err);

/* Typed views of the current schema / a schema id / the default spec (new objects). */
ls_err_t ls_iceberg_metadata_schema(json_t *meta, int32_t schema_id, ls_iceberg_schema_t **out,
                                    ls_error_t *err); /* schema_id < 0: current */
ls_err_t ls_iceberg_metadata_spec(json_t *meta, int32_t spec_id, const ls_iceberg_schema_t *schema,
                                  ls_iceberg_spec_t **out, ls_error_t *err); /* < 0: default */

/* The snapshot object with this id (borrowed) or NULL. */
json_t *ls_iceberg_metadata_snapshot(json_t *meta, int64_t snapshot_id);
/* Current snapshot id of the main branch, or -1 for an empty table. */
int64_t ls_iceberg_metadata_current_snapshot(json_t *meta);
/* Snapshot id a ref points to, -1 when the ref does not exist; *type gets "tag"/"branch". */
int64_t ls_iceberg_metadata_ref(json_t *meta, const char *name, const char **type);

/* Resolves what a read should see: exactly one of ref (tag or branch name), snapshot_id >= 0,
 * as_of_ms >= 0 (the snapshot that was current at that time, from snapshot-log), or none (the
 * current snapshot). *out is -1 for an empty table/branch. NOT_FOUND for an unknown ref,
 * snapshot or a time before the first snapshot. */
ls_err_t ls_iceberg_metadata_resolve(json_t *meta, const char *ref, int64_t snapshot_id,
                                     int64_t as_of_ms, int64_t *out, ls_error_t *err);

/* Adds a snapshot (reference stolen; must carry snapshot-id, timestamp-ms, manifest-list,
 * summary, sequence-number = last-sequence-number + 1) and moves `branch` to it ("main" also
 * sets current-snapshot-id and appends to snapshot-log). Updates last-sequence-number and
 * last-updated-ms. */
void ls_iceberg_metadata_add_snapshot(json_t *meta, json_t *snapshot, const char *branch);

/* Creates or moves a ref. type "tag" or "branch"; the snapshot must exist (NOT_FOUND). A ref
 * of the other type with that name is ALREADY_EXISTS; replace=false and an existing ref of
 * the same type is ALREADY_EXISTS; "main" can only be a branch. */
ls_err_t ls_iceberg_metadata_set_ref(json_t *meta, const char *name, const char *type,
                                     int64_t snapshot_id, bool replace, ls_error_t *err);
/* Removes a ref of the given type (NOT_FOUND when absent; "main" cannot be removed). */
ls_err_t ls_iceberg_metadata_remove_ref(json_t *meta, const char *name, const char *type,
                                        ls_error_t *err);

/* Appends {metadata-file, timestamp-ms} to metadata-log (keeping the last `keep`). */
void ls_iceberg_metadata_log_previous(json_t *meta, const char *prev_location, int64_t prev_ms,
                                      int keep);

/* Expires snapshots older than older_than_ms, keeping at least retain_last snapshots of main's
 * ancestry and every snapshot a ref points to. Returns a new array (caller owns) of the
 * expired snapshot objects; the metadata loses them (and their snapshot-log entries). */
json_t *ls_iceberg_metadata_expire(json_t *meta, int64_t older_than_ms, int retain_last);

/* Adds a column (new id = last-column-id + 1) or widens a column's type (int → long,
 * float → double, decimal precision up) as a new schema that becomes current. INVALID_ARGUMENT
 * for a clash, an unknown column, a required added column or a disallowed promotion. */
ls_err_t ls_iceberg_metadata_add_column(json_t *meta, const char *name, const char *type,
                                        ls_error_t *err);
ls_err_t ls_iceberg_metadata_widen_column(json_t *meta, const char *name, const char *type,
                                          ls_error_t *err);

/* Random v4 UUID text (37 bytes incl. NUL) and a random positive snapshot id below 2^53 (so
 * JavaScript readers hold it exactly). */
void ls_iceberg_uuid(char out[37]);
int64_t ls_iceberg_new_snapshot_id(void);

#endif
