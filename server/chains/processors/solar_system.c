/*
 * `solar_system`: the reference design's SolarSystemFilter. An alert is a
 * solar-system alert when candidate.ssnamenr is not null (and, with
 * `targets`, names one of them, case-insensitively; with
 * `max_distance_arcsec`, its candidate.ssdistnr is known and within it).
 * action include passes solar-system alerts, exclude passes the others.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains/chain.h"
#include "core/alloc.h"

typedef struct {
    bool include;
    ls_field_t name, dist;
    char **targets;
    size_t target_count;
    double max_dist; /* < 0: no limit */
} ss_t;

static int ss_init(ls_processor_ctx_t *ctx, const ls_processor_host_t *host, void **state)
{
    ss_t *s = ls_calloc(1, sizeof(*s));
    s->include = strcmp(host->param_string(ctx, "action"), "include") == 0;
    s->name = host->field(ctx, host->param_string(ctx, "name_field"));
    if (s->name < 0) {
        free(s);
        host->fail(ctx, "name_field", "invalid field path");
        return -1;
    }
    s->max_dist = -1;
    if (host->param_given(ctx, "max_distance_arcsec")) {
        s->max_dist = host->param_number(ctx, "max_distance_arcsec");
        if (!(s->max_dist >= 0)) {
            free(s);
            host->fail(ctx, "max_distance_arcsec", "must be >= 0");
            return -1;
        }
        s->dist = host->field(ctx, host->param_string(ctx, "distance_field"));
        if (s->dist < 0) {
            free(s);
            host->fail(ctx, "distance_field", "invalid field path");
            return -1;
        }
    }
    s->target_count = host->param_list_count(ctx, "targets");
    if (s->target_count > 10000) {
        free(s);
        host->fail(ctx, "targets", "at most 10000 names");
        return -1;
    }
    s->targets = ls_calloc(s->target_count ? s->target_count : 1, sizeof(char *));
    for (size_t i = 0; i < s->target_count; i++)
        s->targets[i] = ls_strdup(host->param_list_item(ctx, "targets", i));
    *state = s;
    return 0;
}

static bool is_solar_system(const ss_t *s, const ls_record_t *rec)
{
    size_t len;
    const char *name = ls_record_string(rec, s->name, &len);
    if (name == NULL)
        return false;
    if (s->target_count > 0) {
        bool hit = false;
        for (size_t i = 0; i < s->target_count && !hit; i++)
            hit = strlen(s->targets[i]) == len && strncasecmp(s->targets[i], name, len) == 0;
        if (!hit)
            return false;
    }
    if (s->max_dist >= 0) {
        double d;
        if (!ls_record_number(rec, s->dist, &d) || !(d <= s->max_dist))
            return false;
    }
    return true;
}

static ls_verdict_t ss_process(void *state, ls_processor_ctx_t *ctx,
                               const ls_processor_host_t *host, ls_record_t *rec)
{
    const ss_t *s = state;
    return is_solar_system(s, rec) == s->include ? LS_VERDICT_PASS : LS_VERDICT_SKIP;
}

static void ss_destroy(void *state)
{
    ss_t *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->target_count; i++)
        free(s->targets[i]);
    free(s->targets);
    free(s);
}

static const char *const ss_actions[] = {"include", "exclude", NULL};

static const ls_processor_param_t ss_params[] = {
    {.name = "action",
     .type = LS_PARAM_STRING,
     .default_json = "\"exclude\"",
     .description = "include: pass only solar-system alerts; exclude: pass only the others",
     .choices = ss_actions},
    {.name = "targets",
     .type = LS_PARAM_STRING_LIST,
     .default_json = "[]",
     .description = "only these solar-system object names count (case-insensitive); empty = any"},
    {.name = "max_distance_arcsec",
     .type = LS_PARAM_NUMBER,
     .description = "only alerts whose distance to the known object is at most this count"},
    {.name = "name_field",
     .type = LS_PARAM_STRING,
     .default_json = "\"candidate.ssnamenr\"",
     .description = "field holding the solar-system object name"},
    {.name = "distance_field",
     .type = LS_PARAM_STRING,
     .default_json = "\"candidate.ssdistnr\"",
     .description = "field holding the distance to the object in arcsec"},
};

const ls_processor_plugin_t ls_proc_solar_system = {
    .abi_version = LS_PROCESSOR_ABI_VERSION,
    .name = "solar_system",
    .description = "Include or exclude alerts associated with known solar-system objects",
    .params = ss_params,
    .param_count = sizeof(ss_params) / sizeof(ss_params[0]),
    .init = ss_init,
    .process = ss_process,
    .destroy = ss_destroy,
};
