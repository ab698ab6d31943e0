/* Tests of the async PostgreSQL pool (server/store/pg.c) against a live server. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "pg_fixture.h"

static bool pool_all_up(void *arg)
{
    ls_pg_stats_t s;
    ls_pg_stats((ls_pg_t *)arg, &s);
    return s.up == s.size;
}

LS_TEST(query_with_params_and_nulls_returns_values)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 2, NULL);
    const char *params[3] = {"41", NULL, "h\xc3\xa9llo 'quoted'"};
    fx_result_t r =
        fx_query(&fx, pg, "SELECT $1::int + 1, $2::text IS NULL, $2::text, $3::text", 3, params);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(r.ntuples, 1);
    LS_CHECK_STR_EQ(r.value[0], "42");
    LS_CHECK_STR_EQ(r.value[1], "t");
    LS_CHECK(r.isnull[2]);
    LS_CHECK(!r.isnull[3]);
    LS_CHECK_STR_EQ(r.value[3], "h\xc3\xa9llo 'quoted'");
    LS_CHECK(ls_pg_is_up(pg));
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.queries, 1);
    LS_CHECK_INT_EQ(s.failures, 0);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(server_errors_map_to_error_codes_with_message)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    fx_result_t r = fx_query(&fx, pg, "CREATE TABLE t (k text PRIMARY KEY)", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    const char *k[1] = {"a"};
    r = fx_query(&fx, pg, "INSERT INTO t VALUES ($1)", 1, k);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    r = fx_query(&fx, pg, "INSERT INTO t VALUES ($1)", 1, k);
    LS_CHECK_INT_EQ(r.code, LS_ERR_ALREADY_EXISTS);
    LS_CHECK(strstr(r.message, "23505") != NULL);
    LS_CHECK(strstr(r.message, "duplicate key") != NULL);

    const char *bad[1] = {"not a number"};
    r = fx_query(&fx, pg, "SELECT $1::int", 1, bad);
    LS_CHECK_INT_EQ(r.code, LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(r.message, "22P02") != NULL);

    r = fx_query(&fx, pg, "SELEC 1", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_INTERNAL);
    LS_CHECK(strstr(r.message, "syntax error") != NULL);
    LS_CHECK(strstr(r.message, "42601") != NULL);

    /* The connection is still fine after errors. */
    r = fx_query(&fx, pg, "SELECT count(*) FROM t", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "1");
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.failures, 3);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

static void never_tx(void *arg, ls_pg_tx_t *tx, const ls_error_t *err)
{
    *(bool *)arg = true;
}

static void never_note(void *arg, const char *channel, const char *payload)
{
    *(bool *)arg = true;
}

LS_TEST(bad_input_fails_synchronously)
{
    fx_t fx;
    fx_init(&fx);
    ls_error_t err;
    ls_pg_t *pg = NULL;
    ls_pg_config_t cfg = {.dsn = "this is not a dsn"};
    LS_CHECK_INT_EQ(ls_pg_open(&fx.loop, &cfg, &pg, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(pg == NULL);
    LS_CHECK(strstr(err.message, "DSN") != NULL);
    cfg.dsn = fx.dsn;
    cfg.pool_size = 1000;
    LS_CHECK_INT_EQ(ls_pg_open(&fx.loop, &cfg, &pg, &err), LS_ERR_INVALID_ARGUMENT);

    pg = fx_open(&fx, fx.dsn, 1, NULL);
    const char *params[65] = {0};
    fx_result_t never = {0};
    bool fired = false;
    LS_CHECK_INT_EQ(ls_pg_query(pg, "SELECT 1", 65, params, fx_on_result, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_pg_query(pg, "SELECT 1", -1, params, fx_on_result, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_pg_begin(pg, "SERIALIZABLE; DROP TABLE x", never_tx, &fired, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "isolation") != NULL);
    LS_CHECK_INT_EQ(ls_pg_listen(pg, "Bad-Channel", never_note, &fired, &err),
                    LS_ERR_INVALID_ARGUMENT);
    char long_name[80];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[79] = '\0';
    LS_CHECK_INT_EQ(ls_pg_listen(pg, long_name, never_note, &fired, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_pg_notify(pg, "x\"; DROP", "p", NULL, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_pg_unlisten(pg, "never_listened", &err), LS_ERR_NOT_FOUND);
    fx_close_pool(&fx, pg);
    LS_CHECK(!fired);
    LS_CHECK(!never.done);
    fx_done(&fx);
}

/* ---- transactions ---- */

typedef struct {
    bool done;
    ls_pg_tx_t *tx;
    ls_err_t code;
    char message[512];
} fx_tx_t;

static void on_tx(void *arg, ls_pg_tx_t *tx, const ls_error_t *err)
{
    fx_tx_t *t = arg;
    t->done = true;
    t->tx = tx;
    t->code = err->code;
}

static void on_done(void *arg, const ls_error_t *err)
{
    fx_tx_t *t = arg;
    t->done = true;
    t->code = err->code;
    snprintf(t->message, sizeof(t->message), "%s", err->message);
}

static ls_pg_tx_t *begin_tx(fx_t *fx, ls_pg_t *pg)
{
    fx_tx_t t = {0};
    ls_error_t err;
    LS_REQUIRE(ls_pg_begin(pg, "serializable", on_tx, &t, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &t.done, 10000));
    LS_REQUIRE(t.tx != NULL);
    return t.tx;
}

static fx_result_t tx_query(fx_t *fx, ls_pg_tx_t *tx, const char *sql, int n,
                            const char *const *params)
{
    fx_result_t r = {0};
    ls_error_t err;
    LS_REQUIRE(ls_pg_tx_query(tx, sql, n, params, fx_on_result, &r, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &r.done, 10000));
    return r;
}

static fx_tx_t tx_end(fx_t *fx, ls_pg_tx_t *tx, bool commit)
{
    fx_tx_t t = {0};
    ls_error_t err;
    LS_REQUIRE((commit ? ls_pg_tx_commit : ls_pg_tx_rollback)(tx, on_done, &t, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &t.done, 10000));
    return t;
}

LS_TEST(transactions_commit_and_rollback)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 2, NULL);
    fx_query(&fx, pg, "CREATE TABLE t (k text PRIMARY KEY)", 0, NULL);
    const char *a[1] = {"a"}, *b[1] = {"b"};

    ls_pg_tx_t *tx = begin_tx(&fx, pg);
    fx_result_t r = tx_query(&fx, tx, "INSERT INTO t VALUES ($1)", 1, a);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    /* The transaction pins one connection; the other does not see its row. */
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.busy, 1);
    ls_error_t err;
    bool unused = false;
    LS_CHECK_INT_EQ(ls_pg_tx_query(tx, "SELECT 1", 0, NULL, fx_on_result, &r, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_pg_tx_query(tx, "SELECT 2", 0, NULL, fx_on_result, &unused, &err),
                    LS_ERR_FAILED_PRECONDITION); /* one statement at a time */
    r.done = false;
    LS_REQUIRE(fx_run_until(&fx, fx_flag, &r.done, 10000));
    r = fx_query(&fx, pg, "SELECT count(*) FROM t", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "0");
    fx_tx_t t = tx_end(&fx, tx, true);
    LS_CHECK_INT_EQ(t.code, LS_ERR_OK);
    r = fx_query(&fx, pg, "SELECT count(*) FROM t WHERE k = 'a'", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "1");

    tx = begin_tx(&fx, pg);
    r = tx_query(&fx, tx, "INSERT INTO t VALUES ($1)", 1, b);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    t = tx_end(&fx, tx, false);
    LS_CHECK_INT_EQ(t.code, LS_ERR_OK);
    r = fx_query(&fx, pg, "SELECT count(*) FROM t WHERE k = 'b'", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "0");

    /* A failed statement makes COMMIT roll back, and the caller is told. */
    tx = begin_tx(&fx, pg);
    r = tx_query(&fx, tx, "INSERT INTO t VALUES ($1)", 1, b);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    r = tx_query(&fx, tx, "INSERT INTO t VALUES ($1)", 1, a);
    LS_CHECK_INT_EQ(r.code, LS_ERR_ALREADY_EXISTS);
    t = tx_end(&fx, tx, true);
    LS_CHECK_INT_EQ(t.code, LS_ERR_FAILED_PRECONDITION);
    r = fx_query(&fx, pg, "SELECT count(*) FROM t", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "1");
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.busy, 0);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

/* ---- pool dispatch ---- */

typedef struct {
    int done;
    int order[200];
    int wrong;
    int pids[2];
    int npids;
} many_t;

typedef struct {
    many_t *m;
    int index;
} many_item_t;

static void on_many(void *arg, PGresult *res, const ls_error_t *err)
{
    many_item_t *it = arg;
    many_t *m = it->m;
    if (err->code != LS_ERR_OK || atoi(PQgetvalue(res, 0, 0)) != it->index * 3) {
        m->wrong++;
    } else {
        int pid = atoi(PQgetvalue(res, 0, 1));
        bool seen = false;
        for (int i = 0; i < m->npids; i++)
            seen |= m->pids[i] == pid;
        if (!seen && m->npids < 2)
            m->pids[m->npids++] = pid;
        else if (!seen)
            m->wrong++; /* a third backend: not a pool of two */
    }
    m->order[m->done++] = it->index;
}

typedef struct {
    many_t *m;
    int want;
} many_wait_t;

static bool many_done(void *arg)
{
    many_wait_t *w = arg;
    return w->m->done == w->want;
}

static void submit_many(ls_pg_t *pg, many_t *m, many_item_t *items, int n)
{
    ls_error_t err;
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < n; i++) {
        items[i] = (many_item_t){m, i};
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        const char *params[1] = {v};
        LS_REQUIRE(ls_pg_query(pg, "SELECT $1::int * 3, pg_backend_pid()", 1, params, on_many,
                               &items[i], &err) == LS_ERR_OK);
    }
}

LS_TEST(pool_of_two_runs_many_queries_in_fifo_order)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 2, NULL);
    LS_REQUIRE(fx_run_until(&fx, pool_all_up, pg, 10000));
    static many_t m;
    static many_item_t items[200];

    /* With one connection pinned by a transaction, the queue drains through
     * the other one, so completions come back exactly in submission order. */
    ls_pg_tx_t *tx = begin_tx(&fx, pg);
    submit_many(pg, &m, items, 100);
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.busy, 2);
    LS_CHECK_INT_EQ(s.queued, 99);
    many_wait_t w = {&m, 100};
    LS_CHECK(fx_run_until(&fx, many_done, &w, 20000));
    LS_CHECK_INT_EQ(m.wrong, 0);
    int out_of_order = 0;
    for (int i = 0; i < m.done; i++)
        out_of_order += m.order[i] != i;
    LS_CHECK_INT_EQ(out_of_order, 0);
    LS_CHECK_INT_EQ(m.npids, 1);
    fx_tx_t t = tx_end(&fx, tx, true);
    LS_CHECK_INT_EQ(t.code, LS_ERR_OK);

    /* Both connections free: 200 queries spread over both and all complete. */
    submit_many(pg, &m, items, 200);
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.busy, 2);
    LS_CHECK_INT_EQ(s.queued, 198);
    w.want = 200;
    LS_CHECK(fx_run_until(&fx, many_done, &w, 20000));
    LS_CHECK_INT_EQ(m.wrong, 0);
    LS_CHECK_INT_EQ(m.npids, 2);
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.queries, 1 + 100 + 1 + 200); /* BEGIN, queries, COMMIT, queries */
    LS_CHECK_INT_EQ(s.queued, 0);
    LS_CHECK_INT_EQ(s.busy, 0);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

/* ---- LISTEN / NOTIFY ---- */

typedef struct {
    int count;
    char payload[8][32];
    bool bad_channel;
} notes_t;

static void on_note(void *arg, const char *channel, const char *payload)
{
    notes_t *n = arg;
    if (strcmp(channel, "ls_test_chan") != 0)
        n->bad_channel = true;
    if (n->count < 8)
        snprintf(n->payload[n->count], sizeof(n->payload[0]), "%s", payload);
    n->count++;
}

typedef struct {
    ls_pg_t *pg;
    bool want;
} listening_t;

static bool listening_is(void *arg)
{
    listening_t *l = arg;
    return ls_pg_listening(l->pg, "ls_test_chan") == l->want;
}

typedef struct {
    notes_t *n;
    int want;
} count_t;

static bool notes_reach(void *arg)
{
    count_t *c = arg;
    return c->n->count >= c->want;
}

static void notify(fx_t *fx, ls_pg_t *pg, const char *payload)
{
    fx_tx_t t = {0};
    ls_error_t err;
    LS_REQUIRE(ls_pg_notify(pg, "ls_test_chan", payload, on_done, &t, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, fx_flag, &t.done, 10000));
    LS_CHECK_INT_EQ(t.code, LS_ERR_OK);
}

LS_TEST(listen_notify_delivers_payloads_and_relistens_after_reconnect)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, "ls_test_listen");
    notes_t n = {0};
    ls_error_t err;
    LS_REQUIRE(ls_pg_listen(pg, "ls_test_chan", on_note, &n, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_pg_listen(pg, "ls_test_chan", on_note, &n, &err), LS_ERR_ALREADY_EXISTS);
    listening_t l = {pg, true};
    LS_REQUIRE(fx_run_until(&fx, listening_is, &l, 10000));
    notify(&fx, pg, "one");
    notify(&fx, pg, "two");
    count_t c = {&n, 2};
    LS_CHECK(fx_run_until(&fx, notes_reach, &c, 10000));
    LS_CHECK_STR_EQ(n.payload[0], "one");
    LS_CHECK_STR_EQ(n.payload[1], "two");

    /* Kill the listen connection's backend: the pool re-opens it and LISTENs again. */
    fx_result_t r =
        fx_query(&fx, pg,
                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                 "current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'",
                 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "1");
    l.want = false;
    LS_CHECK(fx_run_until(&fx, listening_is, &l, 10000));
    l.want = true;
    LS_CHECK(fx_run_until(&fx, listening_is, &l, 10000));
    notify(&fx, pg, "three");
    c.want = 3;
    LS_CHECK(fx_run_until(&fx, notes_reach, &c, 10000));
    LS_CHECK_STR_EQ(n.payload[2], "three");
    LS_CHECK(!n.bad_channel);
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK(s.reconnects >= 1);

    LS_CHECK_INT_EQ(ls_pg_unlisten(pg, "ls_test_chan", &err), LS_ERR_OK);
    LS_CHECK(!ls_pg_listening(pg, "ls_test_chan"));
    fx_close_pool(&fx, pg);
    LS_CHECK_INT_EQ(n.count, 3);
    fx_done(&fx);
}

/* ---- failure handling ---- */

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    LS_REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    LS_REQUIRE(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static void on_tick(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

static bool ticked(void *arg)
{
    return *(int *)((uv_timer_t *)arg)->data > 0;
}

LS_TEST(unreachable_server_fails_queued_query_after_timeout)
{
    fx_t fx;
    memset(&fx, 0, sizeof(fx));
    LS_REQUIRE(uv_loop_init(&fx.loop) == 0);
    LS_REQUIRE(uv_timer_init(&fx.loop, &fx.guard) == 0);
    char dsn[128];
    snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d dbname=nothing user=nobody", closed_port());
    ls_pg_config_t cfg = {.dsn = dsn,
                          .pool_size = 2,
                          .reconnect_min_ms = 10,
                          .reconnect_max_ms = 50,
                          .query_timeout_ms = 300};
    ls_pg_t *pg = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_pg_open(&fx.loop, &cfg, &pg, &err) == LS_ERR_OK);
    uint64_t start = uv_now(&fx.loop);
    fx_result_t r = {0}, r2 = {0};
    LS_REQUIRE(ls_pg_query(pg, "SELECT 1", 0, NULL, fx_on_result, &r, &err) == LS_ERR_OK);
    LS_CHECK(fx_run_until(&fx, fx_flag, &r.done, 5000));
    uint64_t elapsed = uv_now(&fx.loop) - start;
    LS_CHECK_INT_EQ(r.code, LS_ERR_UNAVAILABLE);
    LS_CHECK(elapsed >= 290 && elapsed < 3000);
    LS_CHECK(strstr(r.message, "no connection within 300 ms") != NULL);
    LS_CHECK(strstr(r.message, "refused") != NULL); /* the last connect error */
    LS_CHECK(!ls_pg_is_up(pg));

    /* The loop goes on: timers fire, and the pool keeps trying. */
    int ticks = 0;
    uv_timer_t tick;
    uv_timer_init(&fx.loop, &tick);
    tick.data = &ticks;
    uv_timer_start(&tick, on_tick, 10, 0);
    LS_CHECK(fx_run_until(&fx, ticked, &tick, 2000));
    uv_close((uv_handle_t *)&tick, NULL);

    /* Closing fails what is still queued and closes every handle. */
    LS_REQUIRE(ls_pg_query(pg, "SELECT 1", 0, NULL, fx_on_result, &r2, &err) == LS_ERR_OK);
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.queued, 1);
    LS_CHECK_INT_EQ(s.failures, 1);
    fx_close_pool(&fx, pg);
    LS_CHECK(r2.done);
    LS_CHECK_INT_EQ(r2.code, LS_ERR_UNAVAILABLE);
    uv_close((uv_handle_t *)&fx.guard, NULL);
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    LS_CHECK_INT_EQ(uv_loop_close(&fx.loop), 0);
}

typedef struct {
    ls_pg_t *pg;
    unsigned long long want;
} reconnects_t;

static bool reconnected(void *arg)
{
    reconnects_t *r = arg;
    ls_pg_stats_t s;
    ls_pg_stats(r->pg, &s);
    return s.reconnects >= r->want && s.up == s.size;
}

LS_TEST(pool_reconnects_after_backends_are_killed)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 2, "ls_test_victim");
    ls_pg_t *killer = fx_open(&fx, fx.dsn, 1, "ls_test_killer");
    LS_REQUIRE(fx_run_until(&fx, pool_all_up, pg, 10000));
    fx_result_t r = fx_query(&fx, pg, "SELECT 1", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);

    /* One connection runs a long query while both backends are killed. */
    fx_result_t slow = {0};
    ls_error_t err;
    LS_REQUIRE(ls_pg_query(pg, "SELECT pg_sleep(30)", 0, NULL, fx_on_result, &slow, &err) ==
               LS_ERR_OK);
    const char *kill_sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = 'ls_test_victim' AND datname = "
                           "current_database()";
    r = fx_query(&fx, killer, kill_sql, 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "2");
    LS_CHECK(fx_run_until(&fx, fx_flag, &slow.done, 10000));
    LS_CHECK_INT_EQ(slow.code, LS_ERR_UNAVAILABLE);

    reconnects_t rc = {pg, 2};
    LS_CHECK(fx_run_until(&fx, reconnected, &rc, 10000));
    for (int i = 0; i < 4; i++) {
        r = fx_query(&fx, pg, "SELECT 7", 0, NULL);
        LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
        LS_CHECK_STR_EQ(r.value[0], "7");
    }
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK(s.reconnects >= 2);
    fx_close_pool(&fx, killer);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(transaction_on_lost_connection_fails_unavailable_and_releases)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, "ls_test_txvictim");
    ls_pg_t *killer = fx_open(&fx, fx.dsn, 1, "ls_test_killer");
    ls_pg_tx_t *tx = begin_tx(&fx, pg);
    fx_result_t r = fx_query(&fx, killer,
                             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE application_name = 'ls_test_txvictim' AND datname = "
                             "current_database()",
                             0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "1");
    reconnects_t rc = {pg, 1};
    LS_CHECK(fx_run_until(&fx, reconnected, &rc, 10000));
    r = tx_query(&fx, tx, "SELECT 1", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_UNAVAILABLE);
    fx_tx_t t = tx_end(&fx, tx, true);
    LS_CHECK_INT_EQ(t.code, LS_ERR_UNAVAILABLE);
    /* The pool's only connection serves queries again. */
    r = fx_query(&fx, pg, "SELECT 5", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "5");
    fx_close_pool(&fx, killer);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(running_query_past_timeout_fails_and_connection_recovers)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_config_t cfg = {.dsn = fx.dsn,
                          .pool_size = 1,
                          .reconnect_min_ms = 20,
                          .reconnect_max_ms = 100,
                          .query_timeout_ms = 300};
    ls_pg_t *pg = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_pg_open(&fx.loop, &cfg, &pg, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(&fx, pool_all_up, pg, 10000));
    uint64_t start = uv_now(&fx.loop);
    fx_result_t r = fx_query(&fx, pg, "SELECT pg_sleep(5)", 0, NULL);
    uint64_t elapsed = uv_now(&fx.loop) - start;
    LS_CHECK_INT_EQ(r.code, LS_ERR_UNAVAILABLE);
    LS_CHECK(strstr(r.message, "timed out after 300 ms") != NULL);
    LS_CHECK(elapsed >= 290 && elapsed < 2000);
    r = fx_query(&fx, pg, "SELECT 11", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    LS_CHECK_STR_EQ(r.value[0], "11");
    ls_pg_stats_t s;
    ls_pg_stats(pg, &s);
    LS_CHECK_INT_EQ(s.reconnects, 1);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(connects_through_second_host_when_first_refuses)
{
    fx_t fx;
    fx_init(&fx);
    /* libpq opens a new socket for the second host inside PQconnectPoll; the
     * pool must follow it to a fresh poll handle. */
    char *error = NULL;
    PQconninfoOption *opts = PQconninfoParse(fx.dsn, &error);
    LS_REQUIRE(opts != NULL);
    const char *host = NULL, *port = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    char dsn[512];
    snprintf(dsn, sizeof(dsn), "host=127.0.0.1,%s port=%d,%s dbname=%s user=%s",
             host ? host : "/var/run/postgresql", closed_port(), port ? port : "5432", fx.dbname,
             user ? user : "postgres");
    PQconninfoFree(opts);
    ls_pg_t *pg = fx_open(&fx, dsn, 2, NULL);
    fx_result_t r = fx_query(&fx, pg, "SELECT current_database()", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    LS_CHECK_STR_EQ(r.value[0], fx.dbname);
    LS_CHECK(fx_run_until(&fx, pool_all_up, pg, 10000));
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(large_parameter_is_flushed_completely)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    size_t n = 4u << 20;
    char *big = ls_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    char tail[6];
    memcpy(tail, big + n - 5, 6); /* what substr($1, n - 4) must return */
    const char *params[1] = {big};
    fx_result_t r = fx_query(&fx, pg, "SELECT length($1), substr($1, 4194300)", 1, params);
    free(big);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    LS_CHECK_STR_EQ(r.value[0], "4194304");
    LS_CHECK_STR_EQ(r.value[1], tail);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

typedef struct {
    fx_result_t r;
    bool *closed;
    bool closed_before;
} ordered_t;

static void on_ordered(void *arg, PGresult *res, const ls_error_t *err)
{
    ordered_t *o = arg;
    o->closed_before = *o->closed;
    fx_on_result(&o->r, res, err);
}

LS_TEST(close_lets_running_query_finish_and_fails_queued_ones)
{
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    LS_REQUIRE(fx_run_until(&fx, pool_all_up, pg, 10000));
    bool closed = false;
    ordered_t running = {.closed = &closed}, queued = {.closed = &closed};
    ls_error_t err;
    LS_REQUIRE(ls_pg_query(pg, "SELECT pg_sleep(0.2), 9", 0, NULL, on_ordered, &running, &err) ==
               LS_ERR_OK);
    LS_REQUIRE(ls_pg_query(pg, "SELECT 10", 0, NULL, on_ordered, &queued, &err) == LS_ERR_OK);
    ls_pg_close(pg, fx_on_closed, &closed);
    LS_CHECK(!queued.r.done); /* never inside the call */
    LS_CHECK(fx_run_until(&fx, fx_flag, &closed, 10000));
    LS_CHECK(running.r.done && !running.closed_before);
    LS_CHECK_INT_EQ(running.r.code, LS_ERR_OK);
    LS_CHECK_STR_EQ(running.r.value[1], "9");
    LS_CHECK(queued.r.done && !queued.closed_before);
    LS_CHECK_INT_EQ(queued.r.code, LS_ERR_UNAVAILABLE);
    fx_done(&fx);
}

LS_TEST_MAIN(LS_T(query_with_params_and_nulls_returns_values),
             LS_T(server_errors_map_to_error_codes_with_message),
             LS_T(bad_input_fails_synchronously), LS_T(pool_of_two_runs_many_queries_in_fifo_order),
             LS_T(transactions_commit_and_rollback),
             LS_T(listen_notify_delivers_payloads_and_relistens_after_reconnect),
             LS_T(unreachable_server_fails_queued_query_after_timeout),
             LS_T(pool_reconnects_after_backends_are_killed),
             LS_T(transaction_on_lost_connection_fails_unavailable_and_releases),
             LS_T(running_query_past_timeout_fails_and_connection_recovers),
             LS_T(connects_through_second_host_when_first_refuses),
             LS_T(large_parameter_is_flushed_completely),
             LS_T(close_lets_running_query_finish_and_fails_queued_ones))
