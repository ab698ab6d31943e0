/*
 * The tables service: the one place that validates table requests (names
 * "ns.table", time-travel selectors, limits) and shapes table, snapshot,
 * tag/branch, file and row answers, for the REST API, the Iceberg REST
 * catalog, gRPC and the dashboard alike. All state lives in the Iceberg
 * catalog (lake/iceberg_table.h): the JDBC catalog rows in PostgreSQL and the
 * files in the warehouse, so several instances share tables without any
 * cache to invalidate. Loop thread only; never blocks.
 *
 * Callbacks: `result` is a new reference handed to the callback (it owns it),
 * NULL when err->code != OK. Same libuv contract as the catalog.
 */
#ifndef LS_SERVICES_TABLES_H
#define LS_SERVICES_TABLES_H

#include <jansson.h>
#include <uv.h>

#include "core/buf.h"
#include "core/error.h"
#include "lake/iceberg_table.h"
#include "store/pg.h"

typedef struct ls_tables ls_tables_t;
typedef void (*ls_tables_cb)(void *arg, json_t *result, const ls_error_t *err);

/* Time-travel and scan parameters as they arrive (query strings; any may be NULL). */
typedef struct {
    const char *tag, *branch, *snapshot_id, *as_of; /* as_of: epoch ms or ISO-8601 time */
    const char *columns;                            /* comma-separated names */
    const char *filter;
    const char *limit; /* 1..100000, default 1000 */
} ls_tables_read_t;

/* Opens the service over a catalog named catalog_name (NULL: "lakestream") on warehouse. */
ls_err_t ls_tables_open(uv_loop_t *loop, ls_pg_t *pg, const char *warehouse,
                        const char *catalog_name, ls_tables_t **out, ls_error_t *err);
/* Waits for operations in flight, closes the catalog, frees; cb (may be NULL) fires after. */
void ls_tables_close(ls_tables_t *t, void (*cb)(void *arg), void *arg);
/* Prometheus text: commits, conflicts, files, scans, compaction progress. */
void ls_tables_collect_metrics(void *tables, ls_buf_t *out);
ls_iceberg_catalog_t *ls_tables_catalog(ls_tables_t *t);

/* Splits "ns.table" on the first '.' into two new strings (free()). INVALID_ARGUMENT when
 * either part is empty. */
ls_err_t ls_tables_split_name(const char *full, char **ns, char **name, ls_error_t *err);

/* {"tables":[{"name","namespace","table","metadata_location"}]} */
ls_err_t ls_tables_list(ls_tables_t *t, ls_tables_cb cb, void *arg, ls_error_t *err);
/* body {"name":"ns.t","schema":{...},"partition_spec":[...],"properties":{}} → table detail. */
ls_err_t ls_tables_create(ls_tables_t *t, json_t *body, ls_tables_cb cb, void *arg,
                          ls_error_t *err);
/* Table detail: name, location, metadata_location, format_version, schema, partition_spec,
 * properties, current_snapshot_id, current_snapshot, refs. */
ls_err_t ls_tables_get(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                       ls_error_t *err);
ls_err_t ls_tables_drop(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                        ls_error_t *err);
/* {"snapshots":[{"snapshot_id","parent_snapshot_id","sequence_number","timestamp_ms",
 * "operation","summary","manifest_list"}]} oldest first. */
ls_err_t ls_tables_snapshots(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                             ls_error_t *err);
/* [{"name","snapshot_id","timestamp_ms"}] of refs of type ("tag" or "branch"). */
ls_err_t ls_tables_refs(ls_tables_t *t, const char *full, const char *type, ls_tables_cb cb,
                        void *arg, ls_error_t *err);
/* body {"name","snapshot_id"?,"replace"?} → {"name","snapshot_id","timestamp_ms"}. */
ls_err_t ls_tables_set_ref(ls_tables_t *t, const char *full, const char *type, json_t *body,
                           ls_tables_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_tables_remove_ref(ls_tables_t *t, const char *full, const char *type, const char *ref,
                              ls_tables_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_tables_files(ls_tables_t *t, const char *full, const ls_tables_read_t *q,
                         ls_tables_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_tables_rows(ls_tables_t *t, const char *full, const ls_tables_read_t *q,
                        ls_tables_cb cb, void *arg, ls_error_t *err);
/* body {"rows":[...], "mode":"append"|"overwrite", "branch"?} → commit summary. */
ls_err_t ls_tables_append(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                          void *arg, ls_error_t *err);
/* body {"add_column":{"name","type"}} | {"widen_column":{"name","type"}} → new schema. */
ls_err_t ls_tables_evolve(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                          void *arg, ls_error_t *err);
/* body {"action":"expire_snapshots","older_than_ms"?,"retain_last"?} |
 * {"action":"compact","target_file_size_bytes"?,"min_input_files"?} |
 * {"action":"orphans","older_than_ms"?} | {"action":"delete_files","files":[paths]}. */
ls_err_t ls_tables_maintain(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                            void *arg, ls_error_t *err);

#endif
