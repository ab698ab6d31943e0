/*
 * A running CDC source (see source.h). The cycle is a chain of callbacks:
 * cycle_start -> on_horizon -> on_rows (produce) -> on_delivery (all
 * reports in) -> on_persisted -> schedule. `busy` is true for the whole
 * chain, so notifications and timers never start a second cycle; they set
 * `poll_again` instead. The struct stays alive until it is stopped and no
 * callback is owed to it (`owed` counts deliveries and state queries).
 */
#include "cdc/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cdc/query.h"
#include "cdc/row.h"
#include "cdc/watermark.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"

#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 30000
#define QUERY_TIMEOUT_MS 60000
#define DOWN_GRACE_MS 2000

typedef enum { STATE_STARTING, STATE_RUNNING, STATE_ERROR } state_t;

typedef struct batch batch_t;
typedef struct {
    batch_t *batch;
    uint32_t index;
} slot_t;

struct batch {
    ls_cdc_source_t *src;
    size_t rows;     /* fetched */
    size_t produced; /* handed to the producer */
    size_t reported; /* delivery reports received */
    bool full;       /* rows == batch_size: more may be waiting */
    uint8_t *outcomes;
    int64_t *ts_us;
    char **keys;
    slot_t *slots;
    ls_error_t first_error;
};

struct ls_cdc_source {
    uv_loop_t *loop;
    ls_pg_t *state_pg;
    ls_kafka_t *kafka;
    ls_pg_t *pg;
    /* definition */
    char *name, *dsn, *schema, *table, *key_column, *ts_column, *topic;
    int topic_partitions, poll_interval_ms, safety_delay_ms, batch_size;
    bool notify;
    char channel[40];
    /* from the catalog */
    ls_cdc_column_t *columns;
    char **column_names;
    char **json_names; /* "\"name\":" */
    size_t ncolumns;
    char *sql_first, *sql_next;
    bool catalog_ready, trigger_ready, topic_ready;
    /* watermark and counters */
    bool has_wm;
    int64_t wm_us;
    char *wm_key;
    uint64_t rows_emitted, polls, errors;
    int64_t last_poll_wall_us;
    bool caught_up;
    state_t state;
    char last_error[512];
    /* cycle */
    bool busy, poll_again, listening;
    int64_t horizon_us;
    batch_t *batch;
    uint64_t last_notify_ms, cycle_started_ms, down_since_ms;
    int retry_ms;
    uv_timer_t timer, stop_timer;
    int open_handles;
    int owed;
    /* stop */
    bool stopping, finishing, stop_done, drop_trigger, persisting;
    bool batch_failed;
    ls_error_t batch_error;
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

static void cycle_start(ls_cdc_source_t *src);
static void cycle_end(ls_cdc_source_t *src, const ls_error_t *err);
static void finish_stop(ls_cdc_source_t *src);

static int64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* ---------- lifetime ---------- */

static void source_free(ls_cdc_source_t *src)
{
    free(src->name);
    free(src->dsn);
    free(src->schema);
    free(src->table);
    free(src->key_column);
    free(src->ts_column);
    free(src->topic);
    for (size_t i = 0; i < src->ncolumns; i++) {
        free(src->column_names[i]);
        free(src->json_names[i]);
    }
    free(src->columns);
    free(src->column_names);
    free(src->json_names);
    free(src->sql_first);
    free(src->sql_next);
    free(src->wm_key);
    free(src);
}

static void maybe_free(ls_cdc_source_t *src)
{
    if (src->stop_done && src->owed == 0 && src->open_handles == 0 && src->batch == NULL)
        source_free(src);
}

static void batch_free(batch_t *b)
{
    for (size_t i = 0; i < b->rows; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->ts_us);
    free(b->outcomes);
    free(b->slots);
    free(b);
}

static void set_error(ls_cdc_source_t *src, const ls_error_t *err)
{
    src->errors++;
    src->state = STATE_ERROR;
    snprintf(src->last_error, sizeof(src->last_error), "%s", err->message);
    ls_log(LS_LOG_WARN, "cdc", "source %s: %s", src->name, err->message);
}

/* A cycle callback arrived after stop was called: end the cycle and let the
 * stop proceed (or, once stopped, release the source). True: return now. */
static bool stopped(ls_cdc_source_t *src)
{
    if (!src->stopping)
        return false;
    if (src->stop_done) {
        maybe_free(src);
        return true;
    }
    src->busy = false;
    finish_stop(src);
    return true;
}

/* ---------- catalog ---------- */

typedef struct {
    ls_cdc_column_t *columns;
    char **names;
    size_t n;
    uint32_t key_type, ts_type;
} catalog_t;

static void catalog_clear(catalog_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c->columns);
    memset(c, 0, sizeof(*c));
}

/* Validates the catalog rows for the definition; fills c on success. */
static ls_err_t read_catalog(PGresult *res, const char *schema, const char *table,
                             const char *key_column, const char *ts_column, catalog_t *c,
                             ls_error_t *err)
{
    memset(c, 0, sizeof(*c));
    int n = PQntuples(res);
    if (n == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.table",
                                 "table \"%s\".\"%s\" does not exist in the source database "
                                 "(names are case-sensitive)",
                                 schema, table);
    if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
        return ls_error_set_path(err, LS_ERR_FAILED_PRECONDITION, "$.dsn",
                                 "the source role may not SELECT from \"%s\".\"%s\"", schema,
                                 table);
    if (strcmp(PQgetvalue(res, 0, 4), "t") != 0)
        return ls_error_set_path(
            err, LS_ERR_FAILED_PRECONDITION, "$.dsn",
            "the source role cannot see other sessions' transactions in pg_stat_activity, so "
            "late commits could be missed: GRANT pg_read_all_stats TO the source role");
    bool key_found = false, ts_found = false;
    c->columns = ls_calloc((size_t)n, sizeof(*c->columns));
    c->names = ls_calloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) {
        const char *name = PQgetvalue(res, i, 0);
        uint32_t type = (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10);
        bool not_null = strcmp(PQgetvalue(res, i, 2), "t") == 0;
        c->names[c->n] = ls_strdup(name);
        c->columns[c->n].name = c->names[c->n];
        c->columns[c->n].kind = ls_cdc_kind_for_type(type);
        c->n++;
        if (strcmp(name, key_column) == 0) {
            key_found = true;
            c->key_type = type;
            if (ls_cdc_key_cast(type) == NULL)
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.key_column",
                                         "key column %s must be an integer, numeric, text, "
                                         "varchar or uuid column",
                                         key_column);
            if (!not_null)
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.key_column",
                                         "key column %s must be NOT NULL (a primary key)",
                                         key_column);
        }
        if (strcmp(name, ts_column) == 0) {
            ts_found = true;
            c->ts_type = type;
            ls_cdc_kind_t kind = ls_cdc_kind_for_type(type);
            if (kind != LS_CDC_KIND_TIMESTAMPTZ && kind != LS_CDC_KIND_TIMESTAMP)
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.timestamp_column",
                                         "timestamp column %s must be timestamptz or timestamp",
                                         ts_column);
        }
    }
    if (!key_found)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.key_column",
                                 "column %s not found in \"%s\".\"%s\"", key_column, schema, table);
    if (!ts_found)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.timestamp_column",
                                 "column %s not found in \"%s\".\"%s\"", ts_column, schema, table);
    return LS_ERR_OK;
}

static char *qualified_name(const char *schema, const char *table)
{
    ls_buf_t b = LS_BUF_INIT;
    ls_cdc_quote_ident(&b, schema);
    ls_buf_puts(&b, ".");
    ls_cdc_quote_ident(&b, table);
    return ls_buf_steal(&b, NULL);
}

/* ---------- check (create-time validation) ---------- */

typedef struct {
    ls_pg_t *pg;
    ls_cdc_source_config_t cfg; /* strings below are owned copies */
    char *schema, *table, *key_column, *ts_column, *name;
    char *qualified;
    char channel[40];
    int step;
    ls_error_t err;
    void (*cb)(void *arg, const ls_error_t *err);
    void *arg;
} check_op_t;

static void check_closed(void *arg)
{
    check_op_t *op = arg;
    op->cb(op->arg, &op->err);
    free(op->schema);
    free(op->table);
    free(op->key_column);
    free(op->ts_column);
    free(op->name);
    free(op->qualified);
    free(op);
}

static void check_done(check_op_t *op, const ls_error_t *err)
{
    if (err != NULL)
        op->err = *err;
    ls_pg_close(op->pg, check_closed, op);
}

static void on_check_trigger(void *arg, PGresult *res, const ls_error_t *err)
{
    check_op_t *op = arg;
    (void)res;
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set_path(
            &e, err->code == LS_ERR_UNAVAILABLE ? LS_ERR_UNAVAILABLE : LS_ERR_FAILED_PRECONDITION,
            "$.notify", "cannot install the notify trigger on \"%s\".\"%s\": %s", op->schema,
            op->table, err->message);
        check_done(op, &e);
        return;
    }
    if (op->step == 0) {
        op->step = 1;
        char *sql = ls_cdc_notify_trigger_sql(op->schema, op->table, op->channel);
        ls_error_t qerr;
        ls_err_t rc = ls_pg_query(op->pg, sql, 0, NULL, on_check_trigger, op, &qerr);
        free(sql);
        if (rc != LS_ERR_OK)
            check_done(op, &qerr);
        return;
    }
    check_done(op, NULL);
}

static void on_check_catalog(void *arg, PGresult *res, const ls_error_t *err)
{
    check_op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set_path(
            &e, err->code == LS_ERR_UNAVAILABLE ? LS_ERR_UNAVAILABLE : LS_ERR_INVALID_ARGUMENT,
            "$.dsn", "source database: %s", err->message);
        check_done(op, &e);
        return;
    }
    catalog_t c;
    ls_error_t e;
    ls_error_clear(&e);
    ls_err_t rc = read_catalog(res, op->schema, op->table, op->key_column, op->ts_column, &c, &e);
    catalog_clear(&c);
    if (rc != LS_ERR_OK || !op->cfg.notify) {
        check_done(op, rc != LS_ERR_OK ? &e : NULL);
        return;
    }
    char *sql = ls_cdc_notify_function_sql(op->schema, op->channel);
    ls_error_t qerr;
    rc = ls_pg_query(op->pg, sql, 0, NULL, on_check_trigger, op, &qerr);
    free(sql);
    if (rc != LS_ERR_OK)
        check_done(op, &qerr);
}

ls_err_t ls_cdc_source_check(uv_loop_t *loop, const ls_cdc_source_config_t *config, int timeout_ms,
                             void (*cb)(void *arg, const ls_error_t *err), void *arg,
                             ls_error_t *err)
{
    ls_pg_config_t pc = {.dsn = config->dsn,
                         .pool_size = 1,
                         .connect_timeout_ms = timeout_ms,
                         .reconnect_min_ms = 100,
                         .reconnect_max_ms = 1000,
                         .query_timeout_ms = timeout_ms,
                         .application_name = "lakestreamd-cdc-check"};
    ls_pg_t *pg;
    ls_err_t rc = ls_pg_open(loop, &pc, &pg, err);
    if (rc != LS_ERR_OK) {
        ls_error_set_path(err, rc, "$.dsn", "$.dsn: %.480s", err->message);
        return rc;
    }
    check_op_t *op = ls_calloc(1, sizeof(*op));
    op->pg = pg;
    op->cfg = *config;
    op->schema = ls_strdup(config->schema);
    op->table = ls_strdup(config->table);
    op->key_column = ls_strdup(config->key_column);
    op->ts_column = ls_strdup(config->timestamp_column);
    op->name = ls_strdup(config->name);
    op->qualified = qualified_name(config->schema, config->table);
    ls_cdc_channel_name(config->name, op->channel, sizeof(op->channel));
    op->cb = cb;
    op->arg = arg;
    ls_error_clear(&op->err);
    const char *params[] = {op->qualified};
    ls_error_t qerr;
    if (ls_pg_query(pg, ls_cdc_catalog_sql, 1, params, on_check_catalog, op, &qerr) != LS_ERR_OK)
        check_done(op, &qerr);
    return LS_ERR_OK;
}

/* ---------- start: catalog, trigger, listen, topic ---------- */

static void schedule(ls_cdc_source_t *src, uint64_t delay_ms);

static void on_notify(void *arg, const char *channel, const char *payload)
{
    ls_cdc_source_t *src = arg;
    (void)channel;
    (void)payload;
    uv_update_time(src->loop);
    src->last_notify_ms = uv_now(src->loop);
    if (src->stopping)
        return;
    if (src->busy) {
        src->poll_again = true;
        return;
    }
    uv_timer_stop(&src->timer);
    cycle_start(src);
}

static void on_setup_step(void *arg, PGresult *res, const ls_error_t *err);

static void setup_trigger_step(ls_cdc_source_t *src, int step)
{
    char *sql = step == 0 ? ls_cdc_notify_function_sql(src->schema, src->channel)
                          : ls_cdc_notify_trigger_sql(src->schema, src->table, src->channel);
    ls_error_t err;
    src->owed++;
    ls_err_t rc = ls_pg_query(src->pg, sql, 0, NULL, on_setup_step, src, &err);
    free(sql);
    if (rc != LS_ERR_OK) {
        src->owed--;
        cycle_end(src, &err);
    }
}

static void on_setup_step(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    (void)res;
    src->owed--;
    if (stopped(src))
        return;
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set(&e, err->code, "installing the notify trigger: %s", err->message);
        cycle_end(src, &e);
        return;
    }
    /* The function is created first, then the trigger: two statements. */
    static const char marker[] = "CREATE TRIGGER";
    const char *status = res != NULL ? PQcmdStatus(res) : "";
    if (strncmp(status, marker, sizeof(marker) - 1) != 0) {
        setup_trigger_step(src, 1);
        return;
    }
    src->trigger_ready = true;
    cycle_start(src);
}

static void build_sql(ls_cdc_source_t *src, const catalog_t *c)
{
    bool has_tz = ls_cdc_kind_for_type(c->ts_type) == LS_CDC_KIND_TIMESTAMPTZ;
    const char *cast = ls_cdc_key_cast(c->key_type);
    src->sql_first =
        ls_cdc_poll_sql(src->schema, src->table, src->ts_column, has_tz, src->key_column, cast,
                        c->columns, c->n, src->batch_size, false);
    src->sql_next = ls_cdc_poll_sql(src->schema, src->table, src->ts_column, has_tz,
                                    src->key_column, cast, c->columns, c->n, src->batch_size, true);
    src->ncolumns = c->n;
    src->columns = c->columns;
    src->column_names = c->names;
    src->json_names = ls_calloc(c->n ? c->n : 1, sizeof(char *));
    for (size_t i = 0; i < c->n; i++) {
        ls_buf_t b = LS_BUF_INIT;
        ls_cdc_json_string(&b, c->names[i], strlen(c->names[i]));
        ls_buf_puts(&b, ":");
        src->json_names[i] = ls_buf_steal(&b, NULL);
    }
}

static void on_catalog(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    src->owed--;
    if (stopped(src))
        return;
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set(&e, err->code, "reading the source table's catalog: %s", err->message);
        cycle_end(src, &e);
        return;
    }
    catalog_t c;
    ls_error_t e;
    ls_error_clear(&e);
    if (read_catalog(res, src->schema, src->table, src->key_column, src->ts_column, &c, &e) !=
        LS_ERR_OK) {
        catalog_clear(&c);
        cycle_end(src, &e);
        return;
    }
    build_sql(src, &c); /* takes c's arrays */
    src->catalog_ready = true;
    cycle_start(src);
}

static void on_topic_ensured(void *arg, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    src->owed--;
    if (stopped(src))
        return;
    if (err->code != LS_ERR_OK && err->code != LS_ERR_ALREADY_EXISTS) {
        ls_error_t e;
        ls_error_set(&e, err->code, "creating topic %s on the embedded broker: %s", src->topic,
                     err->message);
        cycle_end(src, &e);
        return;
    }
    src->topic_ready = true;
    cycle_start(src);
}

/* One step of setup per call, in order; returns true when setup is done. */
static bool setup_next(ls_cdc_source_t *src)
{
    ls_error_t err;
    if (!src->topic_ready) {
        /* The embedded broker starts empty with every process; a real
         * cluster keeps the topic the topics service created. */
        if (!ls_kafka_is_embedded(src->kafka)) {
            src->topic_ready = true;
        } else {
            src->owed++;
            if (ls_kafka_create_topic(src->kafka, src->topic, src->topic_partitions, 1, NULL,
                                      on_topic_ensured, src, &err) != LS_ERR_OK) {
                src->owed--;
                cycle_end(src, &err);
            }
            return false;
        }
    }
    if (!src->catalog_ready) {
        char *q = qualified_name(src->schema, src->table);
        const char *params[] = {q};
        src->owed++;
        ls_err_t rc = ls_pg_query(src->pg, ls_cdc_catalog_sql, 1, params, on_catalog, src, &err);
        free(q);
        if (rc != LS_ERR_OK) {
            src->owed--;
            cycle_end(src, &err);
        }
        return false;
    }
    if (src->notify && !src->trigger_ready) {
        setup_trigger_step(src, 0);
        return false;
    }
    if (src->notify && !src->listening) {
        if (ls_pg_listen(src->pg, src->channel, on_notify, src, &err) != LS_ERR_OK &&
            err.code != LS_ERR_ALREADY_EXISTS) {
            cycle_end(src, &err);
            return false;
        }
        src->listening = true;
    }
    return true;
}

/* ---------- the poll cycle ---------- */

static void on_persisted(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    (void)res;
    src->owed--;
    src->persisting = false;
    if (src->stop_done) {
        maybe_free(src);
        return;
    }
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "cdc",
               "source %s: storing the watermark failed (will store it with the next batch): %s",
               src->name, err->message);
    cycle_end(src, src->batch_failed ? &src->batch_error : NULL);
}

static void persist_watermark(ls_cdc_source_t *src)
{
    char us[32], rows[32];
    snprintf(us, sizeof(us), "%lld", (long long)src->wm_us);
    snprintf(rows, sizeof(rows), "%llu", (unsigned long long)src->rows_emitted);
    const char *params[] = {src->name, us, src->wm_key, rows};
    ls_error_t err;
    src->owed++;
    src->persisting = true;
    if (ls_pg_query(src->state_pg,
                    "UPDATE cdc_sources SET watermark_us = $2::int8, watermark_key = $3, "
                    "rows_emitted = $4::int8, updated_at = now() WHERE name = $1",
                    4, params, on_persisted, src, &err) != LS_ERR_OK) {
        src->owed--;
        src->persisting = false;
        ls_log(LS_LOG_WARN, "cdc", "source %s: cannot store the watermark: %s", src->name,
               err.message);
        cycle_end(src, src->batch_failed ? &src->batch_error : NULL);
    }
}

/* Every record of the batch has its delivery report. */
static void batch_settled(ls_cdc_source_t *src, batch_t *b)
{
    size_t acked = ls_cdc_acked_prefix(b->outcomes, b->produced);
    bool complete = acked == b->rows;
    ls_error_t first = b->first_error;
    bool full = b->full;
    if (acked > 0) {
        src->has_wm = true;
        src->wm_us = b->ts_us[acked - 1];
        free(src->wm_key);
        src->wm_key = ls_strdup(b->keys[acked - 1]);
        src->rows_emitted += acked;
    }
    src->batch = NULL;
    batch_free(b);
    if (src->stop_done) {
        /* force-stopped while delivering: nothing more is written */
        maybe_free(src);
        return;
    }
    src->batch_failed = !complete;
    if (!complete) {
        if (first.code == LS_ERR_OK)
            ls_error_set(&first, LS_ERR_UNAVAILABLE, "the producer took only part of the batch");
        src->batch_error = first;
    } else {
        src->caught_up = !full;
        src->poll_again = src->poll_again || full;
    }
    if (acked > 0) {
        persist_watermark(src);
        return;
    }
    cycle_end(src, complete ? NULL : &first);
}

static void on_delivery(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    slot_t *slot = arg;
    batch_t *b = slot->batch;
    ls_cdc_source_t *src = b->src;
    (void)partition;
    (void)offset;
    src->owed--;
    b->outcomes[slot->index] = err->code == LS_ERR_OK ? LS_CDC_ACKED : LS_CDC_FAILED;
    if (err->code != LS_ERR_OK && b->first_error.code == LS_ERR_OK)
        ls_error_set(&b->first_error, err->code, "delivery to %s failed: %s", src->topic,
                     err->message);
    b->reported++;
    if (b->reported == b->produced)
        batch_settled(src, b);
}

static void produce_rows(ls_cdc_source_t *src, PGresult *res)
{
    int n = PQntuples(res);
    batch_t *b = ls_calloc(1, sizeof(*b));
    b->src = src;
    b->rows = (size_t)n;
    b->full = n >= src->batch_size;
    b->outcomes = ls_calloc((size_t)n, 1);
    b->ts_us = ls_calloc((size_t)n, sizeof(int64_t));
    b->keys = ls_calloc((size_t)n, sizeof(char *));
    b->slots = ls_calloc((size_t)n, sizeof(slot_t));
    src->batch = b;
    ls_buf_t json = LS_BUF_INIT;
    for (int i = 0; i < n; i++) {
        b->ts_us[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        b->keys[i] = ls_strdup(PQgetvalue(res, i, 1));
        b->slots[i].batch = b;
        b->slots[i].index = (uint32_t)i;
    }
    for (int i = 0; i < n; i++) {
        json.len = 0;
        ls_buf_puts(&json, "{");
        for (size_t c = 0; c < src->ncolumns; c++) {
            int f = (int)c + 2;
            if (c > 0)
                ls_buf_puts(&json, ",");
            ls_buf_puts(&json, src->json_names[c]);
            ls_cdc_value_json(&json, src->columns[c].kind, PQgetvalue(res, i, f),
                              (size_t)PQgetlength(res, i, f), PQgetisnull(res, i, f) != 0);
        }
        ls_buf_puts(&json, "}");
        ls_error_t err;
        src->owed++;
        if (ls_kafka_produce(src->kafka, src->topic, -1, b->keys[i], strlen(b->keys[i]), json.data,
                             json.len, NULL, 0, on_delivery, &b->slots[i], &err) != LS_ERR_OK) {
            src->owed--;
            b->first_error = err;
            break;
        }
        b->produced++;
    }
    ls_buf_free(&json);
    if (b->produced == 0)
        batch_settled(src, b);
}

static void on_rows(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    src->owed--;
    if (stopped(src))
        return;
    src->polls++;
    src->last_poll_wall_us = wall_us();
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set(&e, err->code, "polling the source table: %s", err->message);
        cycle_end(src, &e);
        return;
    }
    if (PQntuples(res) == 0) {
        src->caught_up = true;
        cycle_end(src, NULL);
        return;
    }
    produce_rows(src, res);
}

static void on_horizon(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    src->owed--;
    if (stopped(src))
        return;
    if (err->code != LS_ERR_OK) {
        ls_error_t e;
        ls_error_set(&e, err->code, "reading the transaction horizon: %s", err->message);
        cycle_end(src, &e);
        return;
    }
    int64_t clock = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    int64_t oldest =
        PQgetisnull(res, 0, 1) ? LS_CDC_NO_OPEN_TX : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    src->horizon_us = ls_cdc_horizon_us(clock, oldest, src->safety_delay_ms);
    char wm[32], horizon[32];
    snprintf(wm, sizeof(wm), "%lld", (long long)src->wm_us);
    snprintf(horizon, sizeof(horizon), "%lld", (long long)src->horizon_us);
    ls_error_t qerr;
    ls_err_t rc;
    src->owed++;
    /* A second statement, hence a snapshot taken after pg_stat_activity was
     * read: a transaction in progress at the snapshot was either seen above
     * or started after the clock reading, so its rows lie above the horizon. */
    if (src->has_wm) {
        const char *params[] = {wm, src->wm_key, horizon};
        rc = ls_pg_query(src->pg, src->sql_next, 3, params, on_rows, src, &qerr);
    } else {
        const char *params[] = {horizon};
        rc = ls_pg_query(src->pg, src->sql_first, 1, params, on_rows, src, &qerr);
    }
    if (rc != LS_ERR_OK) {
        src->owed--;
        cycle_end(src, &qerr);
    }
}

static void cycle_start(ls_cdc_source_t *src)
{
    if (src->stopping) {
        src->busy = false;
        finish_stop(src);
        return;
    }
    src->busy = true;
    src->poll_again = false;
    uv_update_time(src->loop);
    src->cycle_started_ms = uv_now(src->loop);
    /* Queries on a pool that cannot connect would wait for the query
     * timeout; report the outage instead, after a grace for the first
     * connection, and retry with backoff. */
    if (!ls_pg_is_up(src->pg)) {
        if (src->down_since_ms == 0)
            src->down_since_ms = src->cycle_started_ms;
        if (src->cycle_started_ms - src->down_since_ms < DOWN_GRACE_MS) {
            src->busy = false;
            schedule(src, 100);
            return;
        }
        ls_error_t down;
        ls_error_set(&down, LS_ERR_UNAVAILABLE,
                     "the source database is unreachable (no connection for %llu ms)",
                     (unsigned long long)(src->cycle_started_ms - src->down_since_ms));
        cycle_end(src, &down);
        return;
    }
    src->down_since_ms = 0;
    if (!setup_next(src))
        return;
    ls_error_t err;
    src->owed++;
    if (ls_pg_query(src->pg, ls_cdc_horizon_sql, 0, NULL, on_horizon, src, &err) != LS_ERR_OK) {
        src->owed--;
        cycle_end(src, &err);
    }
}

static void on_timer(uv_timer_t *t)
{
    ls_cdc_source_t *src = t->data;
    if (!src->busy)
        cycle_start(src);
}

static void schedule(ls_cdc_source_t *src, uint64_t delay_ms)
{
    uv_timer_start(&src->timer, on_timer, delay_ms, 0);
}

static void cycle_end(ls_cdc_source_t *src, const ls_error_t *err)
{
    src->busy = false;
    if (src->stopping) {
        finish_stop(src);
        return;
    }
    if (err != NULL) {
        set_error(src, err);
        /* A dropped table or column must be seen again: re-read the catalog. */
        if (src->catalog_ready && err->code != LS_ERR_UNAVAILABLE) {
            src->catalog_ready = false;
            free(src->sql_first);
            free(src->sql_next);
            src->sql_first = src->sql_next = NULL;
            for (size_t i = 0; i < src->ncolumns; i++) {
                free(src->column_names[i]);
                free(src->json_names[i]);
            }
            free(src->columns);
            free(src->column_names);
            free(src->json_names);
            src->columns = NULL;
            src->column_names = src->json_names = NULL;
            src->ncolumns = 0;
        }
        src->retry_ms = src->retry_ms == 0 ? RETRY_MIN_MS : src->retry_ms * 2;
        if (src->retry_ms > RETRY_MAX_MS)
            src->retry_ms = RETRY_MAX_MS;
        int delay = src->retry_ms < src->poll_interval_ms ? src->retry_ms : src->poll_interval_ms;
        schedule(src, (uint64_t)delay);
        return;
    }
    if (src->state != STATE_RUNNING && src->catalog_ready) {
        if (src->state == STATE_ERROR)
            ls_log(LS_LOG_INFO, "cdc", "source %s recovered", src->name);
        src->state = STATE_RUNNING;
    }
    src->retry_ms = 0;
    if (src->poll_again) {
        schedule(src, 0);
        return;
    }
    /* Rows of a transaction that notified are stamped no later than the
     * notification's arrival, so one poll started a safety delay after it
     * is sure to see them below the horizon: schedule exactly that one. */
    uint64_t delay = (uint64_t)src->poll_interval_ms;
    if (src->notify && src->last_notify_ms != 0) {
        uint64_t due = src->last_notify_ms + (uint64_t)src->safety_delay_ms + 2;
        uv_update_time(src->loop);
        uint64_t now = uv_now(src->loop);
        if (src->cycle_started_ms < due) {
            uint64_t wait = due > now ? due - now : 0;
            if (wait < delay)
                delay = wait;
        }
    }
    schedule(src, delay);
}

ls_err_t ls_cdc_source_start(uv_loop_t *loop, ls_pg_t *state_pg, ls_kafka_t *kafka,
                             const ls_cdc_source_config_t *cfg, ls_cdc_source_t **out,
                             ls_error_t *err)
{
    ls_pg_config_t pc = {.dsn = cfg->dsn,
                         .pool_size = 1,
                         .connect_timeout_ms = 5000,
                         .reconnect_min_ms = 200,
                         .reconnect_max_ms = 5000,
                         .query_timeout_ms = QUERY_TIMEOUT_MS,
                         .application_name = "lakestreamd-cdc"};
    ls_pg_t *pg;
    if (ls_pg_open(loop, &pc, &pg, err) != LS_ERR_OK)
        return err->code;
    ls_cdc_source_t *src = ls_calloc(1, sizeof(*src));
    src->loop = loop;
    src->state_pg = state_pg;
    src->kafka = kafka;
    src->pg = pg;
    src->name = ls_strdup(cfg->name);
    src->dsn = ls_strdup(cfg->dsn);
    src->schema = ls_strdup(cfg->schema);
    src->table = ls_strdup(cfg->table);
    src->key_column = ls_strdup(cfg->key_column);
    src->ts_column = ls_strdup(cfg->timestamp_column);
    src->topic = ls_strdup(cfg->topic);
    src->topic_partitions = cfg->topic_partitions > 0 ? cfg->topic_partitions : 1;
    src->poll_interval_ms = cfg->poll_interval_ms;
    src->safety_delay_ms = cfg->safety_delay_ms;
    src->batch_size = cfg->batch_size;
    src->notify = cfg->notify;
    src->has_wm = cfg->has_watermark;
    src->wm_us = cfg->watermark_us;
    src->wm_key = ls_strdup(cfg->has_watermark && cfg->watermark_key ? cfg->watermark_key : "");
    src->rows_emitted = (uint64_t)cfg->rows_emitted;
    ls_cdc_channel_name(cfg->name, src->channel, sizeof(src->channel));
    src->state = STATE_STARTING;
    uv_timer_init(loop, &src->timer);
    uv_timer_init(loop, &src->stop_timer);
    src->timer.data = src;
    src->stop_timer.data = src;
    src->open_handles = 2;
    schedule(src, 0);
    *out = src;
    return LS_ERR_OK;
}

/* ---------- stop ---------- */

static void on_handle_closed(uv_handle_t *h)
{
    ls_cdc_source_t *src = h->data;
    src->open_handles--;
    maybe_free(src);
}

static void on_pool_closed(void *arg)
{
    ls_cdc_source_t *src = arg;
    void (*cb)(void *) = src->stop_cb;
    void *cb_arg = src->stop_arg;
    src->pg = NULL;
    src->stop_done = true;
    uv_close((uv_handle_t *)&src->timer, on_handle_closed);
    uv_close((uv_handle_t *)&src->stop_timer, on_handle_closed);
    if (cb != NULL)
        cb(cb_arg);
}

static void close_pool(ls_cdc_source_t *src)
{
    if (src->listening) {
        ls_pg_unlisten(src->pg, src->channel, NULL);
        src->listening = false;
    }
    ls_pg_close(src->pg, on_pool_closed, src);
}

static void on_dropped(void *arg, PGresult *res, const ls_error_t *err);

/* Runs one DROP of the notify trigger or function (sql is freed); when it
 * cannot even be sent, the pool closes at once. */
static void drop_step(ls_cdc_source_t *src, char *sql)
{
    ls_error_t qerr;
    src->owed++;
    ls_err_t rc = ls_pg_query(src->pg, sql, 0, NULL, on_dropped, src, &qerr);
    free(sql);
    if (rc == LS_ERR_OK)
        return;
    src->owed--;
    close_pool(src);
}

static void on_dropped(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_cdc_source_t *src = arg;
    (void)res;
    src->owed--;
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "cdc", "source %s: removing the notify trigger: %s", src->name,
               err->message);
    if (src->drop_trigger) {
        /* trigger first (it references the function), then the function */
        src->drop_trigger = false;
        drop_step(src, ls_cdc_drop_function_sql(src->schema, src->channel));
        return;
    }
    close_pool(src);
}

static void finish_stop(ls_cdc_source_t *src)
{
    if (src->finishing)
        return;
    src->finishing = true;
    uv_timer_stop(&src->stop_timer);
    uv_timer_stop(&src->timer);
    if (src->drop_trigger && src->notify && !ls_pg_is_up(src->pg)) {
        ls_log(LS_LOG_WARN, "cdc",
               "source %s: the source database is down; its notify trigger %s stays (drop it "
               "by hand)",
               src->name, src->channel);
        src->drop_trigger = false;
    }
    if (src->drop_trigger && src->notify) {
        drop_step(src, ls_cdc_drop_trigger_sql(src->schema, src->table, src->channel));
        return;
    }
    close_pool(src);
}

static void on_stop_wait_expired(uv_timer_t *t)
{
    ls_cdc_source_t *src = t->data;
    ls_log(LS_LOG_WARN, "cdc", "source %s: stopping without waiting for its current batch",
           src->name);
    finish_stop(src);
}

void ls_cdc_source_stop(ls_cdc_source_t *src, bool drop_trigger, int wait_ms, void (*cb)(void *arg),
                        void *arg)
{
    src->stopping = true;
    src->drop_trigger = drop_trigger;
    src->stop_cb = cb;
    src->stop_arg = arg;
    uv_timer_stop(&src->timer);
    /* Only records already handed to Kafka are worth waiting for; a query
     * on the source database is abandoned (closing the pool fails it). */
    if (!src->busy || (src->batch == NULL && !src->persisting)) {
        finish_stop(src);
        return;
    }
    uv_timer_start(&src->stop_timer, on_stop_wait_expired, (uint64_t)(wait_ms > 0 ? wait_ms : 1),
                   0);
}

/* ---------- status and metrics ---------- */

static const char *state_name(state_t s)
{
    return s == STATE_RUNNING ? "running" : s == STATE_ERROR ? "error" : "starting";
}

json_t *ls_cdc_source_status(const ls_cdc_source_t *src)
{
    json_t *st = json_object();
    json_object_set_new(st, "state", json_string(state_name(src->state)));
    if (src->has_wm) {
        char iso[48];
        ls_cdc_format_us(src->wm_us, iso, sizeof(iso));
        json_object_set_new(st, "watermark",
                            json_pack("{s:s,s:s}", "timestamp", iso, "key", src->wm_key));
        json_object_set_new(st, "lag_seconds", json_real((double)(wall_us() - src->wm_us) / 1e6));
    } else {
        json_object_set_new(st, "watermark", json_null());
        json_object_set_new(st, "lag_seconds", json_null());
    }
    json_object_set_new(st, "caught_up", json_boolean(src->caught_up));
    /* notify mode: true once LISTEN is in effect on a live connection */
    json_object_set_new(st, "listening",
                        json_boolean(src->notify && src->listening && src->pg != NULL &&
                                     ls_pg_listening(src->pg, src->channel)));
    json_object_set_new(st, "rows_emitted", json_integer((json_int_t)src->rows_emitted));
    json_object_set_new(st, "polls", json_integer((json_int_t)src->polls));
    json_object_set_new(st, "errors", json_integer((json_int_t)src->errors));
    if (src->last_poll_wall_us != 0) {
        char iso[48];
        ls_cdc_format_us(src->last_poll_wall_us - src->last_poll_wall_us % 1000, iso, sizeof(iso));
        json_object_set_new(st, "last_poll_at", json_string(iso));
    } else {
        json_object_set_new(st, "last_poll_at", json_null());
    }
    json_object_set_new(st, "last_error",
                        src->last_error[0] ? json_string(src->last_error) : json_null());
    return st;
}

void ls_cdc_source_counters(const ls_cdc_source_t *src, ls_cdc_source_counters_t *out)
{
    out->name = src->name;
    out->rows_emitted = src->rows_emitted;
    out->polls = src->polls;
    out->errors = src->errors;
    out->has_watermark = src->has_wm;
    out->lag_seconds = src->has_wm ? (double)(wall_us() - src->wm_us) / 1e6 : 0;
    out->running = src->state == STATE_RUNNING;
}
