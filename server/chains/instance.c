/*
 * Processor instances: the context a plugin's callbacks receive and the host
 * table (ls_chain_host) through which a plugin reaches its parameters,
 * declares the field paths it reads, logs, fails, annotates records and
 * takes writer tickets. Record-time services (annotate, hold, release) are
 * the engine's; everything here is init-time bookkeeping. Loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/chain.h"
#include "chains/engine.h"
#include "core/alloc.h"
#include "core/log.h"

static bool path_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 200)
        return false;
    bool seg_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '.') {
            if (seg_start)
                return false;
            seg_start = true;
            continue;
        }
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(alpha || (!seg_start && c >= '0' && c <= '9')))
            return false;
        seg_start = false;
    }
    return !seg_start;
}

static ls_field_t host_field(ls_processor_ctx_t *ctx, const char *path)
{
    if (path == NULL || !path_valid(path))
        return -1;
    ls_chain_fields_t *f = ctx->fields;
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->paths[i], path) == 0)
            return (ls_field_t)i;
    if (f->count >= LS_CHAIN_MAX_FIELDS)
        return -1;
    f->paths[f->count] = ls_strdup(path);
    f->declared_by[f->count] = ctx->index;
    return (ls_field_t)f->count++;
}

static json_t *param(ls_processor_ctx_t *ctx, const char *name)
{
    json_t *v = json_object_get(ctx->params, name);
    return json_is_null(v) ? NULL : v;
}

static const char *host_param_string(ls_processor_ctx_t *ctx, const char *name)
{
    return json_string_value(param(ctx, name));
}
static int64_t host_param_int(ls_processor_ctx_t *ctx, const char *name)
{
    json_t *v = param(ctx, name);
    return json_is_integer(v) ? json_integer_value(v) : (int64_t)json_number_value(v);
}
static double host_param_number(ls_processor_ctx_t *ctx, const char *name)
{
    return json_number_value(param(ctx, name));
}
static bool host_param_bool(ls_processor_ctx_t *ctx, const char *name)
{
    return json_is_true(param(ctx, name));
}
static size_t host_param_list_count(ls_processor_ctx_t *ctx, const char *name)
{
    return json_array_size(param(ctx, name));
}
static const char *host_param_list_item(ls_processor_ctx_t *ctx, const char *name, size_t i)
{
    return json_string_value(json_array_get(param(ctx, name), i));
}
static const char *host_param_json(ls_processor_ctx_t *ctx, const char *name)
{
    json_t *v = param(ctx, name);
    if (v == NULL)
        return NULL;
    if (ctx->json_cache == NULL)
        ctx->json_cache = json_object();
    json_t *cached = json_object_get(ctx->json_cache, name);
    if (cached == NULL) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        cached = json_string(text);
        free(text);
        json_object_set_new(ctx->json_cache, name, cached);
    }
    return json_string_value(cached);
}
static bool host_param_given(ls_processor_ctx_t *ctx, const char *name)
{
    json_t *v = json_is_object(ctx->given) ? json_object_get(ctx->given, name) : NULL;
    return v != NULL && !json_is_null(v);
}

static void host_fail(ls_processor_ctx_t *ctx, const char *param_name, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char path[256];
    if (param_name != NULL)
        snprintf(path, sizeof(path), "$.processors[%d].params.%.64s", ctx->index, param_name);
    else
        snprintf(path, sizeof(path), "$.processors[%d]", ctx->index);
    ls_error_set_path(&ctx->fail, LS_ERR_INVALID_ARGUMENT, path, "%s: %s: %s", path,
                      ctx->plugin->name, msg);
    ctx->failed = true;
}

static void host_log(ls_processor_ctx_t *ctx, ls_processor_log_level_t level, const char *fmt, ...)
{
    ls_log_level_t l = level == LS_PLOG_DEBUG  ? LS_LOG_DEBUG
                       : level == LS_PLOG_INFO ? LS_LOG_INFO
                       : level == LS_PLOG_WARN ? LS_LOG_WARN
                                               : LS_LOG_ERROR;
    if (!ls_log_enabled(l))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ls_log_fields(l, "chain", NULL,
                  json_pack("{s:s,s:s,s:i}", "chain", ctx->chain_name, "processor", ctx->label,
                            "index", ctx->index),
                  "%s", msg);
}

const ls_processor_host_t ls_chain_host = {
    .abi_version = LS_PROCESSOR_ABI_VERSION,
    .field = host_field,
    .param_string = host_param_string,
    .param_int = host_param_int,
    .param_number = host_param_number,
    .param_bool = host_param_bool,
    .param_list_count = host_param_list_count,
    .param_list_item = host_param_list_item,
    .param_json = host_param_json,
    .param_given = host_param_given,
    .fail = host_fail,
    .log = host_log,
    .annotate = ls_chain__annotate,
    .hold = ls_chain__hold,
    .release = ls_chain__release,
    .server = NULL,
};

ls_err_t ls_chain_instance_new(const ls_processor_plugin_t *plugin, int index, const char *label,
                               const json_t *given, const json_t *resolved,
                               ls_chain_fields_t *fields, ls_chain_env_t *env,
                               struct ls_chain *chain, const char *chain_name,
                               ls_processor_ctx_t **out, ls_error_t *err)
{
    ls_processor_ctx_t *ctx = ls_calloc(1, sizeof(*ctx));
    ctx->plugin = plugin;
    ctx->index = index;
    ctx->label = ls_strdup(label);
    ctx->params = json_deep_copy(resolved);
    ctx->given = given ? json_deep_copy(given) : NULL;
    ctx->fields = fields;
    ctx->env = env;
    ctx->chain = chain;
    snprintf(ctx->chain_name, sizeof(ctx->chain_name), "%s", chain_name ? chain_name : "");
    if (plugin->init != NULL) {
        /* Built-ins reach the server through host.server; a per-call copy
         * keeps the shared table const. */
        ls_processor_host_t host = ls_chain_host;
        host.server = env;
        int rc = plugin->init(ctx, &host, &ctx->state);
        if (rc != 0) {
            if (!ctx->failed)
                host_fail(ctx, NULL, "init failed");
            *err = ctx->fail;
            ctx->state = NULL;
            ls_chain_instance_free(ctx);
            return err->code;
        }
    }
    ctx->inited = true;
    *out = ctx;
    return LS_ERR_OK;
}

void ls_chain_instance_free(ls_processor_ctx_t *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->inited && ctx->plugin->destroy != NULL)
        ctx->plugin->destroy(ctx->state);
    json_decref(ctx->params);
    json_decref(ctx->given);
    json_decref(ctx->json_cache);
    free(ctx->label);
    free(ctx);
}
