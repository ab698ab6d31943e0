/*
 * Shared fixture of the store tests: a live PostgreSQL given by
 * LS_TEST_PG_DSN (scripts/test.sh starts one with scripts/lib/pg.sh), a fresh
 * database per test created through the pool under test, helpers that run
 * the loop until a condition holds (with a deadline, never a fixed sleep),
 * and a teardown that requires uv_loop_close() to succeed. It must never
 * pass silently without a database: a missing DSN fails the test process.
 */
#ifndef LS_TEST_STORE_PG_FIXTURE_H
#define LS_TEST_STORE_PG_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/pg.h"
#include "test.h"

typedef struct {
    uv_loop_t loop;
    uv_timer_t guard; /* wakes uv_run so deadlines are checked */
    char dbname[64];
    char *dsn; /* DSN of the fresh database */
} fx_t;

typedef bool (*fx_pred_t)(void *arg);

static inline const char *fx_base_dsn(void)
{
    const char *dsn = getenv("LS_TEST_PG_DSN");
    if (!dsn || !*dsn) {
        fprintf(stderr, "LS_TEST_PG_DSN not set: these tests need a live PostgreSQL. Run them "
                        "through scripts/test.sh, or start one with `. scripts/lib/pg.sh; "
                        "ls_pg_start DIR --fast` and export LS_TEST_PG_DSN=\"$LS_PG_DSN\".\n");
        exit(1);
    }
    return dsn;
}

/* The base DSN with dbname replaced (works for key=value and URI forms). */
static inline char *fx_dsn_with_db(const char *base, const char *dbname)
{
    char *error = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &error);
    LS_REQUIRE(opts != NULL);
    size_t cap = 64 + strlen(base) * 2 + strlen(dbname);
    char *out = ls_calloc(1, cap);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
        if (!v)
            continue;
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s='", len ? " " : "", o->keyword);
        for (const char *p = v; *p; p++) {
            len = strlen(out);
            snprintf(out + len, cap - len, "%s%c", (*p == '\'' || *p == '\\') ? "\\" : "", *p);
        }
        len = strlen(out);
        snprintf(out + len, cap - len, "'");
    }
    if (!strstr(out, "dbname=")) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, " dbname='%s'", dbname);
    }
    PQconninfoFree(opts);
    return out;
}

static inline void fx_on_guard(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until pred(arg) is true or timeout_ms passed; returns pred. */
static inline bool fx_run_until(fx_t *fx, fx_pred_t pred, void *arg, int timeout_ms)
{
    uint64_t deadline = uv_now(&fx->loop) + (uint64_t)timeout_ms;
    uv_timer_start(&fx->guard, fx_on_guard, 20, 20);
    while (!pred(arg) && uv_now(&fx->loop) < deadline)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    return pred(arg);
}

static inline bool fx_flag(void *arg)
{
    return *(bool *)arg;
}

/* ---- one query's outcome, copied out of the callback ---- */
typedef struct {
    bool done;
    ls_err_t code;
    char message[512];
    int ntuples;
    char value[4][64];
    bool isnull[4];
} fx_result_t;

static inline void fx_on_result(void *arg, PGresult *res, const ls_error_t *err)
{
    fx_result_t *r = arg;
    LS_CHECK(!r->done); /* exactly once */
    r->done = true;
    r->code = err->code;
    snprintf(r->message, sizeof(r->message), "%s", err->message);
    LS_CHECK((res != NULL) == (err->code == LS_ERR_OK));
    if (res) {
        r->ntuples = PQntuples(res);
        for (int i = 0; i < 4 && i < PQnfields(res) && r->ntuples > 0; i++) {
            r->isnull[i] = PQgetisnull(res, 0, i);
            snprintf(r->value[i], sizeof(r->value[i]), "%s", PQgetvalue(res, 0, i));
        }
    }
}

static inline fx_result_t fx_query(fx_t *fx, ls_pg_t *pg, const char *sql, int n,
                                   const char *const *params)
{
    fx_result_t r;
    memset(&r, 0, sizeof(r));
    ls_error_t err;
    LS_REQUIRE(ls_pg_query(pg, sql, n, params, fx_on_result, &r, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &r.done, 20000));
    return r;
}

static inline void fx_on_closed(void *arg)
{
    *(bool *)arg = true;
}

static inline void fx_close_pool(fx_t *fx, ls_pg_t *pg)
{
    bool closed = false;
    ls_pg_close(pg, fx_on_closed, &closed);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &closed, 10000));
}

static inline ls_pg_t *fx_open(fx_t *fx, const char *dsn, int pool_size, const char *app)
{
    ls_pg_config_t cfg = {.dsn = dsn,
                          .pool_size = pool_size,
                          .reconnect_min_ms = 20,
                          .reconnect_max_ms = 200,
                          .query_timeout_ms = 15000,
                          .application_name = app};
    ls_pg_t *pg = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_pg_open(&fx->loop, &cfg, &pg, &err) == LS_ERR_OK);
    return pg;
}

/* Creates a loop and a fresh database ls_test_<pid>_<n> through the pool. */
static inline void fx_init(fx_t *fx)
{
    static int counter;
    memset(fx, 0, sizeof(*fx));
    const char *base = fx_base_dsn();
    LS_REQUIRE(uv_loop_init(&fx->loop) == 0);
    LS_REQUIRE(uv_timer_init(&fx->loop, &fx->guard) == 0);
    snprintf(fx->dbname, sizeof(fx->dbname), "ls_test_%d_%d", (int)getpid(), ++counter);
    ls_pg_t *admin = fx_open(fx, base, 1, "ls_test_admin");
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", fx->dbname);
    fx_result_t r = fx_query(fx, admin, sql, 0, NULL);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", fx->dbname);
    r = fx_query(fx, admin, sql, 0, NULL);
    if (r.code != LS_ERR_OK)
        fprintf(stderr, "CREATE DATABASE failed: %s\n", r.message);
    LS_REQUIRE(r.code == LS_ERR_OK);
    fx_close_pool(fx, admin);
    fx->dsn = fx_dsn_with_db(base, fx->dbname);
}

/* Drops the database and requires every handle of the loop to be closed. */
static inline void fx_done(fx_t *fx)
{
    ls_pg_t *admin = fx_open(fx, fx_base_dsn(), 1, "ls_test_admin");
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
    fx_result_t r = fx_query(fx, admin, sql, 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    fx_close_pool(fx, admin);
    uv_close((uv_handle_t *)&fx->guard, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    LS_CHECK_INT_EQ(uv_loop_close(&fx->loop), 0);
    free(fx->dsn);
}

#endif
