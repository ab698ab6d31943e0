/*
 * The processor registry: the one static table of built-ins, loading of
 * third-party processors from .so files (dlopen, ABI check), parameter
 * validation against a plugin's schema (unknown parameters rejected with
 * their JSON path) and help text built from that schema. It never runs a
 * processor and keeps no mutable global state.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/chain.h"
#include "core/alloc.h"

const ls_processor_plugin_t *const ls_chain_builtins[] = {
    &ls_proc_where,
    &ls_proc_solar_system,

    &ls_proc_kafka_writer,
};
const size_t ls_chain_builtin_count = sizeof(ls_chain_builtins) / sizeof(ls_chain_builtins[0]);

const ls_processor_plugin_t *ls_chain_builtin_find(const char *name)
{
    for (size_t i = 0; i < ls_chain_builtin_count; i++)
        if (strcmp(ls_chain_builtins[i]->name, name) == 0)
            return ls_chain_builtins[i];
    return NULL;
}

static bool plugin_name_valid(const char *s)
{
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n <= 63;
}

static ls_err_t check_description(const ls_processor_plugin_t *p, const char *what, ls_error_t *err)
{
    if (p->abi_version != LS_PROCESSOR_ABI_VERSION)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "%s: processor ABI version %u, this server speaks version %u", what,
                            p->abi_version, LS_PROCESSOR_ABI_VERSION);
    if (!plugin_name_valid(p->name))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "%s: processor name must match [a-z][a-z0-9_]{0,62}", what);
    if (p->process == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "%s: processor %s has no process callback", what, p->name);
    if (p->param_count > 64 || (p->param_count > 0 && p->params == NULL))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: bad parameter table", what);
    for (size_t i = 0; i < p->param_count; i++) {
        const ls_processor_param_t *d = &p->params[i];
        if (d->name == NULL || d->type > LS_PARAM_OBJECT)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: bad parameter %zu", what, i);
        if (d->default_json != NULL) {
            json_t *j = json_loads(d->default_json, JSON_DECODE_ANY, NULL);
            if (j == NULL)
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                    "%s: default of parameter %s is not JSON", what, d->name);
            json_decref(j);
        }
    }
    return LS_ERR_OK;
}

ls_err_t ls_chain_plugin_open(const char *plugin_dir, const char *file,
                              const ls_processor_plugin_t **plugin, void **handle, ls_error_t *err)
{
    if (plugin_dir == NULL || plugin_dir[0] == '\0')
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                            "third-party processors are disabled: set LAKESTREAM_PLUGIN_DIR");
    size_t n = strlen(file);
    bool ok = n > 3 && n < 200 && strcmp(file + n - 3, ".so") == 0 && file[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char c = file[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    }
    if (!ok)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "plugin must be a file name like my_filter.so in the plugin directory");
    char *path = ls_asprintf("%s/%s", plugin_dir, file);
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    free(path);
    if (h == NULL) {
        const char *e = dlerror();
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "cannot load plugin %s: %s", file,
                            e ? e : "unknown error");
    }
    const ls_processor_plugin_t *p = dlsym(h, LS_PROCESSOR_PLUGIN_SYMBOL);
    if (p == NULL) {
        dlclose(h);
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "plugin %s does not export %s", file,
                            LS_PROCESSOR_PLUGIN_SYMBOL);
    }
    char what[256];
    snprintf(what, sizeof(what), "plugin %s", file);
    if (check_description(p, what, err) != LS_ERR_OK) {
        dlclose(h);
        return err->code;
    }
    *plugin = p;
    *handle = h;
    return LS_ERR_OK;
}

void ls_chain_plugin_close(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}

static const char *type_name(ls_param_type_t t)
{
    switch (t) {
    case LS_PARAM_STRING:
        return "string";
    case LS_PARAM_INT:
        return "integer";
    case LS_PARAM_NUMBER:
        return "number";
    case LS_PARAM_BOOL:
        return "boolean";
    case LS_PARAM_STRING_LIST:
        return "array of strings";
    case LS_PARAM_OBJECT:
        return "object";
    }
    return "?";
}

static bool type_ok(const ls_processor_param_t *d, const json_t *v)
{
    switch (d->type) {
    case LS_PARAM_STRING:
        return json_is_string(v);
    case LS_PARAM_INT:
        return json_is_integer(v);
    case LS_PARAM_NUMBER:
        return json_is_number(v);
    case LS_PARAM_BOOL:
        return json_is_boolean(v);
    case LS_PARAM_OBJECT:
        return json_is_object(v);
    case LS_PARAM_STRING_LIST: {
        if (!json_is_array(v))
            return false;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!json_is_string(x)) return false;
        return true;
    }
    }
    return false;
}

ls_err_t ls_chain_params_resolve(const ls_processor_plugin_t *p, const json_t *params,
                                 const char *path, json_t **out, ls_error_t *err)
{
    if (params != NULL && !json_is_null(params) && !json_is_object(params))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s: params must be an object",
                                 path);
    char sub[300];
    if (json_is_object(params)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)params, key, v)
        {
            bool known = false;
            for (size_t i = 0; i < p->param_count && !known; i++)
                known = strcmp(p->params[i].name, key) == 0;
            if (!known) {
                snprintf(sub, sizeof(sub), "%s.%.64s", path, key);
                char names[256] = "";
                for (size_t i = 0; i < p->param_count; i++) {
                    size_t l = strlen(names);
                    snprintf(names + l, sizeof(names) - l, "%s%s", i ? ", " : "",
                             p->params[i].name);
                }
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub,
                                         "%s: unknown parameter of processor %s (known: %s)", sub,
                                         p->name, p->param_count ? names : "none");
            }
        }
    }
    json_t *res = json_object();
    for (size_t i = 0; i < p->param_count; i++) {
        const ls_processor_param_t *d = &p->params[i];
        snprintf(sub, sizeof(sub), "%s.%s", path, d->name);
        json_t *v = json_is_object(params) ? json_object_get(params, d->name) : NULL;
        if (v == NULL || json_is_null(v)) {
            if (d->required) {
                json_decref(res);
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub,
                                         "%s: required parameter is missing (%s)", sub,
                                         d->description ? d->description : d->name);
            }
            if (d->default_json != NULL)
                json_object_set_new(res, d->name,
                                    json_loads(d->default_json, JSON_DECODE_ANY, NULL));
            continue;
        }
        if (!type_ok(d, v)) {
            json_decref(res);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub, "%s: must be %s %s", sub,
                                     d->type == LS_PARAM_INT || d->type == LS_PARAM_OBJECT ? "an"
                                                                                           : "a",
                                     type_name(d->type));
        }
        if (d->type == LS_PARAM_STRING && d->choices != NULL) {
            bool found = false;
            char names[200] = "";
            for (int c = 0; d->choices[c]; c++) {
                found = found || strcmp(d->choices[c], json_string_value(v)) == 0;
                size_t l = strlen(names);
                snprintf(names + l, sizeof(names) - l, "%s%s", c ? ", " : "", d->choices[c]);
            }
            if (!found) {
                json_decref(res);
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub, "%s: must be one of %s",
                                         sub, names);
            }
        }
        json_object_set(res, d->name, v);
    }
    *out = res;
    return LS_ERR_OK;
}

json_t *ls_chain_plugin_help(const ls_processor_plugin_t *p)
{
    json_t *params = json_array();
    for (size_t i = 0; i < p->param_count; i++) {
        const ls_processor_param_t *d = &p->params[i];
        json_t *o =
            json_pack("{s:s,s:s,s:b,s:s}", "name", d->name, "type", type_name(d->type), "required",
                      d->required, "description", d->description ? d->description : "");
        if (d->default_json && !d->required)
            json_object_set_new(o, "default", json_loads(d->default_json, JSON_DECODE_ANY, NULL));
        if (d->choices) {
            json_t *c = json_array();
            for (int k = 0; d->choices[k]; k++)
                json_array_append_new(c, json_string(d->choices[k]));
            json_object_set_new(o, "choices", c);
        }
        json_array_append_new(params, o);
    }
    return json_pack("{s:s,s:s,s:i,s:b,s:o}", "name", p->name, "description",
                     p->description ? p->description : "", "abi_version", (int)p->abi_version,
                     "writer", (p->flags & LS_PROCESSOR_WRITER) != 0, "params", params);
}

void ls_chain_fields_clear(ls_chain_fields_t *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->paths[i]);
    f->count = 0;
}
