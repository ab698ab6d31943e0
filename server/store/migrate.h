/*
 * Schema migrations: applies the SQL files embedded from schemas/sql/ (named
 * NNNN_description.sql, applied in order) that the database has not seen yet,
 * recording each in the table lakestream_schema_version(version int primary key,
 * name text, applied_at timestamptz). Safe when several instances start at the
 * same moment: the whole run holds a transaction-level advisory lock
 * (pg_advisory_xact_lock on a fixed key) and each file runs in that transaction.
 * Loop thread; never blocks.
 */
#ifndef LS_STORE_MIGRATE_H
#define LS_STORE_MIGRATE_H

#include "core/embedded.h"
#include "store/pg.h"

/* cb gets the number of migrations applied now (0 if up to date) and the
 * highest version present, or an error (the failing file's name in the message;
 * nothing of that file is applied). */
typedef void (*ls_migrate_cb)(void *arg, int applied, int version, const ls_error_t *err);

/* Runs the embedded migrations (core/embedded.h files under "schemas/sql/").
 * Returns at once; cb fires exactly once on the loop unless this returns an
 * error (a badly named embedded file, pool closing). One transaction for the
 * whole run: if any file fails, the run is rolled back (applied 0) and the
 * next start tries again. Each file is sent whole with the simple query
 * protocol (see ls_pg_tx_exec_script), so files may hold several statements,
 * dollar-quoted bodies and comments, but no BEGIN/COMMIT of their own. */
ls_err_t ls_migrate(ls_pg_t *pg, ls_migrate_cb cb, void *arg, ls_error_t *err);

/* Same with an explicit list of nfiles files (path "…/NNNN_name.sql", data
 * NUL-terminated), in any order (sorted by version here); for tests and tools.
 * files, their paths and data are borrowed until cb fires. Versions must be
 * distinct positive integers of at most 9 digits (else INVALID_ARGUMENT). */
ls_err_t ls_migrate_files(ls_pg_t *pg, const ls_embedded_file_t *files, size_t nfiles,
                          ls_migrate_cb cb, void *arg, ls_error_t *err);

#endif
