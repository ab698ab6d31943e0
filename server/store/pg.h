/*
 * Asynchronous PostgreSQL client on the libuv loop: a small pool of
 * non-blocking libpq connections (PQconnectStart/PQconnectPoll, PQsendQueryParams,
 * PQconsumeInput, all watched with uv_poll on PQsocket). It never calls a blocking
 * libpq function (no PQexec, no PQconnectdb) and only runs parameterized queries.
 * Loop thread only.
 */
#ifndef LS_STORE_PG_H
#define LS_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

#include "core/error.h"

typedef struct ls_pg ls_pg_t;
typedef struct ls_pg_tx ls_pg_tx_t;

typedef struct {
    const char *dsn;        /* libpq connection string or URI; copied */
    int pool_size;          /* connections for queries (default 4 if 0) */
    int connect_timeout_ms; /* per attempt (default 5000) */
    int reconnect_min_ms;   /* backoff start (default 100) */
    int reconnect_max_ms;   /* backoff cap (default 5000) */
    int query_timeout_ms;   /* a queued or running query fails with UNAVAILABLE after this (default
                               30000) */
    const char *application_name; /* default "lakestreamd" */
} ls_pg_config_t;

/* Result callback. `res` is borrowed: valid only during the callback (the pool
 * PQclear()s it afterwards); NULL when err->code != LS_ERR_OK. Errors:
 * LS_ERR_UNAVAILABLE when no connection could run the query (server down,
 * timeout, connection lost mid-query), LS_ERR_ALREADY_EXISTS for SQLSTATE 23505
 * (unique violation), LS_ERR_INVALID_ARGUMENT for other 22xxx/23xxx data errors,
 * LS_ERR_INTERNAL otherwise; err->message carries PostgreSQL's message and SQLSTATE.
 * `err` is borrowed for the callback's duration. */
typedef void (*ls_pg_result_cb)(void *arg, PGresult *res, const ls_error_t *err);

/* Starts the pool: connections are opened in the background and re-opened
 * with exponential backoff whenever they fail, forever, until ls_pg_close().
 * Returns at once; queries issued before a connection is up wait in a queue
 * (bounded by query_timeout_ms). Fails synchronously only on an unusable
 * config (bad DSN syntax, pool_size outside 1..64). *out is owned by the caller
 * until ls_pg_close(). A running query that passes query_timeout_ms also drops
 * its connection (libpq 15 has no non-blocking cancel), which then reconnects.
 * libpq resolves host names with blocking getaddrinfo inside PQconnectPoll, so
 * DSNs should name IP addresses or unix-socket directories. */
ls_err_t ls_pg_open(uv_loop_t *loop, const ls_pg_config_t *config, ls_pg_t **out, ls_error_t *err);

/* True when at least one pool connection is currently established (for /readyz). */
bool ls_pg_is_up(const ls_pg_t *pg);

/* Gauges for /metrics: connections configured, up, busy; queries queued; and
 * counters of queries run, failed and reconnects. `queries` counts every
 * completed request (BEGIN, COMMIT, ROLLBACK and NOTIFY included, and those
 * failed while queued), `failures` those completed with an error, `reconnects`
 * the re-openings of a connection that had been up (listen connection included).
 * The listen connection is not part of size/up/busy. */
typedef struct {
    int size, up, busy, queued;
    unsigned long long queries, failures, reconnects;
} ls_pg_stats_t;
void ls_pg_stats(const ls_pg_t *pg, ls_pg_stats_t *out);

/* Runs one parameterized statement (text params, text results; params[i] may be
 * NULL for SQL NULL; nparams <= 64). sql and params are copied before return.
 * cb fires exactly once on the loop, unless this returns an error synchronously
 * (nparams out of range, pool closing). */
ls_err_t ls_pg_query(ls_pg_t *pg, const char *sql, int nparams, const char *const *params,
                     ls_pg_result_cb cb, void *arg, ls_error_t *err);

/* Transactions: ls_pg_begin takes a connection out of the pool and runs BEGIN;
 * cb gets the transaction (NULL with err on failure). Statements then run with
 * ls_pg_tx_query one at a time (the caller issues the next from the previous
 * callback). ls_pg_tx_commit / ls_pg_tx_rollback end it and return the connection;
 * their cb reports the outcome (commit failure → rollback happened). If the
 * connection drops, pending and later tx calls fail with LS_ERR_UNAVAILABLE and the
 * caller must still end the tx with commit or rollback (which then just releases it).
 * Isolation level string optional (NULL = default, or "SERIALIZABLE"...). */
/* Details of the transaction calls: sync errors are INVALID_ARGUMENT (unknown
 * isolation level, nparams), FAILED_PRECONDITION (a statement of this tx is
 * still running, or the tx already ended) and UNAVAILABLE (pool closing). A
 * COMMIT that the server turned into a rollback because an earlier statement
 * failed reports LS_ERR_FAILED_PRECONDITION. Rollback of a tx whose connection
 * was lost reports OK (the server rolled it back). The tx handle is freed
 * right after the commit/rollback callback returns (or with a failed begin). */
typedef void (*ls_pg_tx_cb)(void *arg, ls_pg_tx_t *tx, const ls_error_t *err);
typedef void (*ls_pg_done_cb)(void *arg, const ls_error_t *err);
ls_err_t ls_pg_begin(ls_pg_t *pg, const char *isolation, ls_pg_tx_cb cb, void *arg,
                     ls_error_t *err);
ls_err_t ls_pg_tx_query(ls_pg_tx_t *tx, const char *sql, int nparams, const char *const *params,
                        ls_pg_result_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_pg_tx_commit(ls_pg_tx_t *tx, ls_pg_done_cb cb, void *arg, ls_error_t *err);
ls_err_t ls_pg_tx_rollback(ls_pg_tx_t *tx, ls_pg_done_cb cb, void *arg, ls_error_t *err);

/* Runs a trusted multi-statement SQL script inside the transaction with the
 * simple query protocol (PQsendQuery), the one exception to "parameterized
 * only": it exists for our own embedded migration files and must never be
 * given text that contains outside input. The script must not contain
 * transaction control (BEGIN/COMMIT). cb gets the last statement's result, or
 * the first error (later statements are then not run). Same sync errors and
 * one-at-a-time rule as ls_pg_tx_query; sql is copied. */
ls_err_t ls_pg_tx_exec_script(ls_pg_tx_t *tx, const char *sql, ls_pg_result_cb cb, void *arg,
                              ls_error_t *err);

/* LISTEN/NOTIFY on a dedicated connection (opened lazily, re-LISTENs every channel
 * after a reconnect). cb fires on the loop for each notification; channel and
 * payload are borrowed for the callback. A channel name is an SQL identifier
 * [a-z_][a-z0-9_]{0,62}. ls_pg_unlisten stops it. One callback per channel:
 * listening twice is ALREADY_EXISTS, unlistening an unknown one NOT_FOUND.
 * Notifications sent while the listen connection is being re-opened are lost
 * (PostgreSQL keeps none for a gone session): a caller that must not miss a
 * change re-reads its state once ls_pg_listening() is true again. */
typedef void (*ls_pg_notify_cb)(void *arg, const char *channel, const char *payload);
ls_err_t ls_pg_listen(ls_pg_t *pg, const char *channel, ls_pg_notify_cb cb, void *arg,
                      ls_error_t *err);
ls_err_t ls_pg_unlisten(ls_pg_t *pg, const char *channel, ls_error_t *err);
/* True once the LISTEN for channel is in effect on a live connection (false
 * again while the listen connection is being re-opened); lets a caller know
 * that notifications sent from now on will be delivered. */
bool ls_pg_listening(const ls_pg_t *pg, const char *channel);
/* NOTIFY through the pool: pg_notify(channel, payload). */
ls_err_t ls_pg_notify(ls_pg_t *pg, const char *channel, const char *payload, ls_pg_done_cb cb,
                      void *arg, ls_error_t *err);

/* Closes the pool: queued queries fail with UNAVAILABLE (their callbacks fire),
 * running queries are allowed to finish up to a bound, then every connection is
 * finished and every uv handle closed; cb fires after the last close callback.
 * After this call no other ls_pg_* call on pg is allowed; pg is freed before cb.
 * The bound for running queries is 5 s (or their query timeout if sooner);
 * open transactions are abandoned (the server rolls them back). Call once. */
void ls_pg_close(ls_pg_t *pg, void (*cb)(void *arg), void *arg);

#endif
