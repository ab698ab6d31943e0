/*
 * Asynchronous PostgreSQL pool on the libuv loop. Each connection is a libpq
 * PGconn driven only through its non-blocking entry points (PQconnectStartParams
 * and PQconnectPoll to open, PQsendQueryParams, PQflush, PQconsumeInput,
 * PQisBusy, PQgetResult and PQnotifies to talk) and watched by a uv_poll on
 * PQsocket; a uv_timer per connection bounds connect attempts and spaces
 * reconnects (exponential backoff with jitter), and one pool timer fails
 * queries whose query_timeout_ms has passed. Pending queries wait in one FIFO
 * queue and go to whichever connection is idle; a transaction pins its
 * connection until commit or rollback; LISTEN runs on its own connection.
 * This module must never call a blocking libpq function (PQexec, PQconnectdb,
 * PQreset, PQcancel), never build SQL from caller text (the only formatted SQL
 * is LISTEN on a validated identifier and BEGIN with a whitelisted isolation
 * level), never write to stderr (libpq's notice processor is silenced) and
 * never invoke a callback from inside the call that registered it.
 */
#include "store/pg.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

#define PG_MAX_PARAMS 64
#define PG_MAX_POOL 64
/* Running queries get at most this long to finish once ls_pg_close is called. */
#define PG_CLOSE_GRACE_MS 5000

typedef enum {
    REQ_QUERY,
    REQ_NOTIFY,
    REQ_BEGIN,
    REQ_TX_QUERY,
    REQ_TX_SCRIPT,
    REQ_COMMIT,
    REQ_ROLLBACK,
    REQ_LISTEN, /* internal: LISTEN/UNLISTEN on the listen connection */
} req_kind_t;

typedef struct pg_req pg_req_t;
struct pg_req {
    pg_req_t *next;
    req_kind_t kind;
    char *sql;
    int nparams;
    char **params;
    uint64_t deadline; /* uv_now() ms after which the request fails */
    ls_pg_tx_t *tx;
    ls_pg_result_cb result_cb;
    ls_pg_tx_cb tx_cb;
    ls_pg_done_cb done_cb;
    void *arg;
    char *channel;  /* REQ_LISTEN */
    bool listen;    /* REQ_LISTEN: LISTEN (true) or UNLISTEN */
    PGresult *res;  /* result kept while the rest of the reply arrives */
    ls_error_t err; /* outcome of a deferred completion */
};

typedef enum { CONN_DOWN, CONN_CONNECTING, CONN_READY, CONN_CLOSED } conn_state_t;

typedef struct pg_conn pg_conn_t;

/* A poll handle lives as long as one socket: libpq may switch sockets while
 * connecting and a new socket can reuse the old descriptor number, so the
 * handle is replaced (closed and re-created) rather than restarted. */
typedef struct {
    uv_poll_t handle;
    pg_conn_t *conn;
} conn_poll_t;

struct pg_conn {
    ls_pg_t *pg;
    PGconn *pgconn;
    conn_poll_t *poll;
    int poll_events;
    uv_timer_t timer; /* connect timeout, then reconnect backoff */
    conn_state_t state;
    bool listener;
    bool ever_up;
    bool want_write; /* PQflush left output to send */
    int attempts;    /* failed attempts since last success, for backoff */
    pg_req_t *req;   /* in flight */
    ls_pg_tx_t *tx;  /* pinned by this transaction */
};

struct ls_pg_tx {
    ls_pg_t *pg;
    ls_pg_tx_t *next;
    pg_conn_t *conn; /* NULL once the connection was lost */
    bool busy;       /* a statement is in flight or its completion pending */
    bool ended;      /* commit or rollback issued */
};

typedef struct pg_channel pg_channel_t;
struct pg_channel {
    pg_channel_t *next;
    char *name;
    ls_pg_notify_cb cb;
    void *arg;
    bool want; /* caller wants it */
    bool have; /* LISTEN in effect on the current listen connection */
};

struct ls_pg {
    uv_loop_t *loop;
    char *dsn;
    char *application_name;
    int pool_size, connect_timeout_ms, reconnect_min_ms, reconnect_max_ms, query_timeout_ms;
    pg_conn_t *conns;
    pg_conn_t *listener;
    pg_req_t *queue_head, *queue_tail;
    int queued;
    pg_req_t *deferred_head, *deferred_tail;
    uv_timer_t sweep;
    uv_idle_t idle;
    pg_channel_t *channels;
    ls_pg_tx_t *txs;
    int open_handles;
    bool closing, finishing;
    void (*close_cb)(void *arg);
    void *close_arg;
    uint64_t rng;
    char last_error[300];
    unsigned long long queries, failures, reconnects;
};

static void conn_connect(pg_conn_t *conn);
static void conn_drop(pg_conn_t *conn, const char *why);
static void conn_shutdown(pg_conn_t *conn);
static void conn_release(pg_conn_t *conn);
static void dispatch(ls_pg_t *pg);
static void listener_sync(ls_pg_t *pg);
static void maybe_finish(ls_pg_t *pg);
static void arm_sweep(ls_pg_t *pg);

/* ---- requests ---------------------------------------------------------- */

static pg_req_t *req_new(req_kind_t kind, const char *sql, int nparams, const char *const *params)
{
    pg_req_t *req = ls_calloc(1, sizeof(*req));
    req->kind = kind;
    req->sql = ls_strdup(sql);
    req->nparams = nparams;
    if (nparams > 0) {
        req->params = ls_calloc((size_t)nparams, sizeof(char *));
        for (int i = 0; i < nparams; i++)
            req->params[i] = params[i] ? ls_strdup(params[i]) : NULL;
    }
    req->deadline = UINT64_MAX;
    return req;
}

static void req_free(pg_req_t *req)
{
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    free(req->params);
    free(req->sql);
    free(req->channel);
    if (req->res)
        PQclear(req->res);
    free(req);
}

static void queue_push(ls_pg_t *pg, pg_req_t *req)
{
    req->next = NULL;
    if (pg->queue_tail)
        pg->queue_tail->next = req;
    else
        pg->queue_head = req;
    pg->queue_tail = req;
    pg->queued++;
}

/* A request taken from the head that could not be sent goes back first in line. */
static void queue_push_front(ls_pg_t *pg, pg_req_t *req)
{
    req->next = pg->queue_head;
    pg->queue_head = req;
    if (!pg->queue_tail)
        pg->queue_tail = req;
    pg->queued++;
}

static pg_req_t *queue_pop(ls_pg_t *pg)
{
    pg_req_t *req = pg->queue_head;
    if (req) {
        pg->queue_head = req->next;
        if (!pg->queue_head)
            pg->queue_tail = NULL;
        req->next = NULL;
        pg->queued--;
    }
    return req;
}

static void tx_free(ls_pg_t *pg, ls_pg_tx_t *tx)
{
    for (ls_pg_tx_t **p = &pg->txs; *p; p = &(*p)->next) {
        if (*p == tx) {
            *p = tx->next;
            break;
        }
    }
    free(tx);
}

/* Gives a transaction's connection back to the pool. */
static void tx_release_conn(ls_pg_tx_t *tx)
{
    pg_conn_t *conn = tx->conn;
    if (!conn)
        return;
    tx->conn = NULL;
    conn->tx = NULL;
    conn_release(conn);
}

static pg_channel_t *channel_find(const ls_pg_t *pg, const char *name)
{
    for (pg_channel_t *ch = pg->channels; ch; ch = ch->next)
        if (strcmp(ch->name, name) == 0)
            return ch;
    return NULL;
}

/* Delivers a request's outcome: exactly one user callback, then the request
 * is freed. res (may be NULL) is cleared after the callback. The request is
 * already detached from any connection and queue. */
static void complete(ls_pg_t *pg, pg_req_t *req, PGresult *res, const ls_error_t *e)
{
    ls_pg_tx_t *tx = req->tx;
    if (req->kind != REQ_LISTEN) {
        pg->queries++;
        if (e->code != LS_ERR_OK)
            pg->failures++;
    }
    switch (req->kind) {
    case REQ_QUERY:
        req->result_cb(req->arg, res, e);
        break;
    case REQ_NOTIFY:
        req->done_cb(req->arg, e);
        break;
    case REQ_BEGIN:
        tx->busy = false;
        if (e->code == LS_ERR_OK) {
            req->tx_cb(req->arg, tx, e);
        } else {
            tx_release_conn(tx);
            tx_free(pg, tx);
            req->tx_cb(req->arg, NULL, e);
        }
        break;
    case REQ_TX_QUERY:
    case REQ_TX_SCRIPT:
        tx->busy = false;
        req->result_cb(req->arg, res, e);
        break;
    case REQ_COMMIT:
    case REQ_ROLLBACK:
        tx_release_conn(tx);
        tx_free(pg, tx);
        req->done_cb(req->arg, e);
        break;
    case REQ_LISTEN: {
        pg_channel_t *ch = channel_find(pg, req->channel);
        /* On a server-side refusal we still record the attempt, so a channel
         * the server rejects is not retried in a tight loop. */
        if (ch)
            ch->have = req->listen;
        if (e->code != LS_ERR_OK)
            snprintf(pg->last_error, sizeof(pg->last_error), "%.299s", e->message);
        break;
    }
    }
    if (res)
        PQclear(res);
    req_free(req);
}

static void on_idle(uv_idle_t *handle)
{
    ls_pg_t *pg = handle->data;
    pg_req_t *req;
    while ((req = pg->deferred_head) != NULL) {
        pg->deferred_head = req->next;
        if (!pg->deferred_head)
            pg->deferred_tail = NULL;
        complete(pg, req, NULL, &req->err);
    }
    uv_idle_stop(&pg->idle);
    dispatch(pg);
    maybe_finish(pg);
}

/* Completes req with code/message on the next loop iteration, which keeps the
 * promise that callbacks never run inside the call that registered them. */
static void defer(ls_pg_t *pg, pg_req_t *req, ls_err_t code, const char *message)
{
    ls_error_clear(&req->err);
    if (code != LS_ERR_OK)
        ls_error_set(&req->err, code, "%s", message);
    req->next = NULL;
    if (pg->deferred_tail)
        pg->deferred_tail->next = req;
    else
        pg->deferred_head = req;
    pg->deferred_tail = req;
    uv_idle_start(&pg->idle, on_idle);
}

/* ---- results and errors ------------------------------------------------ */

static void set_result_error(PGconn *c, const PGresult *res, ls_error_t *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg && res)
        msg = PQresultErrorMessage(res);
    if (!msg || !*msg)
        msg = c ? PQerrorMessage(c) : "unknown error";
    char text[400];
    snprintf(text, sizeof(text), "%s", msg);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';

    ls_err_t code = LS_ERR_INTERNAL;
    if ((c && PQstatus(c) == CONNECTION_BAD) || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0)
        code = LS_ERR_UNAVAILABLE;
    else if (strcmp(state, "23505") == 0)
        code = LS_ERR_ALREADY_EXISTS;
    else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        code = LS_ERR_INVALID_ARGUMENT;
    ls_error_set(e, code, "PostgreSQL: %s (SQLSTATE %s)", text, state ? state : "none");
}

static bool result_failed(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY;
}

/* The reply to conn's request is complete (PQgetResult returned NULL). */
static void conn_finish_request(pg_conn_t *conn)
{
    ls_pg_t *pg = conn->pg;
    pg_req_t *req = conn->req;
    PGresult *res = req->res;
    req->res = NULL;
    conn->req = NULL;
    ls_error_t e;
    ls_error_clear(&e);
    if (!res) {
        ls_error_set(&e, LS_ERR_INTERNAL, "PostgreSQL: no result for query");
    } else if (result_failed(res)) {
        set_result_error(conn->pgconn, res, &e);
        PQclear(res);
        res = NULL;
    } else if (req->kind == REQ_COMMIT && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* COMMIT of a transaction in which a statement failed rolls back. */
        ls_error_set(&e, LS_ERR_FAILED_PRECONDITION,
                     "PostgreSQL: transaction rolled back because an earlier statement failed");
    }
    bool bad = conn->pgconn && PQstatus(conn->pgconn) == CONNECTION_BAD;
    if (!conn->tx && !bad)
        conn_release(conn);
    complete(pg, req, res, &e);
    if (bad && conn->state == CONN_READY)
        conn_drop(conn, "connection lost");
    /* A transaction still pinning the connection cannot go on once the pool
     * closes; PQfinish makes the server roll it back. */
    if (pg->closing && conn->state != CONN_CLOSED && !conn->req)
        conn_shutdown(conn);
    if (conn->listener)
        listener_sync(pg);
    maybe_finish(pg);
}

/* ---- poll handles ------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *handle)
{
    ls_pg_t *pg = handle->data;
    if (handle->type == UV_POLL)
        free(handle);
    if (--pg->open_handles == 0 && pg->finishing) {
        void (*cb)(void *) = pg->close_cb;
        void *arg = pg->close_arg;
        for (int i = 0; i < pg->pool_size; i++)
            if (pg->conns[i].pgconn)
                PQfinish(pg->conns[i].pgconn);
        free(pg->conns);
        free(pg->listener);
        while (pg->channels) {
            pg_channel_t *ch = pg->channels;
            pg->channels = ch->next;
            free(ch->name);
            free(ch);
        }
        while (pg->txs)
            tx_free(pg, pg->txs);
        free(pg->dsn);
        free(pg->application_name);
        free(pg);
        if (cb)
            cb(arg);
    }
}

/* Closing the handle unregisters the descriptor from the loop at once, so it
 * must happen before libpq closes the socket (PQfinish) and before any new
 * socket that could reuse the number is watched. */
static void conn_poll_close(pg_conn_t *conn)
{
    if (conn->poll) {
        uv_close((uv_handle_t *)&conn->poll->handle, on_handle_closed);
        conn->poll = NULL;
        conn->poll_events = 0;
    }
}

static void on_poll(uv_poll_t *handle, int status, int events);

/* Watches the connection's current socket afresh. False if there is none. */
static bool conn_poll_reset(pg_conn_t *conn, int events)
{
    conn_poll_close(conn);
    int fd = PQsocket(conn->pgconn);
    if (fd < 0)
        return false;
    conn_poll_t *p = ls_calloc(1, sizeof(*p));
    p->conn = conn;
    if (uv_poll_init(conn->pg->loop, &p->handle, fd) != 0) {
        free(p);
        return false;
    }
    p->handle.data = conn->pg;
    conn->pg->open_handles++;
    conn->poll = p;
    conn->poll_events = events;
    uv_poll_start(&p->handle, events, on_poll);
    return true;
}

static void conn_poll_update(pg_conn_t *conn)
{
    int events = UV_READABLE | (conn->want_write ? UV_WRITABLE : 0);
    if (conn->poll && events != conn->poll_events) {
        conn->poll_events = events;
        uv_poll_start(&conn->poll->handle, events, on_poll);
    }
}

/* ---- connection lifecycle ---------------------------------------------- */

static void on_conn_timer(uv_timer_t *timer);

static unsigned backoff_ms(pg_conn_t *conn)
{
    ls_pg_t *pg = conn->pg;
    uint64_t base = (uint64_t)pg->reconnect_min_ms;
    for (int i = 0; i < conn->attempts && base < (uint64_t)pg->reconnect_max_ms; i++)
        base *= 2;
    if (base > (uint64_t)pg->reconnect_max_ms)
        base = (uint64_t)pg->reconnect_max_ms;
    /* xorshift64: jitter spreads the reconnects of many connections (and of
     * several instances) so a restarted server is not hit all at once. */
    pg->rng ^= pg->rng << 13;
    pg->rng ^= pg->rng >> 7;
    pg->rng ^= pg->rng << 17;
    return (unsigned)(base / 2 + pg->rng % (base / 2 + 1));
}

/* Stops the connection for good (pool closing). */
static void conn_shutdown(pg_conn_t *conn)
{
    uv_timer_stop(&conn->timer);
    conn_poll_close(conn);
    if (conn->pgconn) {
        PQfinish(conn->pgconn);
        conn->pgconn = NULL;
    }
    conn->want_write = false;
    if (conn->tx) {
        conn->tx->conn = NULL;
        conn->tx = NULL;
    }
    conn->state = CONN_CLOSED;
}

/* The connection failed or was lost: fail what it was running with
 * UNAVAILABLE, detach its transaction and schedule a reconnect. */
static void conn_drop(pg_conn_t *conn, const char *why)
{
    ls_pg_t *pg = conn->pg;
    char reason[300];
    snprintf(reason, sizeof(reason), "%s", why);
    size_t n = strlen(reason);
    while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
        reason[--n] = '\0';
    snprintf(pg->last_error, sizeof(pg->last_error), "%s", reason);

    pg_req_t *req = conn->req;
    conn->req = NULL;
    conn_shutdown(conn);
    if (conn->listener)
        for (pg_channel_t *ch = pg->channels; ch; ch = ch->next)
            ch->have = false;
    if (!pg->closing) {
        conn->state = CONN_DOWN;
        uv_timer_start(&conn->timer, on_conn_timer, backoff_ms(conn), 0);
        conn->attempts++;
    }
    if (req) {
        ls_error_t e;
        ls_error_set(&e, LS_ERR_UNAVAILABLE, "PostgreSQL unavailable: %s", reason);
        complete(pg, req, NULL, &e);
    }
    maybe_finish(pg);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void conn_connect(pg_conn_t *conn)
{
    ls_pg_t *pg = conn->pg;
    const char *keywords[] = {"dbname", "application_name", NULL};
    const char *values[] = {pg->dsn, pg->application_name, NULL};
    conn->pgconn = PQconnectStartParams(keywords, values, 1);
    if (!conn->pgconn) {
        conn_drop(conn, "cannot allocate a libpq connection");
        return;
    }
    PQsetNoticeProcessor(conn->pgconn, ignore_notice, NULL);
    if (PQstatus(conn->pgconn) == CONNECTION_BAD) {
        conn_drop(conn, PQerrorMessage(conn->pgconn));
        return;
    }
    conn->state = CONN_CONNECTING;
    uv_timer_start(&conn->timer, on_conn_timer, (uint64_t)pg->connect_timeout_ms, 0);
    /* libpq's contract: before the first PQconnectPoll, wait as if it had
     * returned PGRES_POLLING_WRITING. */
    if (!conn_poll_reset(conn, UV_WRITABLE))
        conn_drop(conn, "no socket for connection");
}

static void conn_connected(pg_conn_t *conn)
{
    ls_pg_t *pg = conn->pg;
    uv_timer_stop(&conn->timer);
    if (PQsetnonblocking(conn->pgconn, 1) != 0 || !conn_poll_reset(conn, UV_READABLE)) {
        conn_drop(conn, PQerrorMessage(conn->pgconn));
        return;
    }
    conn->state = CONN_READY;
    conn->attempts = 0;
    if (conn->ever_up)
        pg->reconnects++;
    conn->ever_up = true;
    if (conn->listener)
        listener_sync(pg);
    else
        conn_release(conn);
}

static void conn_connect_step(pg_conn_t *conn)
{
    switch (PQconnectPoll(conn->pgconn)) {
    case PGRES_POLLING_READING:
        if (!conn_poll_reset(conn, UV_READABLE))
            conn_drop(conn, "connection has no socket");
        break;
    case PGRES_POLLING_WRITING:
        if (!conn_poll_reset(conn, UV_WRITABLE))
            conn_drop(conn, "connection has no socket");
        break;
    case PGRES_POLLING_OK:
        conn_connected(conn);
        break;
    default:
        conn_drop(conn, PQerrorMessage(conn->pgconn));
        break;
    }
}

static void on_conn_timer(uv_timer_t *timer)
{
    pg_conn_t *conn = timer->data;
    if (conn->state == CONN_READY) {
        conn_drop(conn, PQerrorMessage(conn->pgconn));
    } else if (conn->state == CONN_CONNECTING) {
        char why[96];
        snprintf(why, sizeof(why), "connect timed out after %d ms", conn->pg->connect_timeout_ms);
        conn_drop(conn, why);
    } else if (conn->state == CONN_DOWN) {
        conn_connect(conn);
    }
}

/* A ready connection does not use its timer otherwise: firing it at once
 * drops the connection on the next loop turn. */
static void conn_fail_soon(pg_conn_t *conn)
{
    uv_timer_start(&conn->timer, on_conn_timer, 0, 0);
}

/* Reads whatever the server sent: results of the running request, then
 * notifications. Stops as soon as a callback closed or dropped the conn. */
static void conn_io(pg_conn_t *conn, int status, int events)
{
    PGconn *c = conn->pgconn;
    if ((events & UV_READABLE) || status < 0) {
        if (!PQconsumeInput(c)) {
            conn_drop(conn, PQerrorMessage(c));
            return;
        }
    }
    if (conn->want_write) {
        int f = PQflush(c);
        if (f < 0) {
            conn_drop(conn, PQerrorMessage(c));
            return;
        }
        conn->want_write = f == 1;
        conn_poll_update(conn);
    }
    /* PQgetResult only runs when PQisBusy says the result is complete, so it
     * never waits on the socket. */
    while (conn->state == CONN_READY && conn->req && !PQisBusy(conn->pgconn)) {
        PGresult *r = PQgetResult(conn->pgconn);
        if (!r) {
            conn_finish_request(conn);
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(r);
            conn_drop(conn, "unexpected COPY from server");
            return;
        }
        pg_req_t *req = conn->req;
        if (req->res && result_failed(req->res)) {
            PQclear(r); /* a script keeps its first error */
        } else {
            if (req->res)
                PQclear(req->res);
            req->res = r;
        }
    }
    PGnotify *n;
    while (conn->state == CONN_READY && (n = PQnotifies(conn->pgconn)) != NULL) {
        pg_channel_t *ch = channel_find(conn->pg, n->relname);
        if (ch && ch->want && ch->cb)
            ch->cb(ch->arg, n->relname, n->extra);
        PQfreemem(n);
    }
    if (conn->state == CONN_READY && PQstatus(conn->pgconn) == CONNECTION_BAD)
        conn_drop(conn, PQerrorMessage(conn->pgconn));
    /* libuv stops a poll handle after reporting an error, so a connection
     * left in place would never be heard from again. */
    else if (conn->state == CONN_READY && status < 0)
        conn_drop(conn, uv_strerror(status));
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    pg_conn_t *conn = ((conn_poll_t *)handle)->conn;
    if (conn->poll != (conn_poll_t *)handle)
        return;
    if (conn->state == CONN_CONNECTING)
        conn_connect_step(conn);
    else if (conn->state == CONN_READY)
        conn_io(conn, status, events);
}

/* Sends req on an idle connection. False (nothing sent, req untouched) when
 * libpq refuses, which means the connection is unusable. */
static bool conn_send(pg_conn_t *conn, pg_req_t *req)
{
    PGconn *c = conn->pgconn;
    int ok;
    if (req->kind == REQ_TX_SCRIPT)
        ok = PQsendQuery(c, req->sql);
    else
        ok = PQsendQueryParams(c, req->sql, req->nparams, NULL, (const char *const *)req->params,
                               NULL, NULL, 0);
    if (!ok)
        return false;
    conn->req = req;
    int f = PQflush(c);
    if (f < 0) {
        /* Dropping here would run req's callback inside the caller's call. */
        conn_fail_soon(conn);
        return true;
    }
    conn->want_write = f == 1;
    conn_poll_update(conn);
    return true;
}

/* The connection has nothing in flight and no transaction: serve the queue,
 * or stop it when the pool is closing. */
static void conn_release(pg_conn_t *conn)
{
    if (conn->pg->closing)
        conn_shutdown(conn);
    else
        dispatch(conn->pg);
}

static pg_conn_t *idle_conn(ls_pg_t *pg)
{
    for (int i = 0; i < pg->pool_size; i++) {
        pg_conn_t *conn = &pg->conns[i];
        if (conn->state == CONN_READY && !conn->req && !conn->tx)
            return conn;
    }
    return NULL;
}

static void dispatch(ls_pg_t *pg)
{
    pg_conn_t *conn;
    while (!pg->closing && pg->queue_head && (conn = idle_conn(pg)) != NULL) {
        pg_req_t *req = queue_pop(pg);
        if (!conn_send(conn, req)) {
            queue_push_front(pg, req);
            conn_drop(conn, PQerrorMessage(conn->pgconn));
            continue;
        }
        if (req->kind == REQ_BEGIN && conn->req == req) {
            conn->tx = req->tx;
            req->tx->conn = conn;
        }
    }
    arm_sweep(pg);
}

/* ---- timeouts ---------------------------------------------------------- */

static void on_sweep(uv_timer_t *timer)
{
    ls_pg_t *pg = timer->data;
    uint64_t now = uv_now(pg->loop);
    while (pg->queue_head && pg->queue_head->deadline <= now) {
        pg_req_t *req = queue_pop(pg);
        ls_error_t e;
        ls_error_set(&e, LS_ERR_UNAVAILABLE,
                     "PostgreSQL unavailable: no connection within %d ms (last error: %s)",
                     pg->query_timeout_ms, pg->last_error[0] ? pg->last_error : "none");
        complete(pg, req, NULL, &e);
    }
    int n = pg->pool_size + (pg->listener ? 1 : 0);
    for (int i = 0; i < n; i++) {
        pg_conn_t *conn = i < pg->pool_size ? &pg->conns[i] : pg->listener;
        if (conn->req && conn->req->deadline <= now) {
            /* Without a non-blocking cancel in libpq 15, dropping the
             * connection is the only way to abandon a running statement; the
             * server aborts it when it notices the client is gone. */
            char why[96];
            snprintf(why, sizeof(why), "query timed out after %d ms", pg->query_timeout_ms);
            conn_drop(conn, why);
        }
    }
    arm_sweep(pg);
}

static void arm_sweep(ls_pg_t *pg)
{
    if (pg->finishing)
        return;
    uint64_t best = pg->queue_head ? pg->queue_head->deadline : UINT64_MAX;
    for (int i = 0; i < pg->pool_size; i++)
        if (pg->conns[i].req && pg->conns[i].req->deadline < best)
            best = pg->conns[i].req->deadline;
    if (pg->listener && pg->listener->req && pg->listener->req->deadline < best)
        best = pg->listener->req->deadline;
    if (best == UINT64_MAX) {
        uv_timer_stop(&pg->sweep);
        return;
    }
    uint64_t now = uv_now(pg->loop);
    uv_timer_start(&pg->sweep, on_sweep, best > now ? best - now : 0, 0);
}

/* ---- open / close ------------------------------------------------------ */

static void conn_init(ls_pg_t *pg, pg_conn_t *conn, bool listener)
{
    conn->pg = pg;
    conn->listener = listener;
    conn->state = CONN_DOWN;
    uv_timer_init(pg->loop, &conn->timer);
    conn->timer.data = conn;
    pg->open_handles++;
}

ls_err_t ls_pg_open(uv_loop_t *loop, const ls_pg_config_t *config, ls_pg_t **out, ls_error_t *err)
{
    *out = NULL;
    if (!config || !config->dsn)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "PostgreSQL DSN missing");
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(config->dsn, &parse_error);
    if (!opts) {
        ls_err_t rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "bad PostgreSQL DSN: %s",
                                   parse_error ? parse_error : "out of memory");
        PQfreemem(parse_error);
        return rc;
    }
    PQconninfoFree(opts);
    int pool_size = config->pool_size ? config->pool_size : 4;
    if (pool_size < 1 || pool_size > PG_MAX_POOL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "pool_size must be 1..%d, got %d",
                            PG_MAX_POOL, pool_size);

    ls_pg_t *pg = ls_calloc(1, sizeof(*pg));
    pg->loop = loop;
    pg->dsn = ls_strdup(config->dsn);
    pg->application_name =
        ls_strdup(config->application_name ? config->application_name : "lakestreamd");
    pg->pool_size = pool_size;
    pg->connect_timeout_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms : 5000;
    pg->reconnect_min_ms = config->reconnect_min_ms > 0 ? config->reconnect_min_ms : 100;
    pg->reconnect_max_ms = config->reconnect_max_ms > 0 ? config->reconnect_max_ms : 5000;
    if (pg->reconnect_max_ms < pg->reconnect_min_ms)
        pg->reconnect_max_ms = pg->reconnect_min_ms;
    pg->query_timeout_ms = config->query_timeout_ms > 0 ? config->query_timeout_ms : 30000;
    pg->rng = uv_hrtime() | 1;

    uv_timer_init(loop, &pg->sweep);
    pg->sweep.data = pg;
    uv_idle_init(loop, &pg->idle);
    pg->idle.data = pg;
    pg->open_handles = 2;
    pg->conns = ls_calloc((size_t)pool_size, sizeof(pg_conn_t));
    for (int i = 0; i < pool_size; i++)
        conn_init(pg, &pg->conns[i], false);
    for (int i = 0; i < pool_size; i++)
        conn_connect(&pg->conns[i]);
    *out = pg;
    return LS_ERR_OK;
}

static void maybe_finish(ls_pg_t *pg)
{
    if (!pg->closing || pg->finishing || pg->deferred_head)
        return;
    for (int i = 0; i < pg->pool_size; i++)
        if (pg->conns[i].state != CONN_CLOSED)
            return;
    if (pg->listener && pg->listener->state != CONN_CLOSED)
        return;
    pg->finishing = true;
    uv_close((uv_handle_t *)&pg->sweep, on_handle_closed);
    uv_close((uv_handle_t *)&pg->idle, on_handle_closed);
    for (int i = 0; i < pg->pool_size; i++) {
        pg->conns[i].timer.data = pg;
        uv_close((uv_handle_t *)&pg->conns[i].timer, on_handle_closed);
    }
    if (pg->listener) {
        pg->listener->timer.data = pg;
        uv_close((uv_handle_t *)&pg->listener->timer, on_handle_closed);
    }
}

void ls_pg_close(ls_pg_t *pg, void (*cb)(void *arg), void *arg)
{
    if (pg->closing)
        return;
    pg->closing = true;
    pg->close_cb = cb;
    pg->close_arg = arg;
    pg_req_t *req;
    while ((req = queue_pop(pg)) != NULL)
        defer(pg, req, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    uint64_t grace = uv_now(pg->loop) + PG_CLOSE_GRACE_MS;
    for (int i = 0; i < pg->pool_size; i++) {
        pg_conn_t *conn = &pg->conns[i];
        if (conn->req) {
            if (conn->req->deadline > grace)
                conn->req->deadline = grace;
        } else if (conn->state != CONN_CLOSED) {
            conn_shutdown(conn);
        }
    }
    if (pg->listener) {
        /* Listener commands are ours; nobody waits for them. */
        if (pg->listener->req) {
            req_free(pg->listener->req);
            pg->listener->req = NULL;
        }
        conn_shutdown(pg->listener);
    }
    arm_sweep(pg);
    maybe_finish(pg);
}

/* ---- queries ----------------------------------------------------------- */

static ls_err_t check_params(int nparams, const char *const *params, ls_error_t *err)
{
    if (nparams < 0 || nparams > PG_MAX_PARAMS)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "nparams must be 0..%d, got %d",
                            PG_MAX_PARAMS, nparams);
    if (nparams > 0 && !params)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "params missing");
    return LS_ERR_OK;
}

static void enqueue(ls_pg_t *pg, pg_req_t *req)
{
    req->deadline = uv_now(pg->loop) + (uint64_t)pg->query_timeout_ms;
    queue_push(pg, req);
    dispatch(pg);
}

ls_err_t ls_pg_query(ls_pg_t *pg, const char *sql, int nparams, const char *const *params,
                     ls_pg_result_cb cb, void *arg, ls_error_t *err)
{
    if (pg->closing)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    if (!sql || !cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "sql and callback are required");
    ls_err_t rc = check_params(nparams, params, err);
    if (rc != LS_ERR_OK)
        return rc;
    pg_req_t *req = req_new(REQ_QUERY, sql, nparams, params);
    req->result_cb = cb;
    req->arg = arg;
    enqueue(pg, req);
    return LS_ERR_OK;
}

static bool valid_channel(const char *channel)
{
    if (!channel || !(islower((unsigned char)channel[0]) || channel[0] == '_'))
        return false;
    size_t n = 0;
    for (const char *p = channel; *p; p++, n++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_') || n >= 63)
            return false;
    return true;
}

/* The sync checks shared by ls_pg_notify and ls_pg_listen. */
static ls_err_t check_channel_call(const ls_pg_t *pg, const char *channel, bool has_cb,
                                   ls_error_t *err)
{
    if (pg->closing)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    if (!valid_channel(channel))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "channel must match [a-z_][a-z0-9_]{0,62}");
    if (!has_cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "callback is required");
    return LS_ERR_OK;
}

ls_err_t ls_pg_notify(ls_pg_t *pg, const char *channel, const char *payload, ls_pg_done_cb cb,
                      void *arg, ls_error_t *err)
{
    ls_err_t rc = check_channel_call(pg, channel, cb != NULL, err);
    if (rc != LS_ERR_OK)
        return rc;
    const char *params[2] = {channel, payload ? payload : ""};
    pg_req_t *req = req_new(REQ_NOTIFY, "SELECT pg_notify($1, $2)", 2, params);
    req->done_cb = cb;
    req->arg = arg;
    enqueue(pg, req);
    return LS_ERR_OK;
}

/* ---- transactions ------------------------------------------------------ */

ls_err_t ls_pg_begin(ls_pg_t *pg, const char *isolation, ls_pg_tx_cb cb, void *arg, ls_error_t *err)
{
    static const char *const levels[] = {"SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED",
                                         "READ UNCOMMITTED"};
    if (pg->closing)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "callback is required");
    char sql[64] = "BEGIN";
    if (isolation) {
        const char *level = NULL;
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
            if (strcasecmp(isolation, levels[i]) == 0)
                level = levels[i];
        if (!level)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unknown isolation level \"%.64s\"",
                                isolation);
        snprintf(sql, sizeof(sql), "BEGIN ISOLATION LEVEL %s", level);
    }
    ls_pg_tx_t *tx = ls_calloc(1, sizeof(*tx));
    tx->pg = pg;
    tx->busy = true;
    tx->next = pg->txs;
    pg->txs = tx;
    pg_req_t *req = req_new(REQ_BEGIN, sql, 0, NULL);
    req->tx = tx;
    req->tx_cb = cb;
    req->arg = arg;
    enqueue(pg, req);
    return LS_ERR_OK;
}

/* Sends one statement on a transaction's pinned connection, or fails it on
 * the next loop turn when that connection is gone. */
static ls_err_t tx_submit(ls_pg_tx_t *tx, pg_req_t *req, ls_error_t *err)
{
    ls_pg_t *pg = tx->pg;
    req->tx = tx;
    tx->busy = true;
    if (req->kind == REQ_COMMIT || req->kind == REQ_ROLLBACK)
        tx->ended = true;
    if (tx->conn) {
        pg_conn_t *conn = tx->conn;
        req->deadline = uv_now(pg->loop) + (uint64_t)pg->query_timeout_ms;
        if (conn_send(conn, req)) {
            arm_sweep(pg);
            return LS_ERR_OK;
        }
        conn_drop(conn, PQerrorMessage(conn->pgconn));
    }
    if (req->kind == REQ_ROLLBACK)
        defer(pg, req, LS_ERR_OK, "");
    else
        defer(pg, req, LS_ERR_UNAVAILABLE,
              "PostgreSQL unavailable: the transaction's connection was lost (the server "
              "rolled it back)");
    (void)err;
    return LS_ERR_OK;
}

static ls_err_t tx_check(ls_pg_tx_t *tx, ls_error_t *err)
{
    if (!tx)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "transaction is NULL");
    if (tx->pg->closing)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    if (tx->ended)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "transaction already ended");
    if (tx->busy)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                            "a statement of this transaction is still running");
    return LS_ERR_OK;
}

ls_err_t ls_pg_tx_query(ls_pg_tx_t *tx, const char *sql, int nparams, const char *const *params,
                        ls_pg_result_cb cb, void *arg, ls_error_t *err)
{
    ls_err_t rc = tx_check(tx, err);
    if (rc == LS_ERR_OK && (!sql || !cb))
        rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "sql and callback are required");
    if (rc == LS_ERR_OK)
        rc = check_params(nparams, params, err);
    if (rc != LS_ERR_OK)
        return rc;
    pg_req_t *req = req_new(REQ_TX_QUERY, sql, nparams, params);
    req->result_cb = cb;
    req->arg = arg;
    return tx_submit(tx, req, err);
}

ls_err_t ls_pg_tx_exec_script(ls_pg_tx_t *tx, const char *sql, ls_pg_result_cb cb, void *arg,
                              ls_error_t *err)
{
    ls_err_t rc = tx_check(tx, err);
    if (rc == LS_ERR_OK && (!sql || !cb))
        rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "sql and callback are required");
    if (rc != LS_ERR_OK)
        return rc;
    pg_req_t *req = req_new(REQ_TX_SCRIPT, sql, 0, NULL);
    req->result_cb = cb;
    req->arg = arg;
    return tx_submit(tx, req, err);
}

static ls_err_t tx_end(ls_pg_tx_t *tx, req_kind_t kind, ls_pg_done_cb cb, void *arg,
                       ls_error_t *err)
{
    ls_err_t rc = tx_check(tx, err);
    if (rc == LS_ERR_OK && !cb)
        rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "callback is required");
    if (rc != LS_ERR_OK)
        return rc;
    pg_req_t *req = req_new(kind, kind == REQ_COMMIT ? "COMMIT" : "ROLLBACK", 0, NULL);
    req->done_cb = cb;
    req->arg = arg;
    return tx_submit(tx, req, err);
}

ls_err_t ls_pg_tx_commit(ls_pg_tx_t *tx, ls_pg_done_cb cb, void *arg, ls_error_t *err)
{
    return tx_end(tx, REQ_COMMIT, cb, arg, err);
}

ls_err_t ls_pg_tx_rollback(ls_pg_tx_t *tx, ls_pg_done_cb cb, void *arg, ls_error_t *err)
{
    return tx_end(tx, REQ_ROLLBACK, cb, arg, err);
}

/* ---- LISTEN / NOTIFY --------------------------------------------------- */

/* Brings the listen connection in line with what callers want, one
 * LISTEN/UNLISTEN at a time; called again when each one completes. */
static void listener_sync(ls_pg_t *pg)
{
    pg_conn_t *conn = pg->listener;
    if (!conn || conn->state != CONN_READY || conn->req || pg->closing)
        return;
    for (pg_channel_t *ch = pg->channels; ch; ch = ch->next) {
        if (ch->want == ch->have)
            continue;
        /* The name was validated as [a-z_][a-z0-9_]*, so quoting is safe. */
        char sql[96];
        snprintf(sql, sizeof(sql), "%s \"%s\"", ch->want ? "LISTEN" : "UNLISTEN", ch->name);
        pg_req_t *req = req_new(REQ_LISTEN, sql, 0, NULL);
        req->channel = ls_strdup(ch->name);
        req->listen = ch->want;
        req->deadline = uv_now(pg->loop) + (uint64_t)pg->query_timeout_ms;
        if (!conn_send(conn, req)) {
            req_free(req);
            conn_drop(conn, PQerrorMessage(conn->pgconn));
        }
        arm_sweep(pg);
        return;
    }
}

ls_err_t ls_pg_listen(ls_pg_t *pg, const char *channel, ls_pg_notify_cb cb, void *arg,
                      ls_error_t *err)
{
    ls_err_t rc = check_channel_call(pg, channel, cb != NULL, err);
    if (rc != LS_ERR_OK)
        return rc;
    pg_channel_t *ch = channel_find(pg, channel);
    if (ch && ch->want)
        return ls_error_set(err, LS_ERR_ALREADY_EXISTS, "already listening on %s", channel);
    if (!ch) {
        ch = ls_calloc(1, sizeof(*ch));
        ch->name = ls_strdup(channel);
        ch->next = pg->channels;
        pg->channels = ch;
    }
    ch->want = true;
    ch->cb = cb;
    ch->arg = arg;
    if (!pg->listener) {
        pg->listener = ls_calloc(1, sizeof(pg_conn_t));
        conn_init(pg, pg->listener, true);
        conn_connect(pg->listener);
    }
    listener_sync(pg);
    return LS_ERR_OK;
}

ls_err_t ls_pg_unlisten(ls_pg_t *pg, const char *channel, ls_error_t *err)
{
    if (pg->closing)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL pool is closing");
    pg_channel_t *ch = channel ? channel_find(pg, channel) : NULL;
    if (!ch || !ch->want)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "not listening on %s",
                            channel ? channel : "(null)");
    ch->want = false;
    ch->cb = NULL;
    ch->arg = NULL;
    listener_sync(pg);
    return LS_ERR_OK;
}

bool ls_pg_listening(const ls_pg_t *pg, const char *channel)
{
    const pg_channel_t *ch = channel ? channel_find(pg, channel) : NULL;
    return ch && ch->want && ch->have && pg->listener && pg->listener->state == CONN_READY;
}

/* ---- state ------------------------------------------------------------- */

bool ls_pg_is_up(const ls_pg_t *pg)
{
    for (int i = 0; i < pg->pool_size; i++)
        if (pg->conns[i].state == CONN_READY)
            return true;
    return false;
}

void ls_pg_stats(const ls_pg_t *pg, ls_pg_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->size = pg->pool_size;
    for (int i = 0; i < pg->pool_size; i++) {
        const pg_conn_t *conn = &pg->conns[i];
        if (conn->state == CONN_READY) {
            out->up++;
            if (conn->req || conn->tx)
                out->busy++;
        }
    }
    out->queued = pg->queued;
    out->queries = pg->queries;
    out->failures = pg->failures;
    out->reconnects = pg->reconnects;
}
