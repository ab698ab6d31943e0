/*
 * Chain specs: parsing (JSON or YAML body) and full validation into the
 * model the engine runs. Every error names the JSON path of the bad field.
 * Validation instantiates each processor in validate-only mode (so each
 * plugin checks its own parameters with its own rules) and compiles the
 * declared field paths against the value schema when the spec names one; it
 * changes no server state. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/decoder.h"
#include "chains/chain.h"
#include "chains/yaml.h"
#include "core/alloc.h"
#include "core/embedded.h"
#include "core/json.h"

bool ls_chain_name_valid(const char *s)
{
    if (s == NULL || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    size_t n = 1;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n <= 63;
}

static bool topic_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

ls_err_t ls_chain_spec_parse_text(const char *text, size_t len, bool yaml, json_t **out,
                                  ls_error_t *err)
{
    if (yaml)
        return ls_yaml_to_json(text, len, out, err);
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "malformed JSON body at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);
    *out = j;
    return LS_ERR_OK;
}

void ls_chain_spec_free(ls_chain_spec_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->proc_count; i++) {
        ls_chain_proc_spec_t *p = &s->procs[i];
        free(p->type);
        free(p->label);
        free(p->plugin_file);
        json_decref(p->given);
        json_decref(p->params);
        ls_chain_plugin_close(p->dl);
    }
    free(s->procs);
    free(s->name);
    free(s->topic);
    free(s->topics_regex);
    free(s->group);
    free(s->start);
    free(s->dead_letter_topic);
    free(s->value_schema_file);
    ls_avro_schema_free(s->value_schema);
    json_decref(s->json);
    free(s);
}

static char *dup_or_null(const char *s)
{
    return s ? ls_strdup(s) : NULL;
}

static ls_err_t parse_source(ls_chain_spec_t *s, json_t *src, ls_error_t *err)
{
    static const char *const allowed[] = {"topic", "topics_regex", "group", "start", NULL};
    if (!json_is_object(src))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source",
                                 "$.source: required object {topic | topics_regex, group, start}");
    if (ls_json_check_members(src, "$.source", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *topic, *regex, *group, *start;
    if (ls_json_get_string(src, "$.source", "topic", false, NULL, &topic, err) != LS_ERR_OK ||
        ls_json_get_string(src, "$.source", "topics_regex", false, NULL, &regex, err) !=
            LS_ERR_OK ||
        ls_json_get_string(src, "$.source", "group", false, NULL, &group, err) != LS_ERR_OK ||
        ls_json_get_string(src, "$.source", "start", false, "earliest", &start, err) != LS_ERR_OK)
        return err->code;
    if ((topic == NULL) == (regex == NULL))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source.topic",
                                 "$.source: exactly one of topic and topics_regex is required");
    if (topic && !topic_valid(topic))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source.topic",
                                 "$.source.topic: not a valid Kafka topic name");
    if (regex && (regex[0] != '^' || strlen(regex) > 512))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source.topics_regex",
                                 "$.source.topics_regex: must start with '^' (at most 512 chars)");
    if (group && (group[0] == '\0' || strlen(group) > 249))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source.group",
                                 "$.source.group: 1 to 249 characters");
    if (strcmp(start, "earliest") != 0 && strcmp(start, "latest") != 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.source.start",
                                 "$.source.start: must be earliest or latest");
    s->topic = dup_or_null(topic);
    s->topics_regex = dup_or_null(regex);
    s->group = group ? ls_strdup(group) : ls_asprintf("lakestream-chain-%s", s->name);
    s->start = ls_strdup(start);
    return LS_ERR_OK;
}

/* Compiles the declared paths against the value schema so a misspelt field
 * fails the deployment instead of every record. */
static ls_err_t check_fields(ls_chain_spec_t *s, ls_chain_fields_t *fields, ls_error_t *err)
{
    if (s->value_schema == NULL || fields->count == 0)
        return LS_ERR_OK;
    const ls_avro_node_t *root = ls_avro_schema_root(s->value_schema);
    for (size_t i = 0; i < fields->count; i++) {
        ls_avro_extractor_t *x;
        ls_error_t e;
        const char *p = fields->paths[i];
        if (ls_avro_extractor_compile(root, NULL, &p, 1, &x, &e) != LS_ERR_OK) {
            char path[64];
            snprintf(path, sizeof(path), "$.processors[%d]", fields->declared_by[i]);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "%s: field %s does not fit value schema %s: %s", path, p,
                                     s->value_schema_file, e.message);
        }
        ls_avro_extractor_free(x);
    }
    return LS_ERR_OK;
}

ls_err_t ls_chain_spec_new(json_t *json, const ls_chain_env_t *env_in, ls_chain_spec_t **out,
                           ls_error_t *err)
{
    static const char *const allowed[] = {"name",
                                          "description",
                                          "source",
                                          "instances",
                                          "dead_letter_topic",
                                          "value_schema_file",
                                          "value_schema_id",
                                          "processors",
                                          NULL};
    if (!json_is_object(json))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$",
                                 "$: a chain spec must be an object");
    if (ls_json_check_members(json, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *name, *dlq, *schema_file, *desc;
    int64_t instances, schema_id;
    if (ls_json_get_string(json, "$", "name", true, NULL, &name, err) != LS_ERR_OK ||
        ls_json_get_string(json, "$", "description", false, NULL, &desc, err) != LS_ERR_OK ||
        ls_json_get_int(json, "$", "instances", false, 1, 1, 16, &instances, err) != LS_ERR_OK ||
        ls_json_get_string(json, "$", "dead_letter_topic", false, NULL, &dlq, err) != LS_ERR_OK ||
        ls_json_get_string(json, "$", "value_schema_file", false, NULL, &schema_file, err) !=
            LS_ERR_OK ||
        ls_json_get_int(json, "$", "value_schema_id", false, -1, -1, INT32_MAX, &schema_id, err) !=
            LS_ERR_OK)
        return err->code;
    if (!ls_chain_name_valid(name))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "$.name: must match [a-z0-9][a-z0-9_-]{0,62}");
    if (dlq && !topic_valid(dlq))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.dead_letter_topic",
                                 "$.dead_letter_topic: not a valid Kafka topic name");

    ls_chain_spec_t *s = ls_calloc(1, sizeof(*s));
    s->name = ls_strdup(name);
    s->instances = (int)instances;
    s->dead_letter_topic = dup_or_null(dlq);
    s->value_schema_id = (int32_t)schema_id;
    s->json = json_incref(json);
    if (parse_source(s, json_object_get(json, "source"), err) != LS_ERR_OK)
        goto fail;

    if (schema_file != NULL) {
        const ls_embedded_file_t *f = ls_embedded_find(schema_file);
        if (f == NULL) {
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.value_schema_file",
                              "$.value_schema_file: no built-in schema %.200s (use "
                              "schemas/avro/NAME.avsc)",
                              schema_file);
            goto fail;
        }
        ls_error_t e;
        if (ls_avro_schema_parse((const char *)f->data, f->len, NULL, &s->value_schema, &e) !=
            LS_ERR_OK) {
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.value_schema_file",
                              "$.value_schema_file: %s", e.message);
            goto fail;
        }
        s->value_schema_file = ls_strdup(schema_file);
    } else if (env_in == NULL || env_in->schemas == NULL) {
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.value_schema_file",
                          "$.value_schema_file: required (the schema registry source is not "
                          "available in this server)");
        goto fail;
    }

    json_t *procs = json_object_get(json, "processors");
    if (!json_is_array(procs) || json_array_size(procs) == 0 || json_array_size(procs) > 64) {
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.processors",
                          "$.processors: required array of 1 to 64 processors");
        goto fail;
    }
    s->proc_count = json_array_size(procs);
    s->procs = ls_calloc(s->proc_count, sizeof(*s->procs));
    ls_chain_env_t env = env_in ? *env_in : (ls_chain_env_t){0};
    env.validate_only = true;
    ls_chain_fields_t fields = {0};
    for (size_t i = 0; i < s->proc_count; i++) {
        static const char *const pallowed[] = {"type", "name", "params", "plugin", NULL};
        char path[64];
        snprintf(path, sizeof(path), "$.processors[%zu]", i);
        json_t *pj = json_array_get(procs, i);
        ls_chain_proc_spec_t *p = &s->procs[i];
        if (!json_is_object(pj)) {
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s: must be an object", path);
            goto fail_fields;
        }
        const char *type, *label, *plugin_file;
        if (ls_json_check_members(pj, path, pallowed, err) != LS_ERR_OK ||
            ls_json_get_string(pj, path, "type", true, NULL, &type, err) != LS_ERR_OK ||
            ls_json_get_string(pj, path, "name", false, NULL, &label, err) != LS_ERR_OK ||
            ls_json_get_string(pj, path, "plugin", false, NULL, &plugin_file, err) != LS_ERR_OK)
            goto fail_fields;
        char sub[96];
        if (plugin_file != NULL) {
            snprintf(sub, sizeof(sub), "%s.plugin", path);
            ls_error_t e;
            if (ls_chain_plugin_open(env.plugin_dir, plugin_file, &p->plugin, &p->dl, &e) !=
                LS_ERR_OK) {
                ls_error_set_path(err, e.code, sub, "%s: %s", sub, e.message);
                goto fail_fields;
            }
            if (strcmp(p->plugin->name, type) != 0) {
                snprintf(sub, sizeof(sub), "%s.type", path);
                ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub,
                                  "%s: plugin %s provides processor \"%s\", not \"%s\"", sub,
                                  plugin_file, p->plugin->name, type);
                goto fail_fields;
            }
            p->plugin_file = ls_strdup(plugin_file);
        } else {
            p->plugin = ls_chain_builtin_find(type);
            if (p->plugin == NULL) {
                snprintf(sub, sizeof(sub), "%s.type", path);
                char names[256] = "";
                for (size_t k = 0; k < ls_chain_builtin_count; k++) {
                    size_t l = strlen(names);
                    snprintf(names + l, sizeof(names) - l, "%s%s", k ? ", " : "",
                             ls_chain_builtins[k]->name);
                }
                ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, sub,
                                  "%s: unknown processor type \"%.64s\" (built-ins: %s; others "
                                  "need plugin: FILE.so)",
                                  sub, type, names);
                goto fail_fields;
            }
        }
        p->type = ls_strdup(type);
        p->label = ls_strdup(label ? label : type);
        json_t *given = json_object_get(pj, "params");
        p->given = given ? json_incref(given) : NULL;
        snprintf(sub, sizeof(sub), "%s.params", path);
        if (ls_chain_params_resolve(p->plugin, given, sub, &p->params, err) != LS_ERR_OK)
            goto fail_fields;
        ls_processor_ctx_t *ctx;
        if (ls_chain_instance_new(p->plugin, (int)i, p->label, p->given, p->params, &fields, &env,
                                  NULL, s->name, &ctx, err) != LS_ERR_OK)
            goto fail_fields;
        ls_chain_instance_free(ctx);
    }
    if (check_fields(s, &fields, err) != LS_ERR_OK)
        goto fail_fields;
    ls_chain_fields_clear(&fields);
    *out = s;
    return LS_ERR_OK;
fail_fields:
    ls_chain_fields_clear(&fields);
fail:
    ls_chain_spec_free(s);
    return err->code;
}
