/*
 * Topics service (see topics.h). A create runs inside one PostgreSQL
 * transaction that inserts the row, creates the topic in Kafka and only then
 * commits, so a failure on either side leaves neither behind (a Kafka topic
 * left by an earlier crash between the two steps is adopted when its
 * partition count matches). The in-memory list is replaced wholesale after
 * each change; the serialised list is cached for the hot GET path.
 */
#include "services/topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"

#define NOTIFY_CHANNEL "lakestream_topics"
#define MAX_PARTITIONS 10000
#define MAX_CONFIG_ENTRIES 64

struct ls_topics {
    ls_pg_t *pg;
    ls_kafka_t *kafka;
    ls_registry_t *registry;
    json_t *by_name; /* name -> topic object */
    bool loaded;
    bool listening;
    char *list_text;
    size_t list_len;
    int reloads_pending;
};

bool ls_topic_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

ls_topics_t *ls_topics_new(ls_pg_t *pg, ls_kafka_t *kafka)
{
    ls_topics_t *t = ls_calloc(1, sizeof(*t));
    t->pg = pg;
    t->kafka = kafka;
    t->by_name = json_object();
    return t;
}

void ls_topics_set_registry(ls_topics_t *t, ls_registry_t *registry)
{
    t->registry = registry;
}

void ls_topics_free(ls_topics_t *t)
{
    if (t == NULL)
        return;
    json_decref(t->by_name);
    free(t->list_text);
    free(t);
}

bool ls_topics_loaded(const ls_topics_t *t)
{
    return t->loaded;
}

size_t ls_topics_count(const ls_topics_t *t)
{
    return json_object_size(t->by_name);
}

static void invalidate_list(ls_topics_t *t)
{
    free(t->list_text);
    t->list_text = NULL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *ls_topics_list_text(ls_topics_t *t, size_t *len)
{
    if (t->list_text == NULL) {
        size_t n = json_object_size(t->by_name);
        const char **names = ls_calloc(n ? n : 1, sizeof(char *));
        size_t i = 0;
        const char *key;
        json_t *value;
        json_object_foreach(t->by_name, key, value) names[i++] = key;
        qsort(names, n, sizeof(char *), compare_names);
        json_t *items = json_array();
        for (i = 0; i < n; i++)
            json_array_append(items, json_object_get(t->by_name, names[i]));
        free(names);
        json_t *doc = json_pack("{s:o,s:n}", "items", items, "next_page_token");
        t->list_text = ls_json_dump(doc);
        t->list_len = strlen(t->list_text);
        json_decref(doc);
    }
    *len = t->list_len;
    return t->list_text;
}

/* ---------- rows ---------- */

static json_t *topic_from_row(PGresult *res, int row, ls_error_t *err)
{
    json_error_t jerr;
    json_t *config = json_loads(PQgetvalue(res, row, 3), 0, &jerr);
    if (config == NULL || !json_is_object(config)) {
        json_decref(config);
        ls_error_set(err, LS_ERR_INTERNAL, "topic %s has an unreadable config column",
                     PQgetvalue(res, row, 0));
        return NULL;
    }
    json_t *topic = json_object();
    json_object_set_new(topic, "name", json_string(PQgetvalue(res, row, 0)));
    json_object_set_new(topic, "partitions", json_integer(atoi(PQgetvalue(res, row, 1))));
    json_object_set_new(topic, "replication_factor", json_integer(atoi(PQgetvalue(res, row, 2))));
    json_object_set_new(topic, "config", config);
    json_object_set_new(topic, "value_subject",
                        PQgetisnull(res, row, 4) ? json_null()
                                                 : json_string(PQgetvalue(res, row, 4)));
    json_object_set_new(topic, "created_at", json_string(PQgetvalue(res, row, 5)));
    return topic;
}

#define TOPIC_COLUMNS                                                                              \
    "name, partitions, replication_factor, config::text, value_subject, "                          \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

typedef struct {
    ls_topics_t *t;
    void (*cb)(void *arg, const ls_error_t *err);
    void *arg;
} load_op_t;

static void on_notify(void *arg, const char *channel, const char *payload);

static void on_recreated(void *arg, const ls_error_t *err)
{
    char *name = arg;
    if (err->code != LS_ERR_OK && err->code != LS_ERR_ALREADY_EXISTS)
        ls_log(LS_LOG_WARN, "topics", "cannot re-create topic %s in the embedded broker: %s", name,
               err->message);
    free(name);
}

/* The embedded broker keeps messages in memory and starts empty: give it back
 * every registered topic (with its partition count) so the catalog and the
 * broker agree after a restart. A real cluster keeps its topics. */
static void recreate_in_embedded_broker(ls_topics_t *t)
{
    if (!ls_kafka_is_embedded(t->kafka))
        return;
    const char *key;
    json_t *topic;
    json_object_foreach(t->by_name, key, topic)
    {
        char *name = ls_strdup(key);
        int partitions = (int)json_integer_value(json_object_get(topic, "partitions"));
        if (ls_kafka_create_topic(t->kafka, name, partitions, 1, NULL, on_recreated, name, NULL) !=
            LS_ERR_OK)
            free(name);
    }
}

static void on_loaded(void *arg, PGresult *res, const ls_error_t *qerr)
{
    load_op_t *op = arg;
    ls_topics_t *t = op->t;
    ls_error_t err;
    ls_error_clear(&err);
    if (qerr->code != LS_ERR_OK) {
        err = *qerr;
    } else {
        json_t *fresh = json_object();
        for (int i = 0; i < PQntuples(res) && err.code == LS_ERR_OK; i++) {
            json_t *topic = topic_from_row(res, i, &err);
            if (topic != NULL)
                json_object_set_new(fresh, PQgetvalue(res, i, 0), topic);
        }
        if (err.code == LS_ERR_OK) {
            json_decref(t->by_name);
            t->by_name = fresh;
            bool first_load = !t->loaded;
            t->loaded = true;
            invalidate_list(t);
            if (first_load)
                recreate_in_embedded_broker(t);
        } else {
            json_decref(fresh);
        }
    }
    if (err.code == LS_ERR_OK && !t->listening) {
        ls_error_t lerr;
        if (ls_pg_listen(t->pg, NOTIFY_CHANNEL, on_notify, t, &lerr) == LS_ERR_OK)
            t->listening = true;
        else
            ls_log(LS_LOG_WARN, "topics", "cannot listen for topic changes: %s", lerr.message);
    }
    if (op->cb != NULL)
        op->cb(op->arg, &err);
    free(op);
}

ls_err_t ls_topics_load(ls_topics_t *t, void (*cb)(void *arg, const ls_error_t *err), void *arg,
                        ls_error_t *err)
{
    load_op_t *op = ls_calloc(1, sizeof(*op));
    op->t = t;
    op->cb = cb;
    op->arg = arg;
    ls_err_t rc = ls_pg_query(t->pg, "SELECT " TOPIC_COLUMNS " FROM topics ORDER BY name", 0, NULL,
                              on_loaded, op, err);
    if (rc != LS_ERR_OK)
        free(op);
    return rc;
}

static void on_reloaded(void *arg, const ls_error_t *err)
{
    ls_topics_t *t = arg;
    t->reloads_pending--;
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "topics", "reloading topics after a change failed: %s", err->message);
}

/* Another instance (or this one) changed a topic: reload the whole list. */
static void on_notify(void *arg, const char *channel, const char *payload)
{
    ls_topics_t *t = arg;
    if (t->reloads_pending > 0)
        return;
    t->reloads_pending++;
    if (ls_topics_load(t, on_reloaded, t, NULL) != LS_ERR_OK)
        t->reloads_pending--;
}

static void on_announced(void *arg, const ls_error_t *err)
{
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "topics", "cannot tell other instances about a topic change: %s",
               err->message);
}

/* Other instances sharing the database reload their copy on this. */
static void announce_change(ls_topics_t *t, const char *name)
{
    ls_error_t err;
    if (ls_pg_notify(t->pg, NOTIFY_CHANNEL, name, on_announced, t, &err) != LS_ERR_OK)
        on_announced(t, &err);
}

/* ---------- create ---------- */

typedef struct {
    ls_topics_t *t;
    ls_topics_cb cb;
    void *arg;
    ls_pg_tx_t *tx;
    char *name;
    int partitions, replication_factor;
    json_t *config;
    char *value_subject;
    const char **kv; /* NULL-terminated key/value pairs for Kafka */
    json_t *topic;   /* the row as inserted */
    ls_error_t err;
} create_op_t;

static void create_op_free(create_op_t *op)
{
    free(op->name);
    json_decref(op->config);
    free(op->value_subject);
    free(op->kv);
    json_decref(op->topic);
    free(op);
}

static void create_finish(create_op_t *op)
{
    if (op->err.code == LS_ERR_OK) {
        json_object_set(op->t->by_name, op->name, op->topic);
        invalidate_list(op->t);
        announce_change(op->t, op->name);
        ls_log(LS_LOG_INFO, "topics", "created topic %s with %d partitions", op->name,
               op->partitions);
        op->cb(op->arg, json_incref(op->topic), &op->err);
    } else {
        op->cb(op->arg, NULL, &op->err);
    }
    create_op_free(op);
}

static void on_create_ended(void *arg, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (op->err.code == LS_ERR_OK && err->code != LS_ERR_OK)
        op->err = *err;
    create_finish(op);
}

static void create_end(create_op_t *op)
{
    ls_error_t err;
    ls_err_t rc = op->err.code == LS_ERR_OK ? ls_pg_tx_commit(op->tx, on_create_ended, op, &err)
                                            : ls_pg_tx_rollback(op->tx, on_create_ended, op, &err);
    if (rc != LS_ERR_OK) {
        if (op->err.code == LS_ERR_OK)
            op->err = err;
        create_finish(op);
    }
}

static void on_existing_offsets(void *arg, const ls_kafka_partition_offsets_t *parts, int n,
                                const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code != LS_ERR_OK)
        ls_error_set(&op->err, LS_ERR_ALREADY_EXISTS,
                     "topic %s already exists in Kafka and its partitions cannot be read: %s",
                     op->name, err->message);
    else if (n != op->partitions)
        ls_error_set(&op->err, LS_ERR_ALREADY_EXISTS,
                     "topic %s already exists in Kafka with %d partitions, not %d", op->name, n,
                     op->partitions);
    else
        ls_log(LS_LOG_WARN, "topics", "adopting existing Kafka topic %s (%d partitions)", op->name,
               n);
    create_end(op);
}

static void on_kafka_created(void *arg, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code == LS_ERR_ALREADY_EXISTS) {
        ls_error_t serr;
        if (ls_kafka_topic_offsets(op->t->kafka, op->name, on_existing_offsets, op, &serr) ==
            LS_ERR_OK)
            return;
        op->err = serr;
    } else if (err->code != LS_ERR_OK) {
        op->err = *err;
    }
    create_end(op);
}

static void on_inserted(void *arg, PGresult *res, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op->err = *err;
        if (err->code == LS_ERR_ALREADY_EXISTS)
            ls_error_set(&op->err, LS_ERR_ALREADY_EXISTS, "topic %s already exists", op->name);
        create_end(op);
        return;
    }
    op->topic = topic_from_row(res, 0, &op->err);
    if (op->topic == NULL) {
        create_end(op);
        return;
    }
    ls_error_t kerr;
    if (ls_kafka_create_topic(op->t->kafka, op->name, op->partitions, op->replication_factor,
                              op->kv, on_kafka_created, op, &kerr) != LS_ERR_OK) {
        op->err = kerr;
        create_end(op);
    }
}

static void on_create_tx(void *arg, ls_pg_tx_t *tx, const ls_error_t *err)
{
    create_op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op->err = *err;
        create_finish(op);
        return;
    }
    op->tx = tx;
    char partitions[16], rf[16];
    snprintf(partitions, sizeof(partitions), "%d", op->partitions);
    snprintf(rf, sizeof(rf), "%d", op->replication_factor);
    char *config = ls_json_dump(op->config);
    const char *params[] = {op->name, partitions, rf, config, op->value_subject};
    ls_error_t qerr;
    ls_err_t rc =
        ls_pg_tx_query(tx,
                       "INSERT INTO topics (name, partitions, replication_factor, config, "
                       "value_subject) VALUES ($1, $2::int, $3::int, $4::jsonb, $5) "
                       "RETURNING " TOPIC_COLUMNS,
                       5, params, on_inserted, op, &qerr);
    free(config);
    if (rc != LS_ERR_OK) {
        op->err = qerr;
        create_end(op);
    }
}

static void on_subject_checked(void *arg, bool exists, const ls_registry_error_t *rerr)
{
    create_op_t *op = arg;
    if (rerr->error_code != 0) {
        op->err = rerr->error;
    } else if (!exists) {
        ls_error_set_path(&op->err, LS_ERR_FAILED_PRECONDITION, "$.value_subject",
                          "value_subject \"%.260s\" is not a subject of the schema registry: "
                          "register the value schema under it first",
                          op->value_subject);
    } else {
        ls_error_t err;
        if (ls_pg_begin(op->t->pg, NULL, on_create_tx, op, &err) == LS_ERR_OK)
            return;
        op->err = err;
    }
    create_finish(op);
}

/* Kafka topic config values are strings; accept JSON numbers and booleans
 * too and store them as the strings Kafka will see. */
static ls_err_t validate_config(const json_t *config, json_t **out, ls_error_t *err)
{
    *out = json_object();
    if (config == NULL || json_is_null(config))
        return LS_ERR_OK;
    if (!json_is_object(config))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.config",
                                 "$.config must be an object of Kafka topic settings");
    if (json_object_size(config) > MAX_CONFIG_ENTRIES)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.config",
                                 "$.config has more than %d entries", MAX_CONFIG_ENTRIES);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value)
    {
        char path[300];
        snprintf(path, sizeof(path), "$.config.%s", key);
        size_t klen = strlen(key);
        bool key_ok = klen > 0 && klen <= 128;
        for (size_t i = 0; i < klen && key_ok; i++)
            key_ok = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
                     key[i] == '.' || key[i] == '_' || key[i] == '-';
        if (!key_ok)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "%s is not a Kafka topic setting name", path);
        char buf[64];
        const char *s;
        if (json_is_string(value))
            s = json_string_value(value);
        else if (json_is_integer(value))
            s = (snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(value)), buf);
        else if (json_is_boolean(value))
            s = json_is_true(value) ? "true" : "false";
        else
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "%s must be a string, integer or boolean", path);
        if (strlen(s) > 1024)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s is too long", path);
        json_object_set_new(*out, key, json_string(s));
    }
    return LS_ERR_OK;
}

static bool subject_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

ls_err_t ls_topics_create(ls_topics_t *t, const json_t *body, ls_topics_cb cb, void *arg,
                          ls_error_t *err)
{
    static const char *const allowed[] = {"name",   "partitions",    "replication_factor",
                                          "config", "value_subject", NULL};
    ls_err_t rc = ls_json_check_members(body, "$", allowed, err);
    if (rc != LS_ERR_OK)
        return rc;
    const char *name, *subject;
    int64_t partitions, rf;
    if ((rc = ls_json_get_string(body, "$", "name", true, NULL, &name, err)) != LS_ERR_OK)
        return rc;
    if (!ls_topic_name_valid(name))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "invalid topic name \"%.260s\": use 1 to 249 of [a-zA-Z0-9._-], "
                                 "not \".\" or \"..\"",
                                 name);
    if ((rc = ls_json_get_int(body, "$", "partitions", false, 1, 1, MAX_PARTITIONS, &partitions,
                              err)) != LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_int(body, "$", "replication_factor", false, 1, 1, 32, &rf, err)) !=
        LS_ERR_OK)
        return rc;
    if ((rc = ls_json_get_string(body, "$", "value_subject", false, NULL, &subject, err)) !=
        LS_ERR_OK)
        return rc;
    if (subject != NULL && !subject_name_valid(subject))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.value_subject",
                                 "$.value_subject must be 1 to 255 printable characters");
    json_t *config;
    if ((rc = validate_config(json_object_get(body, "config"), &config, err)) != LS_ERR_OK) {
        json_decref(config);
        return rc;
    }
    if (json_object_get(t->by_name, name) != NULL) {
        json_decref(config);
        return ls_error_set(err, LS_ERR_ALREADY_EXISTS, "topic %s already exists", name);
    }
    if (!ls_pg_is_up(t->pg) || !t->loaded) {
        json_decref(config);
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL is unavailable");
    }
    if (!ls_kafka_is_up(t->kafka)) {
        json_decref(config);
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "Kafka is unavailable");
    }

    create_op_t *op = ls_calloc(1, sizeof(*op));
    op->t = t;
    op->cb = cb;
    op->arg = arg;
    op->name = ls_strdup(name);
    op->partitions = (int)partitions;
    op->replication_factor = (int)rf;
    op->config = config;
    op->value_subject = subject ? ls_strdup(subject) : NULL;
    size_t n = json_object_size(config);
    op->kv = ls_calloc(2 * n + 1, sizeof(char *));
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value)
    {
        op->kv[i++] = key;
        op->kv[i++] = json_string_value(value);
    }
    if (op->value_subject != NULL && t->registry != NULL) {
        ls_registry_error_t rerr;
        rc = ls_registry_subject_exists(t->registry, op->value_subject, on_subject_checked, op,
                                        &rerr);
        if (rc != LS_ERR_OK && err != NULL)
            *err = rerr.error;
    } else {
        rc = ls_pg_begin(t->pg, NULL, on_create_tx, op, err);
    }
    if (rc != LS_ERR_OK)
        create_op_free(op);
    return rc;
}

/* ---------- get ---------- */

typedef struct {
    ls_topics_cb cb;
    void *arg;
    json_t *topic;
} get_op_t;

static void on_offsets(void *arg, const ls_kafka_partition_offsets_t *parts, int n,
                       const ls_error_t *err)
{
    get_op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        ls_error_t e = *err;
        if (e.code == LS_ERR_NOT_FOUND)
            ls_error_set(&e, LS_ERR_UNAVAILABLE,
                         "topic %s is registered but Kafka does not know it: %s",
                         json_string_value(json_object_get(op->topic, "name")), err->message);
        op->cb(op->arg, NULL, &e);
    } else {
        json_t *offsets = json_array();
        int64_t total = 0;
        for (int i = 0; i < n; i++) {
            json_array_append_new(
                offsets, json_pack("{s:i,s:I,s:I}", "partition", (int)parts[i].partition, "low",
                                   (json_int_t)parts[i].low, "high", (json_int_t)parts[i].high));
            total += parts[i].high - parts[i].low;
        }
        json_object_set_new(op->topic, "partition_offsets", offsets);
        json_object_set_new(op->topic, "messages", json_integer(total));
        op->cb(op->arg, json_incref(op->topic), err);
    }
    json_decref(op->topic);
    free(op);
}

ls_err_t ls_topics_get(ls_topics_t *t, const char *name, ls_topics_cb cb, void *arg,
                       ls_error_t *err)
{
    json_t *topic = json_object_get(t->by_name, name);
    if (topic == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "topic %.260s not found", name);
    get_op_t *op = ls_calloc(1, sizeof(*op));
    op->cb = cb;
    op->arg = arg;
    op->topic = json_deep_copy(topic);
    ls_err_t rc = ls_kafka_topic_offsets(t->kafka, name, on_offsets, op, err);
    if (rc != LS_ERR_OK) {
        json_decref(op->topic);
        free(op);
    }
    return rc;
}

/* ---------- delete ---------- */

typedef struct {
    ls_topics_t *t;
    ls_topics_cb cb;
    void *arg;
    char *name;
} delete_op_t;

static void on_row_deleted(void *arg, PGresult *res, const ls_error_t *err)
{
    delete_op_t *op = arg;
    if (err->code == LS_ERR_OK) {
        json_object_del(op->t->by_name, op->name);
        invalidate_list(op->t);
        announce_change(op->t, op->name);
        ls_log(LS_LOG_INFO, "topics", "deleted topic %s", op->name);
    }
    op->cb(op->arg, NULL, err);
    free(op->name);
    free(op);
}

static void on_kafka_deleted(void *arg, const ls_error_t *err)
{
    delete_op_t *op = arg;
    if (err->code != LS_ERR_OK && err->code != LS_ERR_NOT_FOUND) {
        op->cb(op->arg, NULL, err);
        free(op->name);
        free(op);
        return;
    }
    const char *params[] = {op->name};
    ls_error_t qerr;
    if (ls_pg_query(op->t->pg, "DELETE FROM topics WHERE name = $1", 1, params, on_row_deleted, op,
                    &qerr) != LS_ERR_OK)
        on_row_deleted(op, NULL, &qerr);
}

ls_err_t ls_topics_delete(ls_topics_t *t, const char *name, ls_topics_cb cb, void *arg,
                          ls_error_t *err)
{
    if (json_object_get(t->by_name, name) == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "topic %.260s not found", name);
    if (!ls_pg_is_up(t->pg))
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "PostgreSQL is unavailable");
    if (!ls_kafka_is_up(t->kafka))
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "Kafka is unavailable");
    delete_op_t *op = ls_calloc(1, sizeof(*op));
    op->t = t;
    op->cb = cb;
    op->arg = arg;
    op->name = ls_strdup(name);
    ls_err_t rc = ls_kafka_delete_topic(t->kafka, name, on_kafka_deleted, op, err);
    if (rc != LS_ERR_OK) {
        free(op->name);
        free(op);
    }
    return rc;
}
