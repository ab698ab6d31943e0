/*
 * Schema migrations: brings the database up to the SQL files compiled into
 * the binary (schemas/sql/NNNN_name.sql). One run is one transaction on the
 * async pool: take pg_advisory_xact_lock on a fixed key (so instances starting
 * together take turns and the second one sees the first one's versions),
 * create lakestream_schema_version if missing, read the highest applied
 * version, then run each newer file and record it. Files are sent whole with
 * the simple query protocol because they hold several statements and
 * dollar-quoted bodies; splitting them on ';' ourselves would mean a SQL
 * lexer, and the files are ours, never outside input. This module must never
 * run outside text this way and never leave part of a run committed.
 */
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* "lakestrm" as a big-endian int64: the advisory lock key of migrations. */
#define MIGRATE_LOCK_KEY "7809641312310030957"
#define MIGRATE_DIR "schemas/sql/"

typedef struct {
    ls_embedded_file_t file; /* pointers borrowed from the caller */
    const char *name;        /* base name, inside file.path */
    int version;
} migration_t;

typedef struct {
    ls_pg_t *pg;
    ls_migrate_cb cb;
    void *arg;
    migration_t *files;
    size_t nfiles;
    size_t next;
    int current;
    int applied;
    ls_pg_tx_t *tx;
    ls_error_t failure;
} migrate_run_t;

static void finish(migrate_run_t *run, const ls_error_t *err)
{
    int version = run->current;
    for (size_t i = 0; i < run->nfiles; i++)
        if (i < run->next && run->files[i].version > version)
            version = run->files[i].version;
    if (err && err->code != LS_ERR_OK)
        run->cb(run->arg, 0, run->current, err);
    else
        run->cb(run->arg, run->applied, version, err);
    free(run->files);
    free(run);
}

static void on_rolled_back(void *arg, const ls_error_t *err)
{
    (void)err; /* the run failed already; the rollback's own outcome adds nothing */
    migrate_run_t *run = arg;
    finish(run, &run->failure);
}

/* Records the first failure and ends the transaction. */
static void fail(migrate_run_t *run, const ls_error_t *err, const char *file)
{
    ls_err_t code = err->code == LS_ERR_OK ? LS_ERR_INTERNAL : err->code;
    if (file)
        ls_error_set(&run->failure, code, "migration %s failed: %.400s", file, err->message);
    else
        ls_error_set(&run->failure, code, "migrations failed: %.450s", err->message);
    ls_error_t sync;
    if (run->tx && ls_pg_tx_rollback(run->tx, on_rolled_back, run, &sync) == LS_ERR_OK)
        return;
    finish(run, &run->failure);
}

static void step(migrate_run_t *run);

static void on_committed(void *arg, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    run->tx = NULL;
    if (err->code != LS_ERR_OK) {
        run->applied = 0;
        ls_error_set(&run->failure, err->code, "migrations failed at commit: %.450s", err->message);
        finish(run, &run->failure);
        return;
    }
    finish(run, err);
}

static void on_recorded(void *arg, PGresult *res, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    if (err->code != LS_ERR_OK) {
        fail(run, err, run->files[run->next].name);
        return;
    }
    run->applied++;
    run->next++;
    step(run);
}

static void on_file_done(void *arg, PGresult *res, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    migration_t *m = &run->files[run->next];
    if (err->code != LS_ERR_OK) {
        fail(run, err, m->name);
        return;
    }
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[2] = {version, m->name};
    ls_error_t sync;
    if (ls_pg_tx_query(run->tx,
                       "INSERT INTO lakestream_schema_version (version, name) VALUES ($1, $2)", 2,
                       params, on_recorded, run, &sync) != LS_ERR_OK)
        fail(run, &sync, m->name);
}

/* Runs the next file newer than the database, or commits. */
static void step(migrate_run_t *run)
{
    while (run->next < run->nfiles && run->files[run->next].version <= run->current)
        run->next++;
    ls_error_t sync;
    if (run->next >= run->nfiles) {
        if (ls_pg_tx_commit(run->tx, on_committed, run, &sync) != LS_ERR_OK) {
            run->tx = NULL; /* a refused commit leaves nothing to roll back through */
            fail(run, &sync, NULL);
        }
        return;
    }
    migration_t *m = &run->files[run->next];
    if (ls_pg_tx_exec_script(run->tx, (const char *)m->file.data, on_file_done, run, &sync) !=
        LS_ERR_OK)
        fail(run, &sync, m->name);
}

static void on_current(void *arg, PGresult *res, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    if (err->code != LS_ERR_OK) {
        fail(run, err, NULL);
        return;
    }
    run->current = atoi(PQgetvalue(res, 0, 0));
    step(run);
}

static void on_table(void *arg, PGresult *res, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    ls_error_t sync;
    if (err->code != LS_ERR_OK)
        fail(run, err, NULL);
    else if (ls_pg_tx_query(run->tx,
                            "SELECT coalesce(max(version), 0) FROM lakestream_schema_version", 0,
                            NULL, on_current, run, &sync) != LS_ERR_OK)
        fail(run, &sync, NULL);
}

static void on_locked(void *arg, PGresult *res, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    ls_error_t sync;
    /* Under the lock, so IF NOT EXISTS never races another instance's CREATE. */
    if (err->code != LS_ERR_OK)
        fail(run, err, NULL);
    else if (ls_pg_tx_query(run->tx,
                            "CREATE TABLE IF NOT EXISTS lakestream_schema_version ("
                            "version int PRIMARY KEY, name text NOT NULL, "
                            "applied_at timestamptz NOT NULL DEFAULT now())",
                            0, NULL, on_table, run, &sync) != LS_ERR_OK)
        fail(run, &sync, NULL);
}

static void on_begun(void *arg, ls_pg_tx_t *tx, const ls_error_t *err)
{
    migrate_run_t *run = arg;
    if (!tx) {
        fail(run, err, NULL);
        return;
    }
    run->tx = tx;
    const char *params[1] = {MIGRATE_LOCK_KEY};
    ls_error_t sync;
    if (ls_pg_tx_query(tx, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, on_locked, run,
                       &sync) != LS_ERR_OK)
        fail(run, &sync, NULL);
}

static int by_version(const void *a, const void *b)
{
    const migration_t *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* NNNN_name.sql → NNNN, or -1. */
static int parse_version(const char *name)
{
    int version = 0, digits = 0;
    const char *p = name;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 9)
            return -1;
        version = version * 10 + (*p - '0');
    }
    size_t n = strlen(name);
    if (digits == 0 || *p != '_' || version <= 0 || n < 5 || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    return version;
}

ls_err_t ls_migrate_files(ls_pg_t *pg, const ls_embedded_file_t *files, size_t nfiles,
                          ls_migrate_cb cb, void *arg, ls_error_t *err)
{
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "callback is required");
    migration_t *list = ls_calloc(nfiles ? nfiles : 1, sizeof(*list));
    for (size_t i = 0; i < nfiles; i++) {
        const char *slash = strrchr(files[i].path, '/');
        list[i].file = files[i];
        list[i].name = slash ? slash + 1 : files[i].path;
        list[i].version = parse_version(list[i].name);
        if (list[i].version < 0) {
            free(list);
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "migration file %s is not named NNNN_name.sql", files[i].path);
        }
    }
    qsort(list, nfiles, sizeof(*list), by_version);
    for (size_t i = 1; i < nfiles; i++) {
        if (list[i].version == list[i - 1].version) {
            ls_err_t rc =
                ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "migrations %s and %s share version %d",
                             list[i - 1].name, list[i].name, list[i].version);
            free(list);
            return rc;
        }
    }
    migrate_run_t *run = ls_calloc(1, sizeof(*run));
    run->pg = pg;
    run->cb = cb;
    run->arg = arg;
    run->files = list;
    run->nfiles = nfiles;
    ls_err_t rc = ls_pg_begin(pg, NULL, on_begun, run, err);
    if (rc != LS_ERR_OK) {
        free(list);
        free(run);
    }
    return rc;
}

ls_err_t ls_migrate(ls_pg_t *pg, ls_migrate_cb cb, void *arg, ls_error_t *err)
{
    size_t n = 0, dir_len = strlen(MIGRATE_DIR);
    for (size_t i = 0; ls_embedded_files[i].path; i++)
        n++;
    ls_embedded_file_t *files = ls_calloc(n ? n : 1, sizeof(*files));
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *path = ls_embedded_files[i].path;
        if (strncmp(path, MIGRATE_DIR, dir_len) == 0 && !strchr(path + dir_len, '/'))
            files[count++] = ls_embedded_files[i];
    }
    /* ls_migrate_files keeps copies of the entries; the bytes are static. */
    ls_err_t rc = ls_migrate_files(pg, files, count, cb, arg, err);
    free(files);
    return rc;
}
