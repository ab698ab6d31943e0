/*
 * Iceberg tables on the loop: the catalog (rows of the Iceberg JDBC catalog's
 * own tables in PostgreSQL, iceberg_tables / iceberg_namespace_properties)
 * and every table operation as an asynchronous state machine: load, create,
 * drop, append and overwrite rows, refs (tags and branches), schema
 * evolution, snapshot expiry, compaction, scans with time travel, file and
 * orphan listings. Data files, manifests, manifest lists and metadata.json
 * are written to the object store BEFORE the commit, and a commit is one
 * compare-and-swap `UPDATE iceberg_tables SET metadata_location = new ...
 * WHERE metadata_location = old`; a loser re-reads the table, re-applies its
 * change to the new state and retries with jittered backoff, so concurrent
 * writers (other lakestreamd instances, Spark through the JDBC catalog) never
 * lose a commit. CPU work (Parquet encode/decode, manifest encoding) runs in
 * uv_queue_work items; nothing here blocks the loop. Loop thread only.
 *
 * Contract (libuv's): a call that returns an error fails synchronously and
 * its callback never fires; otherwise the callback fires exactly once, on the
 * loop, later. Results are JSON objects borrowed for the callback's duration.
 */
#ifndef LS_LAKE_ICEBERG_TABLE_H
#define LS_LAKE_ICEBERG_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/error.h"
#include "lake/objstore.h"
#include "store/pg.h"

typedef struct ls_iceberg_catalog ls_iceberg_catalog_t;

/* result is borrowed (NULL when err->code != OK); err is never NULL. */
typedef void (*ls_iceberg_cb)(void *arg, json_t *result, const ls_error_t *err);

/* What a read sees: at most one of ref (tag or branch), snapshot_id >= 0, as_of_ms >= 0;
 * none set (NULL, -1, -1) = the current snapshot of main. */
typedef struct {
    const char *ref;
    int64_t snapshot_id;
    int64_t as_of_ms;
} ls_iceberg_as_of_t;

typedef struct {
    unsigned long long commits, conflicts, commit_failures;
    unsigned long long data_files_written, data_bytes_written, rows_written;
    unsigned long long scans, files_scanned, files_pruned, manifests_pruned, rows_returned;
    unsigned long long compactions, compaction_files_total, compaction_files_done;
    int operations_in_flight;
} ls_iceberg_stats_t;

/* Opens the catalog `catalog_name` ("lakestream" unless configured) over pg, with tables
 * stored under `warehouse` (file:///dir or s3://bucket/prefix; an object store is opened on
 * it). Both strings copied; pg borrowed (must outlive the catalog). INVALID_ARGUMENT for a bad
 * warehouse. */
ls_err_t ls_iceberg_catalog_open(uv_loop_t *loop, ls_pg_t *pg, const char *warehouse,
                                 const char *catalog_name, ls_iceberg_catalog_t **out,
                                 ls_error_t *err);
/* Stops accepting operations (FAILED_PRECONDITION), waits for those in flight, closes the
 * object store and frees the catalog; cb (may be NULL) fires after that. */
void ls_iceberg_catalog_close(ls_iceberg_catalog_t *c, void (*cb)(void *arg), void *arg);
void ls_iceberg_catalog_stats(const ls_iceberg_catalog_t *c, ls_iceberg_stats_t *out);
const char *ls_iceberg_catalog_name(const ls_iceberg_catalog_t *c);
const char *ls_iceberg_catalog_warehouse(const ls_iceberg_catalog_t *c);

/* Result {"tables":[{"namespace","name","metadata_location"}]} ordered by namespace, name;
 * ns NULL lists every namespace. */
ls_err_t ls_iceberg_list_tables(ls_iceberg_catalog_t *c, const char *ns, ls_iceberg_cb cb,
                                void *arg, ls_error_t *err);
/* Result {"namespaces":[[ns],...]} : namespaces with tables or properties rows. */
ls_err_t ls_iceberg_list_namespaces(ls_iceberg_catalog_t *c, ls_iceberg_cb cb, void *arg,
                                    ls_error_t *err);
/* Result {"metadata-location","metadata"}; NOT_FOUND for an unknown table. */
ls_err_t ls_iceberg_load(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         ls_iceberg_cb cb, void *arg, ls_error_t *err);
/* def: {"schema":{Iceberg schema}, "partition_spec":[{"source","transform","name"?}],
 * "properties":{}} (borrowed during the call). Result as load. ALREADY_EXISTS, INVALID_ARGUMENT
 * (synchronously when the definition is bad). */
ls_err_t ls_iceberg_create(ls_iceberg_catalog_t *c, const char *ns, const char *name, json_t *def,
                           ls_iceberg_cb cb, void *arg, ls_error_t *err);
/* Removes the catalog row (files stay: other engines may still read old snapshots).
 * Result {"dropped":true}. */
ls_err_t ls_iceberg_drop(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         ls_iceberg_cb cb, void *arg, ls_error_t *err);

/* Appends rows (array of objects, copied) as one snapshot on `branch` (NULL = main). With
 * overwrite, files of every partition the rows touch are deleted in the same snapshot
 * (unpartitioned: the whole table): operation "overwrite". Result {"snapshot_id",
 * "sequence_number","added_files","added_records","deleted_files","attempts"}. An empty rows
 * array is INVALID_ARGUMENT. */
ls_err_t ls_iceberg_append(ls_iceberg_catalog_t *c, const char *ns, const char *name, json_t *rows,
                           const char *branch, bool overwrite, ls_iceberg_cb cb, void *arg,
                           ls_error_t *err);

/* Deletes whole data files (paths as listed by ls_iceberg_files) from main in one "delete"
 * snapshot. NOT_FOUND when a path is not a live data file. Result {"snapshot_id",
 * "deleted_files","deleted_records","attempts"}. */
ls_err_t ls_iceberg_delete_files(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                                 json_t *paths, ls_iceberg_cb cb, void *arg, ls_error_t *err);

/* Creates/moves (replace) a tag or branch to snapshot_id (< 0: current). Result {"name",
 * "type","snapshot_id"}. */
ls_err_t ls_iceberg_set_ref(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            const char *ref, const char *type, int64_t snapshot_id, bool replace,
                            ls_iceberg_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_iceberg_remove_ref(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                               const char *ref, const char *type, ls_iceberg_cb cb, void *arg,
                               ls_error_t *err);

/* change: {"add_column":{"name","type"}} or {"widen_column":{"name","type"}} (copied).
 * Result: the new current schema. */
ls_err_t ls_iceberg_evolve(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                           json_t *change, ls_iceberg_cb cb, void *arg, ls_error_t *err);

/* Expires snapshots older than older_than_ms, keeping retain_last of main's ancestry and
 * every ref target. Result {"expired_snapshot_ids":[...]}. */
ls_err_t ls_iceberg_expire(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                           int64_t older_than_ms, int retain_last, ls_iceberg_cb cb, void *arg,
                           ls_error_t *err);

/* Rewrites, per partition, the live data files smaller than target_bytes when there are at
 * least min_files of them into one file: one "replace" snapshot. Result {"snapshot_id" (-1
 * when nothing to do), "rewritten_files","added_files","records"}. */
ls_err_t ls_iceberg_compact(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            uint64_t target_bytes, int min_files, ls_iceberg_cb cb, void *arg,
                            ls_error_t *err);

/* Result {"snapshot_id","files":[{"file_path","record_count","file_size_in_bytes",
 * "partition":{...},"sequence_number"}]}. */
ls_err_t ls_iceberg_files(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                          const ls_iceberg_as_of_t *as_of, ls_iceberg_cb cb, void *arg,
                          ls_error_t *err);

/* Rows as of a snapshot: columns (array of names, NULL = all), filter text (NULL = none),
 * limit (< 0 = 100000 cap). Result {"snapshot_id","rows":[...],"files_scanned","files_pruned",
 * "manifests_pruned"}. Bad columns or filter: INVALID_ARGUMENT (async, after the load). */
ls_err_t ls_iceberg_scan(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         const ls_iceberg_as_of_t *as_of, json_t *columns, const char *filter,
                         int64_t limit, ls_iceberg_cb cb, void *arg, ls_error_t *err);

/* Objects under the table's location that no snapshot, manifest or metadata file references
 * and that are older than older_than_ms (mtime). Result {"orphans":[{"location","size"}]}. */
ls_err_t ls_iceberg_orphans(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            int64_t older_than_ms, ls_iceberg_cb cb, void *arg, ls_error_t *err);

#endif
