/*
 * The processor plugin API of lakestream filter chains (public, stable by ABI
 * version). A chain reads records from Kafka and passes each one through an
 * ordered list of processors; each answers PASS (go on), SKIP (drop the
 * record, it is done), RETRY (not now: the chain pauses and offers the same
 * record again later) or ERROR (the record goes to the dead-letter topic).
 * Writers are processors too: they take the record and later tell the chain,
 * through a ticket, when it is durable; offsets are committed only then.
 *
 * A plugin is a const description (ls_processor_plugin_t): name, ABI version,
 * parameter schema and callbacks. An instance is what the chain creates from
 * it: validated parameters, the plugin's own state, counters and a logger,
 * all reached through the context and the host table. This header is
 * self-contained: a third-party .so needs no symbol of lakestreamd, every
 * service of the host is a function pointer in ls_processor_host_t.
 *
 * Threads: every callback runs on the server's loop thread and must never
 * block (no sleeping, no blocking I/O): a processor that waits for something
 * returns RETRY. Callbacks are never called concurrently for one instance.
 *
 * Out-of-tree plugins export one symbol:
 *     const ls_processor_plugin_t lakestream_processor_plugin = {...};
 * and are loaded with dlopen from the plugin directory; the chain refuses a
 * plugin whose abi_version differs from LS_PROCESSOR_ABI_VERSION.
 */
#ifndef LAKESTREAM_PROCESSOR_H
#define LAKESTREAM_PROCESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LS_PROCESSOR_ABI_VERSION 1u

/* The exported symbol name of an out-of-tree plugin. */
#define LS_PROCESSOR_PLUGIN_SYMBOL "lakestream_processor_plugin"

typedef enum {
    LS_VERDICT_PASS = 0, /* continue with the next processor */
    LS_VERDICT_SKIP,     /* drop the record (counted, offset still committed) */
    LS_VERDICT_RETRY,    /* pause the partition and offer this record again after a backoff */
    LS_VERDICT_ERROR,    /* send the record to the dead-letter topic with the reason set */
} ls_verdict_t;

/* ---- parameter schema ---- */

typedef enum {
    LS_PARAM_STRING,
    LS_PARAM_INT,    /* JSON integer (int64) */
    LS_PARAM_NUMBER, /* JSON integer or real (double) */
    LS_PARAM_BOOL,
    LS_PARAM_STRING_LIST, /* JSON array of strings */
    LS_PARAM_OBJECT,      /* any JSON object (e.g. a column mapping); read as JSON text */
} ls_param_type_t;

typedef struct {
    const char *name;
    ls_param_type_t type;
    bool required;
    /* The default as JSON text ("0.5", "\"include\"", "[]"), NULL = none.
     * Ignored when required. */
    const char *default_json;
    const char *description; /* one line; the help text is built from these */
    /* LS_PARAM_STRING only: the allowed values, NULL-terminated, or NULL for any. */
    const char *const *choices;
} ls_processor_param_t;

/* ---- values and records ---- */

typedef enum {
    LS_VALUE_NULL = 0, /* null, or absent (a null record on the path) */
    LS_VALUE_BOOL,
    LS_VALUE_INT,    /* Avro int and long */
    LS_VALUE_DOUBLE, /* Avro float and double */
    LS_VALUE_STRING, /* Avro string and enum symbol; NOT NUL-terminated */
    LS_VALUE_BYTES,  /* Avro bytes and fixed */
} ls_value_kind_t;

typedef struct {
    ls_value_kind_t kind;
    union {
        bool b;
        int64_t i;
        double d;
    } v;
    const uint8_t *ptr; /* STRING/BYTES; borrowed from the record */
    size_t len;
} ls_value_t;

/* A compiled field path: returned by host->field() during init, used per
 * record to read the value without any string lookup. */
typedef int32_t ls_field_t;

/* One key/value of an annotation. */
typedef struct {
    const char *key;
    ls_value_t value;
} ls_annotation_field_t;

/* An annotation attached to a record by a processor ("crossmatch" with the
 * match's fields). A record may carry several with the same name (one per
 * catalog match). Writers see them in order of attachment. */
typedef struct {
    const char *name;
    const ls_annotation_field_t *fields;
    size_t field_count;
} ls_annotation_t;

/* The record view a processor receives. Everything it points to is borrowed
 * and lives until process() returns (a writer that needs bytes later copies
 * them). */
typedef struct {
    const ls_value_t *fields; /* indexed by ls_field_t; filled for every declared path */
    size_t field_count;
    const ls_annotation_t *annotations; /* attached by earlier processors */
    size_t annotation_count;
    const uint8_t *value; /* the Kafka value as received (Confluent framing included) */
    size_t value_len;
    const uint8_t *body; /* the Avro body after the 5-byte framing */
    size_t body_len;
    int32_t schema_id;  /* from the framing */
    const uint8_t *key; /* Kafka key, may be NULL */
    size_t key_len;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when unknown */
} ls_record_t;

static inline const ls_value_t *ls_record_value(const ls_record_t *r, ls_field_t f)
{
    static const ls_value_t null_value = {LS_VALUE_NULL, {0}, NULL, 0};
    return (f >= 0 && (size_t)f < r->field_count) ? &r->fields[f] : &null_value;
}
static inline bool ls_record_is_null(const ls_record_t *r, ls_field_t f)
{
    return ls_record_value(r, f)->kind == LS_VALUE_NULL;
}
/* Numeric value (int or double) into *out; false when null or not numeric. */
static inline bool ls_record_number(const ls_record_t *r, ls_field_t f, double *out)
{
    const ls_value_t *v = ls_record_value(r, f);
    if (v->kind == LS_VALUE_DOUBLE) {
        *out = v->v.d;
        return true;
    }
    if (v->kind == LS_VALUE_INT) {
        *out = (double)v->v.i;
        return true;
    }
    return false;
}
static inline bool ls_record_int(const ls_record_t *r, ls_field_t f, int64_t *out)
{
    const ls_value_t *v = ls_record_value(r, f);
    if (v->kind != LS_VALUE_INT)
        return false;
    *out = v->v.i;
    return true;
}
/* String (or bytes) value; NULL when null. Not NUL-terminated: use *len. */
static inline const char *ls_record_string(const ls_record_t *r, ls_field_t f, size_t *len)
{
    const ls_value_t *v = ls_record_value(r, f);
    if (v->kind != LS_VALUE_STRING && v->kind != LS_VALUE_BYTES)
        return NULL;
    *len = v->len;
    return (const char *)v->ptr;
}

/* ---- the host: services the chain offers to an instance ---- */

typedef struct ls_processor_ctx ls_processor_ctx_t; /* one per instance; opaque */
typedef struct ls_processor_ticket ls_processor_ticket_t;

typedef enum { LS_PLOG_DEBUG, LS_PLOG_INFO, LS_PLOG_WARN, LS_PLOG_ERROR } ls_processor_log_level_t;

typedef struct {
    uint32_t abi_version; /* the host's LS_PROCESSOR_ABI_VERSION */

    /* ---- init only ---- */
    /* Declares a field path ("candidate.ra": dot-separated record fields,
     * through nullable records) the instance reads; returns its handle, or -1
     * when the path is syntactically invalid. Whether the field exists is
     * checked against the writer schema when the chain compiles its decoder
     * (a missing field fails the deployment, naming the path). */
    ls_field_t (*field)(ls_processor_ctx_t *ctx, const char *path);
    /* Parameters, already validated against the plugin's schema (defaults
     * applied). Strings are borrowed for the instance's lifetime. The getters
     * return the type's zero / NULL for a parameter that has no value. */
    const char *(*param_string)(ls_processor_ctx_t *ctx, const char *name);
    int64_t (*param_int)(ls_processor_ctx_t *ctx, const char *name);
    double (*param_number)(ls_processor_ctx_t *ctx, const char *name);
    bool (*param_bool)(ls_processor_ctx_t *ctx, const char *name);
    size_t (*param_list_count)(ls_processor_ctx_t *ctx, const char *name);
    const char *(*param_list_item)(ls_processor_ctx_t *ctx, const char *name, size_t i);
    /* OBJECT parameters (and any other) as compact JSON text, NULL if unset. */
    const char *(*param_json)(ls_processor_ctx_t *ctx, const char *name);
    /* True when the parameter was given in the spec (not just defaulted). */
    bool (*param_given)(ls_processor_ctx_t *ctx, const char *name);

    /* ---- any callback ---- */
    /* Sets the reason reported for a failed init (with the JSON path of the
     * parameter at fault, or NULL) or for an ERROR verdict (path NULL). */
    void (*fail)(ls_processor_ctx_t *ctx, const char *param, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    void (*log)(ls_processor_ctx_t *ctx, ls_processor_log_level_t level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* ---- process only ---- */
    /* Attaches an annotation (copied) to the record; later processors and
     * writers see it in rec->annotations. */
    void (*annotate)(ls_processor_ctx_t *ctx, ls_record_t *rec, const char *name,
                     const ls_annotation_field_t *fields, size_t count);
    /* Writers: takes a ticket for rec before returning PASS; the record's
     * offset is not committed until every ticket taken for it is released.
     * release(ok=false) means the write failed for good: the chain stops
     * committing and restarts from the last committed offset (at least once,
     * nothing lost). Tickets may be released from any later loop callback,
     * but before destroy() returns. */
    ls_processor_ticket_t *(*hold)(ls_processor_ctx_t *ctx, const ls_record_t *rec);
    void (*release)(ls_processor_ctx_t *ctx, ls_processor_ticket_t *t, bool ok,
                    const char *error_message);

    /* Built-in processors only: the server's internals (ls_chain_env_t from
     * server/chains/engine.h). NULL for out-of-tree plugins' purposes. */
    void *server;
} ls_processor_host_t;

/* ---- the plugin description ---- */

enum {
    /* The processor writes records somewhere (takes tickets). */
    LS_PROCESSOR_WRITER = 1u << 0,
};

typedef struct {
    uint32_t abi_version; /* LS_PROCESSOR_ABI_VERSION */
    const char *name;     /* [a-z][a-z0-9_]*, the `type` in chain specs */
    const char *description;
    unsigned flags;
    const ls_processor_param_t *params;
    size_t param_count;
    /* Creates the instance's state from its parameters. Return 0 on success
     * (*state set, may be NULL), -1 on failure after host->fail(). May be NULL. */
    int (*init)(ls_processor_ctx_t *ctx, const ls_processor_host_t *host, void **state);
    /* Decides for one record. Required. */
    ls_verdict_t (*process)(void *state, ls_processor_ctx_t *ctx, const ls_processor_host_t *host,
                            ls_record_t *rec);
    /* End of a batch: a writer sends what it buffered (it must not keep
     * records waiting for more once flush was called). May be NULL. */
    void (*flush)(void *state, ls_processor_ctx_t *ctx, const ls_processor_host_t *host);
    /* Frees the state. Called once, after the last process/flush, when no
     * ticket is outstanding. May be NULL. */
    void (*destroy)(void *state);
} ls_processor_plugin_t;

#ifdef __cplusplus
}
#endif

#endif
