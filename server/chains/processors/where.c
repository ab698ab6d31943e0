/*
 * `where`: keeps the records for which a SQL-style predicate over field
 * paths is TRUE (chains/predicate.h); FALSE or UNKNOWN (NULLs) → SKIP. The
 * predicate is compiled once at init; per record it only reads the values
 * the chain's decoder extracted.
 */
#include <stdlib.h>

#include "chains/chain.h"
#include "chains/predicate.h"

typedef struct {
    ls_processor_ctx_t *ctx;
    const ls_processor_host_t *host;
} resolve_arg_t;

static ls_field_t resolve(void *arg, const char *path)
{
    resolve_arg_t *r = arg;
    return r->host->field(r->ctx, path);
}

static int where_init(ls_processor_ctx_t *ctx, const ls_processor_host_t *host, void **state)
{
    resolve_arg_t r = {ctx, host};
    ls_predicate_t *p;
    ls_error_t err;
    if (ls_predicate_compile(host->param_string(ctx, "predicate"), resolve, &r, &p, &err) !=
        LS_ERR_OK) {
        host->fail(ctx, "predicate", "%s", err.message);
        return -1;
    }
    *state = p;
    return 0;
}

static ls_verdict_t where_process(void *state, ls_processor_ctx_t *ctx,
                                  const ls_processor_host_t *host, ls_record_t *rec)
{
    return ls_predicate_eval(state, rec->fields, rec->field_count) == LS_PRED_TRUE
               ? LS_VERDICT_PASS
               : LS_VERDICT_SKIP;
}

static void where_destroy(void *state)
{
    ls_predicate_free(state);
}

static const ls_processor_param_t where_params[] = {
    {.name = "predicate",
     .type = LS_PARAM_STRING,
     .required = true,
     .description = "SQL-style condition over field paths, e.g. candidate.drb > 0.9 AND "
                    "candidate.ssnamenr IS NULL"},
};

const ls_processor_plugin_t ls_proc_where = {
    .abi_version = LS_PROCESSOR_ABI_VERSION,
    .name = "where",
    .description = "Pass records for which the predicate is true (SQL three-valued logic)",
    .params = where_params,
    .param_count = sizeof(where_params) / sizeof(where_params[0]),
    .init = where_init,
    .process = where_process,
    .destroy = where_destroy,
};
