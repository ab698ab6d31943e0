/*
 * Chain internals shared by the spec validator, the engine and the built-in
 * processors: the server environment built-ins may use, the registry of
 * processors (the static built-in table and plugins loaded from .so files),
 * parameter validation against a plugin's schema, processor instances
 * (ls_processor_ctx) with their host table, and the chain spec model.
 * Validation has no side effects: instances created for it run with
 * env->validate_only, where built-ins check their parameters but open
 * nothing. Loop thread only.
 */
#ifndef LS_CHAINS_CHAIN_H
#define LS_CHAINS_CHAIN_H

#include <jansson.h>
#include <lakestream/processor.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "avro/schema.h"
#include "core/error.h"
#include "kafka/kafka.h"
#include "store/pg.h"

/* ---- schema source ---- */

/* Resolves writer schemas by Confluent schema id, asynchronously. The
 * callback gets a schema borrowed for the source's lifetime (NULL with err
 * NOT_FOUND for an unknown id, UNAVAILABLE when the registry cannot answer).
 * The registry-backed implementation is wired by the server; specs may also
 * name a fixed value_schema_file (tests, offline use). */
typedef void (*ls_chain_schema_cb)(void *arg, const ls_avro_schema_t *schema,
                                   const ls_error_t *err);
typedef struct ls_chain_schema_source {
    ls_err_t (*get)(struct ls_chain_schema_source *self, int32_t id, ls_chain_schema_cb cb,
                    void *arg, ls_error_t *err);
    void *impl;
} ls_chain_schema_source_t;

/* ---- environment ---- */

typedef struct ls_chain_env {
    uv_loop_t *loop;
    ls_kafka_t *kafka;
    ls_pg_t *pg;
    /* Directory .so plugins are loaded from (spec `plugin: FILE.so`); NULL
     * disables third-party plugins. From LAKESTREAM_PLUGIN_DIR. */
    const char *plugin_dir;
    /* Registry-backed schema source, NULL until wired. */
    ls_chain_schema_source_t *schemas;
    /* Validation only: built-ins must not open anything. */
    bool validate_only;
} ls_chain_env_t;

/* ---- registry ---- */

/* The built-in processors, in one static table. */
extern const ls_processor_plugin_t *const ls_chain_builtins[];
extern const size_t ls_chain_builtin_count;

extern const ls_processor_plugin_t ls_proc_where;
extern const ls_processor_plugin_t ls_proc_solar_system;
extern const ls_processor_plugin_t ls_proc_crossmatch;
extern const ls_processor_plugin_t ls_proc_kafka_writer;

const ls_processor_plugin_t *ls_chain_builtin_find(const char *name);

/* Loads plugin_dir/file with dlopen and checks its description (ABI
 * version, name, callbacks, parameter schema). *handle must be passed to
 * ls_chain_plugin_close once no instance uses the plugin. file is a bare
 * file name ending in .so (no '/'). Errors: FAILED_PRECONDITION (no plugin
 * directory configured), INVALID_ARGUMENT (bad name, not loadable, no
 * symbol, wrong ABI). Blocks for the dlopen (a local file). */
ls_err_t ls_chain_plugin_open(const char *plugin_dir, const char *file,
                              const ls_processor_plugin_t **plugin, void **handle, ls_error_t *err);
void ls_chain_plugin_close(void *handle);

/* Checks params (object or NULL) against the plugin's schema and returns a
 * new object with defaults applied (*out owned by the caller). path is the
 * JSON path of params ("$.processors[1].params"); errors carry the path of
 * the offending member in err->path. */
ls_err_t ls_chain_params_resolve(const ls_processor_plugin_t *plugin, const json_t *params,
                                 const char *path, json_t **out, ls_error_t *err);

/* The help of a plugin, from its schema: {"name","description","abi_version",
 * "writer","params":[{"name","type","required","default","description",
 * "choices"}]}. New reference. */
json_t *ls_chain_plugin_help(const ls_processor_plugin_t *plugin);

/* ---- field table: the paths a chain's processors declared ---- */

#define LS_CHAIN_MAX_FIELDS 256

typedef struct {
    char *paths[LS_CHAIN_MAX_FIELDS];
    int declared_by[LS_CHAIN_MAX_FIELDS]; /* processor index of the first declaration */
    size_t count;
} ls_chain_fields_t;

void ls_chain_fields_clear(ls_chain_fields_t *f);

/* ---- instances ---- */

struct ls_chain; /* engine.c */

struct ls_processor_ctx {
    const ls_processor_plugin_t *plugin;
    int index;      /* position in the chain */
    char *label;    /* "where", or the spec's `name` */
    json_t *params; /* resolved */
    json_t *given;  /* as written (NULL when absent) */
    json_t *json_cache;
    void *state;
    bool inited;
    ls_chain_fields_t *fields;
    ls_chain_env_t *env;
    struct ls_chain *chain; /* NULL while validating */
    char chain_name[64];
    ls_error_t fail;
    bool failed;
    /* counters */
    uint64_t in, pass, skip, retry, error;
};

extern const ls_processor_host_t ls_chain_host;

/* Creates an instance and runs the plugin's init. On failure returns
 * INVALID_ARGUMENT with the processor's reason; err->path is
 * "$.processors[i].params.<param>" when the plugin named the parameter,
 * else "$.processors[i]". The instance is freed on failure. */
ls_err_t ls_chain_instance_new(const ls_processor_plugin_t *plugin, int index, const char *label,
                               const json_t *given, const json_t *resolved,
                               ls_chain_fields_t *fields, ls_chain_env_t *env,
                               struct ls_chain *chain, const char *chain_name,
                               ls_processor_ctx_t **out, ls_error_t *err);
/* Calls destroy and frees. */
void ls_chain_instance_free(ls_processor_ctx_t *ctx);

/* ---- spec ---- */

typedef struct {
    char *type;
    char *label;
    char *plugin_file; /* NULL for built-ins */
    const ls_processor_plugin_t *plugin;
    void *dl; /* dlopen handle, NULL for built-ins */
    json_t *given;
    json_t *params; /* resolved */
} ls_chain_proc_spec_t;

typedef struct {
    char *name;
    char *topic;        /* or */
    char *topics_regex; /* "^..." */
    char *group;
    char *start; /* earliest | latest */
    int instances;
    char *dead_letter_topic;        /* may be NULL */
    char *value_schema_file;        /* may be NULL */
    int32_t value_schema_id;        /* -1: any */
    ls_avro_schema_t *value_schema; /* parsed from value_schema_file */
    ls_chain_proc_spec_t *procs;
    size_t proc_count;
    json_t *json; /* the spec as given (normalized JSON) */
} ls_chain_spec_t;

/* Resource names: [a-z0-9][a-z0-9_-]{0,62} (API.md). */
bool ls_chain_name_valid(const char *name);

/* Parses a request body: JSON, or YAML when yaml is true. New reference. */
ls_err_t ls_chain_spec_parse_text(const char *text, size_t len, bool yaml, json_t **out,
                                  ls_error_t *err);

/* Validates spec JSON fully (structure, processors and their parameters by
 * running their init in validate-only mode, field paths against the value
 * schema when one is known) and returns the model. No side effects beyond
 * loading plugin .so files. env->validate_only is ignored (set internally).
 * Errors carry the JSON path of the bad field. */
ls_err_t ls_chain_spec_new(json_t *json, const ls_chain_env_t *env, ls_chain_spec_t **out,
                           ls_error_t *err);
void ls_chain_spec_free(ls_chain_spec_t *spec);

#endif
