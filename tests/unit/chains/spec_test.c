/* Chain spec validation (JSON and YAML), parameter schema checks with JSON
 * paths, the built-in registry and help, and the solar_system processor run
 * against real records through the host table. */
#include <string.h>

#include "avro/decoder.h"
#include "chains/chain.h"
#include "chains/yaml.h"
#include "test.h"

static const char *base = "{\"name\":\"js\",\"source\":{\"topic\":\"ztf\"},\"value_schema_file\":"
                          "\"schemas/avro/alert.avsc\",\"processors\":[%s]}";

static ls_err_t validate(const char *procs, ls_error_t *err)
{
    char text[4096];
    snprintf(text, sizeof(text), base, procs);
    json_t *j;
    ls_err_t rc = ls_chain_spec_parse_text(text, strlen(text), false, &j, err);
    if (rc != LS_ERR_OK)
        return rc;
    ls_chain_spec_t *s = NULL;
    rc = ls_chain_spec_new(j, NULL, &s, err);
    json_decref(j);
    ls_chain_spec_free(s);
    return rc;
}

static void expect_path(const char *procs, const char *path, const char *fragment)
{
    ls_error_t err;
    memset(&err, 0, sizeof(err));
    LS_CHECK_INT_EQ(validate(procs, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, path);
    if (strstr(err.message, fragment) == NULL)
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, fragment);
    LS_CHECK(strstr(err.message, fragment) != NULL);
}

LS_TEST(valid_spec_from_api_md_example_in_yaml)
{
    const char *yaml = "name: jupiter-saturn\n"
                       "source: {topic: ztf-buffer, group: jupiter-saturn, start: earliest}\n"
                       "instances: 2\n"
                       "dead_letter_topic: jupiter-saturn-dlq\n"
                       "value_schema_file: schemas/avro/alert.avsc\n"
                       "processors:\n"
                       "  - type: solar_system\n"
                       "    params: {action: include, targets: [jupiter, saturn]}\n"
                       "  - type: where\n"
                       "    params:\n"
                       "      predicate: \"candidate.drb > 0.9 OR candidate.rb >= 0.5\"\n"
                       "  - type: kafka_writer\n"
                       "    params: {topic: jupiter-saturn-alerts}\n";
    json_t *j;
    ls_error_t err;
    LS_REQUIRE(ls_chain_spec_parse_text(yaml, strlen(yaml), true, &j, &err) == LS_ERR_OK);
    ls_chain_spec_t *s;
    ls_err_t rc = ls_chain_spec_new(j, NULL, &s, &err);
    if (rc != LS_ERR_OK)
        fprintf(stderr, "%s\n", err.message);
    LS_REQUIRE(rc == LS_ERR_OK);
    LS_CHECK_INT_EQ(s->instances, 2);
    LS_CHECK_STR_EQ(s->group, "jupiter-saturn");
    LS_CHECK_STR_EQ(s->dead_letter_topic, "jupiter-saturn-dlq");
    LS_CHECK_INT_EQ((int)s->proc_count, 3);
    LS_CHECK_STR_EQ(json_string_value(json_object_get(s->procs[0].params, "action")), "include");
    /* defaults applied */
    LS_CHECK_STR_EQ(json_string_value(json_object_get(s->procs[0].params, "name_field")),
                    "candidate.ssnamenr");
    LS_CHECK(json_is_true(json_object_get(s->procs[2].params, "annotation_headers")));
    ls_chain_spec_free(s);
    json_decref(j);
}

LS_TEST(invalid_specs_name_the_json_path)
{
    expect_path("{\"type\":\"where\",\"params\":{\"predicate\":\"candidate.drb > \"}}",
                "$.processors[0].params.predicate", "at position 17");
    expect_path("{\"type\":\"where\",\"params\":{\"predicat\":\"x\"}}",
                "$.processors[0].params.predicat", "unknown parameter");
    expect_path("{\"type\":\"where\"}", "$.processors[0].params.predicate", "required");
    expect_path("{\"type\":\"where\",\"params\":{\"predicate\":\"candidate.nosuch = 1\"}}",
                "$.processors[0]", "candidate.nosuch");
    expect_path("{\"type\":\"solar_system\"},{\"type\":\"solar_system\",\"params\":"
                "{\"action\":\"both\"}}",
                "$.processors[1].params.action", "one of include, exclude");
    expect_path("{\"type\":\"solar_system\",\"params\":{\"targets\":[1]}}",
                "$.processors[0].params.targets", "array of strings");
    expect_path("{\"type\":\"solar_system\",\"params\":{\"max_distance_arcsec\":-1}}",
                "$.processors[0].params.max_distance_arcsec", ">= 0");
    expect_path("{\"type\":\"nosuch\"}", "$.processors[0].type", "unknown processor type");
    expect_path("{\"type\":\"kafka_writer\",\"params\":{\"topic\":\"bad topic\"}}",
                "$.processors[0].params.topic", "Kafka topic");
    expect_path("{\"type\":\"where\",\"params\":{\"predicate\":\"candidate.drb>1\"},\"x\":1}",
                "$.processors[0].x", "");
    ls_error_t perr;
    LS_CHECK_INT_EQ(validate("{\"type\":\"where\",\"plugin\":\"x.so\",\"params\":{}}", &perr),
                    LS_ERR_FAILED_PRECONDITION);
    LS_CHECK_STR_EQ(perr.path, "$.processors[0].plugin");
    LS_CHECK(strstr(perr.message, "LAKESTREAM_PLUGIN_DIR") != NULL);

    const char *bad[][3] = {
        {"{\"name\":\"Bad Name\",\"source\":{\"topic\":\"t\"},\"processors\":[]}", "$.name", ""},
        {"{\"name\":\"a\",\"source\":{},\"value_schema_file\":\"schemas/avro/alert.avsc\","
         "\"processors\":[{\"type\":\"where\",\"params\":{\"predicate\":\"candid > 1\"}}]}",
         "$.source.topic", "exactly one"},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\",\"start\":\"now\"},\"processors\":[]}",
         "$.source.start", ""},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\"},\"instances\":99,\"processors\":[]}",
         "$.instances", ""},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\"},\"value_schema_file\":\"schemas/avro/"
         "alert.avsc\",\"processors\":[]}",
         "$.processors", "1 to 64"},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\"},\"processors\":[{\"type\":\"where\"}]}",
         "$.value_schema_file", "required"},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\"},\"value_schema_file\":\"/etc/passwd\","
         "\"processors\":[]}",
         "$.value_schema_file", "no built-in schema"},
        {"{\"name\":\"a\",\"source\":{\"topic\":\"t\"},\"extra\":1,\"processors\":[]}", "$.extra",
         ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i][0], 0, NULL);
        LS_REQUIRE(j != NULL);
        ls_chain_spec_t *s = NULL;
        ls_error_t err;
        memset(&err, 0, sizeof(err));
        LS_CHECK_INT_EQ(ls_chain_spec_new(j, NULL, &s, &err), LS_ERR_INVALID_ARGUMENT);
        if (strcmp(err.path, bad[i][1]) != 0)
            fprintf(stderr, "case %zu: path %s, message %s\n", i, err.path, err.message);
        LS_CHECK_STR_EQ(err.path, bad[i][1]);
        LS_CHECK(strstr(err.message, bad[i][2]) != NULL);
        json_decref(j);
    }
}

LS_TEST(yaml_errors_and_hostile_yaml)
{
    json_t *j = NULL;
    ls_error_t err;
    const char *cases[][2] = {
        {"name: [a, b\n", "line"},         {"a: &x 1\nb: *x\n", "aliases are not supported"},
        {"a: 1\na: 2\n", "duplicate key"}, {"---\na: 1\n---\nb: 2\n", "only one document"},
        {"", "empty YAML document"},
    };
    for (size_t i = 0; i < 5; i++) {
        LS_CHECK_INT_EQ(ls_yaml_to_json(cases[i][0], strlen(cases[i][0]), &j, &err),
                        LS_ERR_INVALID_ARGUMENT);
        if (strstr(err.message, cases[i][1]) == NULL)
            fprintf(stderr, "yaml case %zu: %s\n", i, err.message);
        LS_CHECK(strstr(err.message, cases[i][1]) != NULL);
    }
    char deep[200];
    memset(deep, '[', 100);
    deep[100] = '\0';
    LS_CHECK_INT_EQ(ls_yaml_to_json(deep, strlen(deep), &j, &err), LS_ERR_INVALID_ARGUMENT);
    const char *ok = "a: 1\nb: 2.5\nc: 'quoted 1'\nd: ~\ne: true\nf: [x, \"7\"]\n";
    LS_REQUIRE(ls_yaml_to_json(ok, strlen(ok), &j, &err) == LS_ERR_OK);
    char *dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    LS_CHECK_STR_EQ(dump,
                    "{\"a\":1,\"b\":2.5,\"c\":\"quoted 1\",\"d\":null,\"e\":true,\"f\":[\"x\","
                    "\"7\"]}");
    free(dump);
    json_decref(j);
}

LS_TEST(help_comes_from_the_parameter_schema)
{
    LS_CHECK(ls_chain_builtin_find("where") == &ls_proc_where);
    LS_CHECK(ls_chain_builtin_find("nope") == NULL);
    json_t *h = ls_chain_plugin_help(&ls_proc_solar_system);
    char *dump = json_dumps(h, JSON_COMPACT);
    LS_CHECK(strstr(dump, "\"name\":\"action\",\"type\":\"string\",\"required\":false") != NULL);
    LS_CHECK(strstr(dump, "\"default\":\"exclude\"") != NULL);
    LS_CHECK(strstr(dump, "\"choices\":[\"include\",\"exclude\"]") != NULL);
    free(dump);
    json_decref(h);
}

/* ---- solar_system on real records ---- */

static ls_verdict_t run_ss(const char *params_json, const char *ssnamenr, double ssdistnr,
                           bool dist_null)
{
    json_t *given = json_loads(params_json, 0, NULL);
    json_t *params;
    ls_error_t err;
    LS_REQUIRE(ls_chain_params_resolve(&ls_proc_solar_system, given, "$.p", &params, &err) ==
               LS_ERR_OK);
    ls_chain_fields_t fields = {0};
    ls_chain_env_t env = {0};
    ls_processor_ctx_t *ctx;
    LS_REQUIRE(ls_chain_instance_new(&ls_proc_solar_system, 0, "ss", given, params, &fields, &env,
                                     NULL, "t", &ctx, &err) == LS_ERR_OK);
    ls_value_t values[LS_CHAIN_MAX_FIELDS] = {0};
    for (size_t i = 0; i < fields.count; i++) {
        if (strcmp(fields.paths[i], "candidate.ssnamenr") == 0 && ssnamenr)
            values[i] = (ls_value_t){
                .kind = LS_VALUE_STRING, .ptr = (const uint8_t *)ssnamenr, .len = strlen(ssnamenr)};
        if (strcmp(fields.paths[i], "candidate.ssdistnr") == 0 && !dist_null)
            values[i] = (ls_value_t){.kind = LS_VALUE_DOUBLE, .v.d = ssdistnr};
    }
    ls_record_t rec = {.fields = values, .field_count = fields.count};
    ls_verdict_t v = ls_proc_solar_system.process(ctx->state, ctx, &ls_chain_host, &rec);
    ls_chain_instance_free(ctx);
    ls_chain_fields_clear(&fields);
    json_decref(params);
    json_decref(given);
    return v;
}

LS_TEST(solar_system_include_exclude_targets_distance)
{
    LS_CHECK_INT_EQ(run_ss("{\"action\":\"include\"}", "2001AB", 1, false), LS_VERDICT_PASS);
    LS_CHECK_INT_EQ(run_ss("{\"action\":\"include\"}", NULL, 1, false), LS_VERDICT_SKIP);
    LS_CHECK_INT_EQ(run_ss("{\"action\":\"exclude\"}", "2001AB", 1, false), LS_VERDICT_SKIP);
    LS_CHECK_INT_EQ(run_ss("{}", NULL, 1, false), LS_VERDICT_PASS); /* default exclude */
    const char *t = "{\"action\":\"include\",\"targets\":[\"jupiter\",\"Saturn\"]}";
    LS_CHECK_INT_EQ(run_ss(t, "JUPITER", 1, false), LS_VERDICT_PASS);
    LS_CHECK_INT_EQ(run_ss(t, "saturn", 1, false), LS_VERDICT_PASS);
    LS_CHECK_INT_EQ(run_ss(t, "jupiter2", 1, false), LS_VERDICT_SKIP);
    LS_CHECK_INT_EQ(run_ss(t, "mars", 1, false), LS_VERDICT_SKIP);
    const char *d = "{\"action\":\"include\",\"max_distance_arcsec\":5}";
    LS_CHECK_INT_EQ(run_ss(d, "x", 5.0, false), LS_VERDICT_PASS);
    LS_CHECK_INT_EQ(run_ss(d, "x", 5.01, false), LS_VERDICT_SKIP);
    LS_CHECK_INT_EQ(run_ss(d, "x", 0, true), LS_VERDICT_SKIP);
    /* exclude with a distance limit keeps the far ones */
    LS_CHECK_INT_EQ(run_ss("{\"max_distance_arcsec\":5}", "x", 20, false), LS_VERDICT_PASS);
}

LS_TEST_MAIN(LS_T(valid_spec_from_api_md_example_in_yaml), LS_T(invalid_specs_name_the_json_path),
             LS_T(yaml_errors_and_hostile_yaml), LS_T(help_comes_from_the_parameter_schema),
             LS_T(solar_system_include_exclude_targets_distance))
