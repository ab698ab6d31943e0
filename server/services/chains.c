/*
 * Chains service (see chains.h): validation, PostgreSQL rows and running
 * engines kept in step. State changes go to the database first; the engine
 * follows once the row is written, so a chain that runs is always one that
 * will be restarted after a crash. Loop thread only.
 */
#include "services/chains.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/chain.h"
#include "chains/engine.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/metrics.h"

typedef struct entry {
    struct entry *next;
    char *name;
    ls_chain_t *chain; /* NULL when it could not start */
    bool paused;
    json_t *spec;
    char error[512];
    bool busy; /* a replace/delete is in progress */
} entry_t;

struct ls_chains {
    uv_loop_t *loop;
    ls_pg_t *pg;
    ls_chain_env_t env;
    entry_t *entries;
    bool loaded, stopping;
    uv_timer_t *retry;
    int retry_ms;
    int stops_pending;
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

static entry_t *find(ls_chains_t *c, const char *name)
{
    for (entry_t *e = c->entries; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void entry_remove(ls_chains_t *c, entry_t *e)
{
    for (entry_t **p = &c->entries; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    free(e->name);
    json_decref(e->spec);
    free(e);
}

ls_chains_t *ls_chains_new(uv_loop_t *loop, ls_pg_t *pg, ls_kafka_t *kafka)
{
    ls_chains_t *c = ls_calloc(1, sizeof(*c));
    c->loop = loop;
    c->pg = pg;
    c->env.loop = loop;
    c->env.kafka = kafka;
    c->env.pg = pg;
    const char *dir = getenv("LAKESTREAM_PLUGIN_DIR");
    c->env.plugin_dir = dir && dir[0] ? ls_strdup(dir) : NULL;
    c->retry = ls_malloc(sizeof(*c->retry));
    uv_timer_init(loop, c->retry);
    c->retry->data = c;
    c->retry_ms = 200;
    return c;
}

/* Starts the engine for e from its stored spec. */
static void entry_run(ls_chains_t *c, entry_t *e)
{
    ls_error_t err;
    ls_chain_spec_t *spec;
    e->error[0] = '\0';
    if (ls_chain_spec_new(e->spec, &c->env, &spec, &err) != LS_ERR_OK ||
        ls_chain_start(&c->env, spec, e->paused, &e->chain, &err) != LS_ERR_OK) {
        e->chain = NULL;
        snprintf(e->error, sizeof(e->error), "%s", err.message);
        ls_log(LS_LOG_ERROR, "chains", "chain %s could not start: %s", e->name, err.message);
    }
}

static entry_t *entry_add(ls_chains_t *c, const char *name, json_t *spec, bool paused)
{
    entry_t *e = ls_calloc(1, sizeof(*e));
    e->name = ls_strdup(name);
    e->spec = json_incref(spec);
    e->paused = paused;
    entry_t **p = &c->entries;
    while (*p && strcmp((*p)->name, name) < 0)
        p = &(*p)->next;
    e->next = *p;
    *p = e;
    return e;
}

static void load(ls_chains_t *c);

static void on_retry(uv_timer_t *t)
{
    load(t->data);
}

static void on_loaded(void *arg, PGresult *res, const ls_error_t *err)
{
    ls_chains_t *c = arg;
    if (c->stopping)
        return;
    if (err->code != LS_ERR_OK) {
        ls_log(LS_LOG_WARN, "chains", "loading chains failed, retrying in %d ms: %s", c->retry_ms,
               err->message);
        uv_timer_start(c->retry, on_retry, (uint64_t)c->retry_ms, 0);
        c->retry_ms = c->retry_ms * 2 > 5000 ? 5000 : c->retry_ms * 2;
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        const char *name = PQgetvalue(res, i, 0);
        if (find(c, name) != NULL)
            continue;
        json_t *spec = json_loads(PQgetvalue(res, i, 1), 0, NULL);
        if (spec == NULL)
            continue;
        entry_t *e = entry_add(c, name, spec, PQgetvalue(res, i, 2)[0] == 't');
        json_decref(spec);
        entry_run(c, e);
    }
    c->loaded = true;
    ls_log(LS_LOG_INFO, "chains", "%d chains loaded", n);
}

static void load(ls_chains_t *c)
{
    ls_error_t err;
    if (ls_pg_query(c->pg, "SELECT name, spec::text, paused FROM chains ORDER BY name", 0, NULL,
                    on_loaded, c, &err) != LS_ERR_OK) {
        uv_timer_start(c->retry, on_retry, (uint64_t)c->retry_ms, 0);
    }
}

void ls_chains_start(ls_chains_t *c)
{
    if (!c->loaded)
        load(c);
}

static json_t *describe(entry_t *e)
{
    json_t *st = e->chain ? ls_chain_status(e->chain)
                          : json_pack("{s:s,s:s}", "state", "failed", "message", e->error);
    json_object_set_new(st, "name", json_string(e->name));
    json_object_set(st, "spec", e->spec);
    json_object_set_new(st, "paused", json_boolean(e->paused));
    return st;
}

ls_err_t ls_chains_validate(ls_chains_t *c, json_t *spec, json_t **summary, ls_error_t *err)
{
    ls_chain_spec_t *s;
    if (ls_chain_spec_new(spec, &c->env, &s, err) != LS_ERR_OK)
        return err->code;
    json_t *procs = json_array();
    for (size_t i = 0; i < s->proc_count; i++)
        json_array_append_new(procs, json_pack("{s:s,s:s,s:O}", "type", s->procs[i].type, "name",
                                               s->procs[i].label, "params", s->procs[i].params));
    *summary = json_pack("{s:b,s:s,s:s,s:i,s:o}", "valid", 1, "name", s->name, "group", s->group,
                         "instances", s->instances, "processors", procs);
    ls_chain_spec_free(s);
    return LS_ERR_OK;
}

/* ---------- deploy / replace ---------- */

typedef struct {
    ls_chains_t *c;
    char *name;
    json_t *spec;
    bool replace;
    ls_chains_cb cb;
    void *arg;
} op_t;

static void op_free(op_t *op)
{
    free(op->name);
    json_decref(op->spec);
    free(op);
}

static void answer(op_t *op, entry_t *e, const ls_error_t *err)
{
    op->cb(op->arg, err->code == LS_ERR_OK && e ? describe(e) : NULL, err);
    op_free(op);
}

static void on_old_stopped(void *arg)
{
    op_t *op = arg;
    entry_t *e = find(op->c, op->name);
    ls_error_t ok = {.code = LS_ERR_OK};
    if (e == NULL) {
        answer(op, NULL, &ok);
        return;
    }
    e->chain = NULL;
    json_decref(e->spec);
    e->spec = json_incref(op->spec);
    e->busy = false;
    entry_run(op->c, e);
    ls_log(LS_LOG_INFO, "chains", "chain %s replaced", e->name);
    answer(op, e, &ok);
}

static void on_row_written(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    ls_chains_t *c = op->c;
    if (err->code != LS_ERR_OK) {
        entry_t *e = find(c, op->name);
        if (op->replace && e)
            e->busy = false;
        answer(op, NULL, err);
        return;
    }
    if (op->replace) {
        entry_t *e = find(c, op->name);
        if (e && e->chain) {
            ls_chain_stop(e->chain, 10000, on_old_stopped, op);
            return;
        }
        on_old_stopped(op);
        return;
    }
    if (PQntuples(res) == 0) {
        ls_error_t e2;
        ls_error_set(&e2, LS_ERR_ALREADY_EXISTS, "chain %s already exists", op->name);
        answer(op, NULL, &e2);
        return;
    }
    entry_t *e = entry_add(c, op->name, op->spec, false);
    entry_run(c, e);
    ls_log(LS_LOG_INFO, "chains", "chain %s deployed", e->name);
    ls_error_t ok = {.code = LS_ERR_OK};
    answer(op, e, &ok);
}

ls_err_t ls_chains_deploy(ls_chains_t *c, json_t *spec, const char *replace_name, ls_chains_cb cb,
                          void *arg, ls_error_t *err)
{
    if (!c->loaded)
        return ls_error_set(err, LS_ERR_UNAVAILABLE, "chains are not loaded yet");
    if (replace_name != NULL && json_is_object(spec) && json_object_get(spec, "name") == NULL)
        json_object_set_new(spec, "name", json_string(replace_name));
    ls_chain_spec_t *s;
    if (ls_chain_spec_new(spec, &c->env, &s, err) != LS_ERR_OK)
        return err->code;
    char *name = ls_strdup(s->name);
    ls_chain_spec_free(s);
    entry_t *e = find(c, name);
    if (replace_name != NULL) {
        if (strcmp(replace_name, name) != 0) {
            free(name);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                     "$.name: must equal the chain name in the path");
        }
        if (e == NULL) {
            free(name);
            return ls_error_set(err, LS_ERR_NOT_FOUND, "chain %s not found", replace_name);
        }
        if (e->busy) {
            free(name);
            return ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                                "chain %s is being replaced or deleted", replace_name);
        }
    } else if (e != NULL) {
        ls_err_t rc = ls_error_set(err, LS_ERR_ALREADY_EXISTS, "chain %s already exists", name);
        free(name);
        return rc;
    }
    op_t *op = ls_calloc(1, sizeof(*op));
    op->c = c;
    op->name = name;
    op->spec = json_incref(spec);
    op->replace = replace_name != NULL;
    op->cb = cb;
    op->arg = arg;
    char *text = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *params[2] = {name, text};
    ls_err_t rc = ls_pg_query(
        c->pg,
        op->replace
            ? "UPDATE chains SET spec = $2::jsonb, version = version + 1, updated_at = now() "
              "WHERE name = $1 RETURNING name"
            : "INSERT INTO chains (name, spec) VALUES ($1, $2::jsonb) ON CONFLICT (name) "
              "DO NOTHING RETURNING name",
        2, params, on_row_written, op, err);
    free(text);
    if (rc != LS_ERR_OK) {
        op_free(op);
        return rc;
    }
    if (op->replace)
        e->busy = true;
    return LS_ERR_OK;
}

ls_err_t ls_chains_get(ls_chains_t *c, const char *name, json_t **out, ls_error_t *err)
{
    entry_t *e = find(c, name);
    if (e == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "chain %s not found", name);
    *out = describe(e);
    return LS_ERR_OK;
}

json_t *ls_chains_list(ls_chains_t *c)
{
    json_t *items = json_array();
    for (entry_t *e = c->entries; e; e = e->next)
        json_array_append_new(items, describe(e));
    return json_pack("{s:o,s:n}", "items", items, "next_page_token");
}

/* ---------- pause / resume / delete ---------- */

static void on_paused_written(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    entry_t *e = find(op->c, op->name);
    if (err->code == LS_ERR_OK && e != NULL) {
        e->paused = op->replace; /* reused as the paused flag */
        if (e->chain) {
            if (e->paused)
                ls_chain_pause(e->chain);
            else
                ls_chain_resume(e->chain);
        }
    }
    answer(op, e, err);
}

ls_err_t ls_chains_set_paused(ls_chains_t *c, const char *name, bool paused, ls_chains_cb cb,
                              void *arg, ls_error_t *err)
{
    entry_t *e = find(c, name);
    if (e == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "chain %s not found", name);
    op_t *op = ls_calloc(1, sizeof(*op));
    op->c = c;
    op->name = ls_strdup(name);
    op->replace = paused;
    op->cb = cb;
    op->arg = arg;
    const char *params[2] = {name, paused ? "true" : "false"};
    if (ls_pg_query(c->pg,
                    "UPDATE chains SET paused = $2::boolean, updated_at = now() WHERE name = $1", 2,
                    params, on_paused_written, op, err) != LS_ERR_OK) {
        op_free(op);
        return err->code;
    }
    return LS_ERR_OK;
}

static void on_deleted_stopped(void *arg)
{
    op_t *op = arg;
    entry_t *e = find(op->c, op->name);
    if (e)
        entry_remove(op->c, e);
    ls_log(LS_LOG_INFO, "chains", "chain %s deleted", op->name);
    ls_error_t ok = {.code = LS_ERR_OK};
    answer(op, NULL, &ok);
}

static void on_delete_written(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    entry_t *e = find(op->c, op->name);
    if (err->code != LS_ERR_OK) {
        if (e)
            e->busy = false;
        answer(op, NULL, err);
        return;
    }
    if (e && e->chain) {
        ls_chain_t *ch = e->chain;
        e->chain = NULL;
        ls_chain_stop(ch, 10000, on_deleted_stopped, op);
        return;
    }
    on_deleted_stopped(op);
}

ls_err_t ls_chains_delete(ls_chains_t *c, const char *name, ls_chains_cb cb, void *arg,
                          ls_error_t *err)
{
    entry_t *e = find(c, name);
    if (e == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "chain %s not found", name);
    if (e->busy)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                            "chain %s is being replaced or deleted", name);
    op_t *op = ls_calloc(1, sizeof(*op));
    op->c = c;
    op->name = ls_strdup(name);
    op->cb = cb;
    op->arg = arg;
    const char *params[1] = {name};
    if (ls_pg_query(c->pg, "DELETE FROM chains WHERE name = $1", 1, params, on_delete_written, op,
                    err) != LS_ERR_OK) {
        op_free(op);
        return err->code;
    }
    e->busy = true;
    return LS_ERR_OK;
}

json_t *ls_chains_processors_help(void)
{
    json_t *items = json_array();
    for (size_t i = 0; i < ls_chain_builtin_count; i++)
        json_array_append_new(items, ls_chain_plugin_help(ls_chain_builtins[i]));
    return json_pack("{s:o}", "items", items);
}

/* ---------- stop ---------- */

static void on_one_stopped(void *arg)
{
    ls_chains_t *c = arg;
    if (--c->stops_pending == 0 && c->stop_cb)
        c->stop_cb(c->stop_arg);
}

void ls_chains_stop_all(ls_chains_t *c, int timeout_ms, void (*cb)(void *arg), void *arg)
{
    c->stopping = true;
    uv_timer_stop(c->retry);
    c->stop_cb = cb;
    c->stop_arg = arg;
    c->stops_pending = 1;
    for (entry_t *e = c->entries; e; e = e->next) {
        if (e->chain) {
            ls_chain_t *ch = e->chain;
            e->chain = NULL;
            c->stops_pending++;
            ls_chain_stop(ch, timeout_ms, on_one_stopped, c);
        }
    }
    on_one_stopped(c);
}

void ls_chains_collect_metrics(void *arg, ls_buf_t *out)
{
    ls_chains_t *c = arg;
    ls_chain_metrics_headers(out);
    for (entry_t *e = c->entries; e; e = e->next)
        if (e->chain)
            ls_chain_metrics(e->chain, out);
}

void ls_chains_free(ls_chains_t *c)
{
    if (c == NULL)
        return;
    while (c->entries)
        entry_remove(c, c->entries);
    uv_close((uv_handle_t *)c->retry, (uv_close_cb)free);
    free((char *)c->env.plugin_dir);
    free(c);
}
