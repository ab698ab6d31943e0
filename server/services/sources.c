/*
 * CDC sources service (see sources.h). Definitions live in memory as one
 * entry per source (its JSON definition and its running ls_cdc_source_t),
 * loaded once at start; create and delete update the row first and the
 * memory after. Sources run on every instance that loads them: two
 * instances sharing one database would both poll (a lease per source is
 * future work, noted in README).
 */
#include "services/sources.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc/query.h"
#include "cdc/source.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"

#define CHECK_TIMEOUT_MS 3000
#define DELETE_WAIT_MS 5000
#define MAX_DSN 4096

typedef struct entry {
    char *name;
    json_t *def;          /* the definition as shown by GET */
    ls_cdc_source_t *src; /* NULL when it could not start (start_error says why) */
    char *start_error;
    bool deleting;
    struct entry *next;
} entry_t;

struct ls_sources {
    uv_loop_t *loop;
    ls_pg_t *pg;
    ls_kafka_t *kafka;
    ls_topics_t *topics;
    char *server_dsn;
    entry_t *entries;
    json_t *creating; /* names with a create in flight */
    bool loaded, loading, stopping;
    int stops_pending;
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

ls_sources_t *ls_sources_new(uv_loop_t *loop, ls_pg_t *pg, ls_kafka_t *kafka, ls_topics_t *topics,
                             const char *server_dsn)
{
    ls_sources_t *s = ls_calloc(1, sizeof(*s));
    s->loop = loop;
    s->pg = pg;
    s->kafka = kafka;
    s->topics = topics;
    s->server_dsn = ls_strdup(server_dsn ? server_dsn : "");
    s->creating = json_object();
    return s;
}

static void entry_free(entry_t *e)
{
    free(e->start_error);
    free(e->name);
    json_decref(e->def);
    free(e);
}

void ls_sources_free(ls_sources_t *s)
{
    if (s == NULL)
        return;
    while (s->entries != NULL) {
        entry_t *e = s->entries;
        s->entries = e->next;
        entry_free(e);
    }
    json_decref(s->creating);
    free(s->server_dsn);
    free(s);
}

bool ls_sources_loaded(const ls_sources_t *s)
{
    return s->loaded;
}

size_t ls_sources_count(const ls_sources_t *s)
{
    size_t n = 0;
    for (entry_t *e = s->entries; e; e = e->next)
        n++;
    return n;
}

static entry_t *find(ls_sources_t *s, const char *name)
{
    for (entry_t *e = s->entries; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void unlink_entry(ls_sources_t *s, entry_t *victim)
{
    for (entry_t **p = &s->entries; *p; p = &(*p)->next)
        if (*p == victim) {
            *p = victim->next;
            return;
        }
}

/* ---------- definitions ---------- */

static bool source_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* libpq resolves host names with a blocking getaddrinfo inside
 * PQconnectPoll, which the loop must never run: hosts must be IP addresses
 * or socket directories (or hostaddr must be given). */
static ls_err_t check_dsn(const char *dsn, ls_error_t *err)
{
    if (strlen(dsn) > MAX_DSN)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.dsn",
                                 "$.dsn is longer than %d bytes", MAX_DSN);
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &msg);
    if (opts == NULL) {
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.dsn",
                          "$.dsn is not a valid libpq "
                          "connection string: %.400s",
                          msg ? msg : "out of memory");
        PQfreemem(msg);
        return LS_ERR_INVALID_ARGUMENT;
    }
    const char *host = NULL, *hostaddr = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
    }
    ls_err_t rc = LS_ERR_OK;
    if (host != NULL && host[0] != '\0' && (hostaddr == NULL || hostaddr[0] == '\0')) {
        char *copy = ls_strdup(host);
        char *save = NULL;
        for (char *h = strtok_r(copy, ",", &save); h && rc == LS_ERR_OK;
             h = strtok_r(NULL, ",", &save)) {
            unsigned char buf[16];
            if (h[0] == '/' || h[0] == '@' || inet_pton(AF_INET, h, buf) == 1 ||
                inet_pton(AF_INET6, h, buf) == 1)
                continue;
            rc = ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.dsn",
                                   "$.dsn host \"%.200s\" must be an IP address or a socket "
                                   "directory (name lookups would block the server), or give "
                                   "hostaddr",
                                   h);
        }
        free(copy);
    }
    PQconninfoFree(opts);
    return rc;
}

typedef struct {
    char *name, *dsn; /* dsn NULL: the server's */
    char schema[64], table[64];
    char *key_column, *ts_column, *topic;
    int poll_interval_ms, safety_delay_ms, batch_size;
    bool notify;
} def_t;

static void def_clear(def_t *d)
{
    free(d->name);
    free(d->dsn);
    free(d->key_column);
    free(d->ts_column);
    free(d->topic);
    memset(d, 0, sizeof(*d));
}

static ls_err_t parse_body(const json_t *body, def_t *d, ls_error_t *err)
{
    static const char *const allowed[] = {
        "name",  "dsn",    "table",           "key_column", "timestamp_column", "poll_interval_ms",
        "topic", "format", "safety_delay_ms", "batch_size", "notify",           NULL};
    memset(d, 0, sizeof(*d));
    ls_err_t rc = ls_json_check_members(body, "$", allowed, err);
    if (rc != LS_ERR_OK)
        return rc;
    const char *name, *dsn, *table, *key, *ts, *topic, *format;
    int64_t interval, delay, batch;
    bool notify;
    if ((rc = ls_json_get_string(body, "$", "name", true, NULL, &name, err)) != LS_ERR_OK)
        return rc;
    if (!source_name_valid(name))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "$.name must be 1 to 64 of [A-Za-z0-9._-]");
    if ((rc = ls_json_get_string(body, "$", "dsn", false, NULL, &dsn, err)) != LS_ERR_OK)
        return rc;
    if (dsn != NULL && (rc = check_dsn(dsn, err)) != LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_string(body, "$", "table", true, NULL, &table, err)) != LS_ERR_OK)
        return rc;
    if ((rc = ls_cdc_parse_table(table, d->schema, d->table, err)) != LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_string(body, "$", "key_column", true, NULL, &key, err)) != LS_ERR_OK)
        return rc;
    if (!ls_cdc_ident_valid(key))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.key_column",
                                 "$.key_column must be 1 to 63 of [A-Za-z0-9_$] (used exactly "
                                 "as given, quoted)");
    if ((rc = ls_json_get_string(body, "$", "timestamp_column", true, NULL, &ts, err)) != LS_ERR_OK)
        return rc;
    if (!ls_cdc_ident_valid(ts))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.timestamp_column",
                                 "$.timestamp_column must be 1 to 63 of [A-Za-z0-9_$] (used "
                                 "exactly as given, quoted)");
    if (strcmp(key, ts) == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.timestamp_column",
                                 "$.timestamp_column must differ from $.key_column");
    if ((rc = ls_json_get_int(body, "$", "poll_interval_ms", false, 5000, 10, 3600000, &interval,
                              err)) != LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_string(body, "$", "topic", true, NULL, &topic, err)) != LS_ERR_OK)
        return rc;
    if (!ls_topic_name_valid(topic))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.topic",
                                 "$.topic must be a Kafka topic name: 1 to 249 of [a-zA-Z0-9._-]");
    if ((rc = ls_json_get_string(body, "$", "format", false, "json", &format, err)) != LS_ERR_OK)
        return rc;
    if (strcmp(format, "json") != 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.format",
                                 "$.format must be \"json\" (avro is not supported yet)");
    if ((rc = ls_json_get_int(body, "$", "safety_delay_ms", false, 50, 0, 600000, &delay, err)) !=
        LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_int(body, "$", "batch_size", false, 1000, 1, 100000, &batch, err)) !=
        LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_bool(body, "$", "notify", false, &notify, err)) != LS_ERR_OK)
        return rc;
    d->name = ls_strdup(name);
    d->dsn = dsn ? ls_strdup(dsn) : NULL;
    d->key_column = ls_strdup(key);
    d->ts_column = ls_strdup(ts);
    d->topic = ls_strdup(topic);
    d->poll_interval_ms = (int)interval;
    d->safety_delay_ms = (int)delay;
    d->batch_size = (int)batch;
    d->notify = notify;
    return LS_ERR_OK;
}

static json_t *def_json(const def_t *d, const char *created_at)
{
    char *dsn = d->dsn ? ls_log_redact_dsn(d->dsn) : NULL;
    char table[140];
    snprintf(table, sizeof(table), "%s.%s", d->schema, d->table);
    json_t *j =
        json_pack("{s:s,s:o,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:i,s:b,s:s}", "name", d->name, "dsn",
                  dsn ? json_string(dsn) : json_null(), "table", table, "key_column", d->key_column,
                  "timestamp_column", d->ts_column, "poll_interval_ms", d->poll_interval_ms,
                  "topic", d->topic, "format", "json", "safety_delay_ms", d->safety_delay_ms,
                  "batch_size", d->batch_size, "notify", d->notify, "created_at", created_at);
    free(dsn);
    return j;
}

static ls_cdc_source_config_t source_config(const ls_sources_t *s, const def_t *d, int partitions)
{
    ls_cdc_source_config_t c = {.name = d->name,
                                .dsn = d->dsn ? d->dsn : s->server_dsn,
                                .schema = d->schema,
                                .table = d->table,
                                .key_column = d->key_column,
                                .timestamp_column = d->ts_column,
                                .topic = d->topic,
                                .topic_partitions = partitions,
                                .poll_interval_ms = d->poll_interval_ms,
                                .safety_delay_ms = d->safety_delay_ms,
                                .batch_size = d->batch_size,
                                .notify = d->notify};
    return c;
}

static json_t *entry_json(const entry_t *e);

static entry_t *add_entry(ls_sources_t *s, const char *name, json_t *def, ls_cdc_source_t *src)
{
    entry_t *e = ls_calloc(1, sizeof(*e));
    e->name = ls_strdup(name);
    e->def = def;
    e->src = src;
    e->next = s->entries;
    s->entries = e;
    return e;
}

/* ---------- load ---------- */

#define SOURCE_COLUMNS                                                                             \
    "name, dsn, schema_name, table_name, key_column, timestamp_column, poll_interval_ms, topic, "  \
    "safety_delay_ms, batch_size, notify, watermark_us, watermark_key, rows_emitted, "             \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

typedef struct {
    ls_sources_t *s;
    void (*cb)(void *arg, const ls_error_t *err);
    void *arg;
} load_op_t;

static int topic_partitions(ls_sources_t *s, const char *topic)
{
    /* The topics service keeps its list as JSON text; the count is only
     * needed to re-create a topic on the embedded broker. */
    size_t len;
    const char *text = ls_topics_list_text(s->topics, &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    int partitions = 1;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "items"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "name")), topic) == 0)
            partitions = (int)json_integer_value(json_object_get(t, "partitions"));
    }
    json_decref(doc);
    return partitions > 0 ? partitions : 1;
}

static void on_loaded(void *arg, PGresult *res, const ls_error_t *qerr)
{
    load_op_t *op = arg;
    ls_sources_t *s = op->s;
    s->loading = false;
    if (qerr->code != LS_ERR_OK || s->stopping) {
        op->cb(op->arg, qerr);
        free(op);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        def_t d;
        memset(&d, 0, sizeof(d));
        d.name = ls_strdup(PQgetvalue(res, i, 0));
        d.dsn = PQgetisnull(res, i, 1) ? NULL : ls_strdup(PQgetvalue(res, i, 1));
        snprintf(d.schema, sizeof(d.schema), "%s", PQgetvalue(res, i, 2));
        snprintf(d.table, sizeof(d.table), "%s", PQgetvalue(res, i, 3));
        d.key_column = ls_strdup(PQgetvalue(res, i, 4));
        d.ts_column = ls_strdup(PQgetvalue(res, i, 5));
        d.poll_interval_ms = atoi(PQgetvalue(res, i, 6));
        d.topic = ls_strdup(PQgetvalue(res, i, 7));
        d.safety_delay_ms = atoi(PQgetvalue(res, i, 8));
        d.batch_size = atoi(PQgetvalue(res, i, 9));
        d.notify = strcmp(PQgetvalue(res, i, 10), "t") == 0;
        ls_cdc_source_config_t c = source_config(s, &d, topic_partitions(s, d.topic));
        c.has_watermark = !PQgetisnull(res, i, 11);
        c.watermark_us = strtoll(PQgetvalue(res, i, 11), NULL, 10);
        c.watermark_key = PQgetvalue(res, i, 12);
        c.rows_emitted = strtoll(PQgetvalue(res, i, 13), NULL, 10);
        ls_cdc_source_t *src = NULL;
        ls_error_t serr;
        entry_t *e = NULL;
        if (ls_cdc_source_start(s->loop, s->pg, s->kafka, &c, &src, &serr) != LS_ERR_OK) {
            /* listed (and deletable) with the reason, never silently dropped */
            ls_log(LS_LOG_ERROR, "cdc", "source %s cannot start: %s", d.name, serr.message);
            e = add_entry(s, d.name, def_json(&d, PQgetvalue(res, i, 14)), NULL);
            e->start_error = ls_strdup(serr.message);
        } else {
            add_entry(s, d.name, def_json(&d, PQgetvalue(res, i, 14)), src);
        }
        def_clear(&d);
    }
    s->loaded = true;
    ls_log(LS_LOG_INFO, "cdc", "started %zu CDC sources", ls_sources_count(s));
    op->cb(op->arg, qerr);
    free(op);
}

ls_err_t ls_sources_load(ls_sources_t *s, void (*cb)(void *arg, const ls_error_t *err), void *arg,
                         ls_error_t *err)
{
    if (s->loaded || s->loading)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "sources already loaded");
    load_op_t *op = ls_calloc(1, sizeof(*op));
    op->s = s;
    op->cb = cb;
    op->arg = arg;
    ls_err_t rc = ls_pg_query(s->pg, "SELECT " SOURCE_COLUMNS " FROM cdc_sources ORDER BY name", 0,
                              NULL, on_loaded, op, err);
    if (rc != LS_ERR_OK)
        free(op);
    else
        s->loading = true;
    return rc;
}

/* ---------- create ---------- */

typedef struct {
    ls_sources_t *s;
    ls_sources_cb cb;
    void *arg;
    def_t d;
    int partitions;
    ls_error_t err;
} create_op_t;

static void create_finish(create_op_t *op, json_t *source)
{
    json_object_del(op->s->creating, op->d.name);
    op->cb(op->arg, source, &op->err);
    def_clear(&op->d);
    free(op);
}

static void on_row_inserted(void *arg, PGresult *res, const ls_error_t *err)
{
    create_op_t *op = arg;
    ls_sources_t *s = op->s;
    if (err->code != LS_ERR_OK) {
        op->err = *err;
        if (err->code == LS_ERR_ALREADY_EXISTS)
            ls_error_set(&op->err, LS_ERR_ALREADY_EXISTS, "source %s already exists", op->d.name);
        create_finish(op, NULL);
        return;
    }
    if (s->stopping) {
        ls_error_set(&op->err, LS_ERR_UNAVAILABLE,
                     "the server is stopping; source %s will start at the next start", op->d.name);
        create_finish(op, NULL);
        return;
    }
    ls_cdc_source_config_t c = source_config(s, &op->d, op->partitions);
    ls_cdc_source_t *src = NULL;
    if (ls_cdc_source_start(s->loop, s->pg, s->kafka, &c, &src, &op->err) != LS_ERR_OK) {
        create_finish(op, NULL);
        return;
    }
    entry_t *e = add_entry(s, op->d.name, def_json(&op->d, PQgetvalue(res, 0, 0)), src);
    ls_log(LS_LOG_INFO, "cdc", "created source %s: %s.%s -> topic %s%s", op->d.name, op->d.schema,
           op->d.table, op->d.topic, op->d.notify ? " (notify)" : "");
    create_finish(op, entry_json(e));
}

static void insert_row(create_op_t *op)
{
    char interval[16], delay[16], batch[16];
    snprintf(interval, sizeof(interval), "%d", op->d.poll_interval_ms);
    snprintf(delay, sizeof(delay), "%d", op->d.safety_delay_ms);
    snprintf(batch, sizeof(batch), "%d", op->d.batch_size);
    const char *params[] = {op->d.name,
                            op->d.dsn,
                            op->d.schema,
                            op->d.table,
                            op->d.key_column,
                            op->d.ts_column,
                            interval,
                            op->d.topic,
                            delay,
                            batch,
                            op->d.notify ? "true" : "false"};
    ls_error_t qerr;
    if (ls_pg_query(op->s->pg,
                    "INSERT INTO cdc_sources (name, dsn, schema_name, table_name, key_column, "
                    "timestamp_column, poll_interval_ms, topic, safety_delay_ms, batch_size, "
                    "notify) VALUES ($1, $2, $3, $4, $5, $6, $7::int, $8, $9::int, $10::int, "
                    "$11::boolean) RETURNING to_char(created_at AT TIME ZONE 'UTC', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                    11, params, on_row_inserted, op, &qerr) != LS_ERR_OK) {
        op->err = qerr;
        create_finish(op, NULL);
    }
}

static void on_topic_created(void *arg, json_t *topic, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code != LS_ERR_OK && err->code != LS_ERR_ALREADY_EXISTS) {
        ls_error_set_path(&op->err, err->code, "$.topic", "creating topic %s: %s", op->d.topic,
                          err->message);
        json_decref(topic);
        create_finish(op, NULL);
        return;
    }
    if (topic != NULL)
        op->partitions = (int)json_integer_value(json_object_get(topic, "partitions"));
    json_decref(topic);
    insert_row(op);
}

static void on_topic_found(void *arg, json_t *topic, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code == LS_ERR_OK) {
        op->partitions = (int)json_integer_value(json_object_get(topic, "partitions"));
        json_decref(topic);
        insert_row(op);
        return;
    }
    json_decref(topic);
    ls_error_set_path(&op->err, err->code, "$.topic", "topic %s: %s", op->d.topic, err->message);
    create_finish(op, NULL);
}

static void on_checked(void *arg, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op->err = *err;
        create_finish(op, NULL);
        return;
    }
    /* The topic must be one of lakestream's; a new name is created with
     * the topics service's defaults (1 partition). */
    ls_error_t terr;
    ls_err_t rc = ls_topics_get(op->s->topics, op->d.topic, on_topic_found, op, &terr);
    if (rc == LS_ERR_NOT_FOUND) {
        json_t *body = json_pack("{s:s}", "name", op->d.topic);
        rc = ls_topics_create(op->s->topics, body, on_topic_created, op, &terr);
        json_decref(body);
    }
    if (rc != LS_ERR_OK) {
        ls_error_set_path(&op->err, terr.code, "$.topic", "topic %s: %s", op->d.topic,
                          terr.message);
        create_finish(op, NULL);
    }
}

ls_err_t ls_sources_create(ls_sources_t *s, const json_t *body, ls_sources_cb cb, void *arg,
                           ls_error_t *err)
{
    def_t d;
    ls_err_t rc = parse_body(body, &d, err);
    if (rc != LS_ERR_OK) {
        def_clear(&d);
        return rc;
    }
    if (find(s, d.name) != NULL || json_object_get(s->creating, d.name) != NULL) {
        ls_error_set_path(err, LS_ERR_ALREADY_EXISTS, "$.name", "source %s already exists", d.name);
        def_clear(&d);
        return LS_ERR_ALREADY_EXISTS;
    }
    if (!s->loaded || s->stopping || !ls_pg_is_up(s->pg)) {
        def_clear(&d);
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL is unavailable");
    }
    create_op_t *op = ls_calloc(1, sizeof(*op));
    op->s = s;
    op->cb = cb;
    op->arg = arg;
    op->d = d;
    op->partitions = 1;
    ls_error_clear(&op->err);
    ls_cdc_source_config_t c = source_config(s, &op->d, 1);
    rc = ls_cdc_source_check(s->loop, &c, CHECK_TIMEOUT_MS, on_checked, op, err);
    if (rc != LS_ERR_OK) {
        def_clear(&op->d);
        free(op);
        return rc;
    }
    json_object_set_new(s->creating, op->d.name, json_true());
    return LS_ERR_OK;
}

/* ---------- list / get ---------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp((*(entry_t *const *)a)->name, (*(entry_t *const *)b)->name);
}

static json_t *entry_json(const entry_t *e)
{
    json_t *out = json_deep_copy(e->def);
    if (e->src == NULL) {
        json_object_set_new(out, "state", json_string("error"));
        json_object_set_new(out, "last_error",
                            json_string(e->start_error ? e->start_error : "not running"));
        return out;
    }
    json_t *status = ls_cdc_source_status(e->src);
    json_object_update(out, status);
    json_decref(status);
    return out;
}

json_t *ls_sources_list(ls_sources_t *s)
{
    size_t n = ls_sources_count(s), i = 0;
    entry_t **all = ls_calloc(n ? n : 1, sizeof(entry_t *));
    for (entry_t *e = s->entries; e; e = e->next)
        all[i++] = e;
    qsort(all, n, sizeof(entry_t *), compare_names);
    json_t *items = json_array();
    for (i = 0; i < n; i++)
        if (!all[i]->deleting)
            json_array_append_new(items, entry_json(all[i]));
    free(all);
    return json_pack("{s:o,s:n}", "items", items, "next_page_token");
}

ls_err_t ls_sources_get(ls_sources_t *s, const char *name, json_t **out, ls_error_t *err)
{
    entry_t *e = find(s, name);
    if (e == NULL || e->deleting)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "source %.200s not found", name);
    *out = entry_json(e);
    return LS_ERR_OK;
}

/* ---------- delete ---------- */

typedef struct {
    ls_sources_t *s;
    entry_t *e;
    ls_sources_cb cb;
    void *arg;
} delete_op_t;

static void on_row_deleted(void *arg, PGresult *res, const ls_error_t *err)
{
    delete_op_t *op = arg;
    (void)res;
    if (err->code == LS_ERR_OK)
        ls_log(LS_LOG_INFO, "cdc", "deleted source %s", op->e->name);
    else
        ls_log(LS_LOG_WARN, "cdc", "source %s stopped but its row could not be deleted: %s",
               op->e->name, err->message);
    op->cb(op->arg, NULL, err);
    entry_free(op->e);
    free(op);
}

static void on_source_stopped(void *arg)
{
    delete_op_t *op = arg;
    ls_sources_t *s = op->s;
    unlink_entry(s, op->e);
    const char *params[] = {op->e->name};
    ls_error_t qerr;
    if (ls_pg_query(s->pg, "DELETE FROM cdc_sources WHERE name = $1", 1, params, on_row_deleted, op,
                    &qerr) != LS_ERR_OK)
        on_row_deleted(op, NULL, &qerr);
}

ls_err_t ls_sources_delete(ls_sources_t *s, const char *name, ls_sources_cb cb, void *arg,
                           ls_error_t *err)
{
    entry_t *e = find(s, name);
    if (e == NULL || e->deleting)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "source %.200s not found", name);
    if (s->stopping || !ls_pg_is_up(s->pg))
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL is unavailable");
    delete_op_t *op = ls_calloc(1, sizeof(*op));
    op->s = s;
    op->e = e;
    op->cb = cb;
    op->arg = arg;
    e->deleting = true;
    ls_cdc_source_t *src = e->src;
    e->src = NULL;
    if (src != NULL)
        ls_cdc_source_stop(src, true, DELETE_WAIT_MS, on_source_stopped, op);
    else
        on_source_stopped(op);
    return LS_ERR_OK;
}

/* ---------- stop ---------- */

static void on_one_stopped(void *arg)
{
    ls_sources_t *s = arg;
    if (--s->stops_pending == 0 && s->stop_cb != NULL)
        s->stop_cb(s->stop_arg);
}

void ls_sources_stop(ls_sources_t *s, int wait_ms, void (*cb)(void *arg), void *arg)
{
    s->stopping = true;
    s->stop_cb = cb;
    s->stop_arg = arg;
    s->stops_pending = 1; /* held until every stop is issued */
    for (entry_t *e = s->entries; e; e = e->next) {
        if (e->src == NULL)
            continue; /* being deleted: on_source_stopped runs anyway */
        ls_cdc_source_t *src = e->src;
        e->src = NULL;
        s->stops_pending++;
        ls_cdc_source_stop(src, false, wait_ms, on_one_stopped, s);
    }
    on_one_stopped(s);
}

/* ---------- metrics ---------- */

void ls_sources_collect(void *arg, ls_buf_t *out)
{
    ls_sources_t *s = arg;
    static const struct {
        const char *name, *type, *help;
    } families[] = {
        {"lakestream_cdc_rows_emitted_total", "counter",
         "Rows acknowledged by Kafka per CDC source (since the source was created)"},
        {"lakestream_cdc_polls_total", "counter", "Polls of the source table"},
        {"lakestream_cdc_errors_total", "counter", "Failed poll cycles"},
        {"lakestream_cdc_lag_seconds", "gauge", "Now minus the watermark timestamp"},
        {"lakestream_cdc_running", "gauge", "Whether the source is running (1) or in error (0)"},
    };
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        ls_metrics_header(out, families[f].name, families[f].type, families[f].help);
        for (entry_t *e = s->entries; e; e = e->next) {
            if (e->src == NULL)
                continue;
            ls_cdc_source_counters_t c;
            ls_cdc_source_counters(e->src, &c);
            char labels[128];
            snprintf(labels, sizeof(labels), "source=\"%s\"", c.name);
            double v = f == 0   ? (double)c.rows_emitted
                       : f == 1 ? (double)c.polls
                       : f == 2 ? (double)c.errors
                       : f == 3 ? c.lag_seconds
                                : (double)c.running;
            ls_metrics_sample(out, families[f].name, labels, v);
        }
    }
}
