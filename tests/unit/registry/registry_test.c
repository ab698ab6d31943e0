#include <stdio.h>
#include <string.h>

#include "registry/internal.h"
#include "registry/registry.h"
#include "test.h"

LS_TEST(versions_parse_latest_and_bounded_integers)
{
    ls_registry_error_t err;
    int v = 0;
    LS_CHECK_INT_EQ(ls_registry_parse_version("latest", &v, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(v, -1);
    LS_CHECK_INT_EQ(ls_registry_parse_version("-1", &v, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(v, -1);
    LS_CHECK_INT_EQ(ls_registry_parse_version("1", &v, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(v, 1);
    LS_CHECK_INT_EQ(ls_registry_parse_version("2147483647", &v, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(v, 2147483647);
    static const char *const bad[] = {
        "0", "-2", "2147483648", "abc", "", "1.0", " 1", "1 ", "+1", "0x1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        LS_CHECK_INT_EQ(ls_registry_parse_version(bad[i], &v, &err), LS_ERR_INVALID_ARGUMENT);
        LS_CHECK_INT_EQ(err.error_code, LS_REGISTRY_INVALID_VERSION);
        LS_CHECK_INT_EQ(v, 42);
    }
    LS_CHECK_INT_EQ(ls_registry_parse_version(NULL, &v, &err), LS_ERR_INVALID_ARGUMENT);
}

LS_TEST(ids_are_positive_32_bit_integers)
{
    ls_registry_error_t err;
    int32_t id;
    LS_CHECK_INT_EQ(ls_registry_parse_id("17", &id, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(id, 17);
    LS_CHECK_INT_EQ(ls_registry_parse_id("0", &id, &err), LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(err.error_code, LS_REGISTRY_SCHEMA_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_registry_parse_id("2147483648", &id, &err), LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_registry_parse_id("latest", &id, &err), LS_ERR_NOT_FOUND);
}

LS_TEST(modes_and_levels_parse_case_insensitively)
{
    ls_registry_error_t err;
    ls_registry_mode_t m;
    LS_CHECK_INT_EQ(ls_registry_mode_parse("readonly", &m, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(m, LS_REGISTRY_READONLY);
    LS_CHECK_INT_EQ(ls_registry_mode_parse("IMPORT", &m, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(ls_registry_mode_name(m), "IMPORT");
    LS_CHECK_INT_EQ(ls_registry_mode_parse("READ_WRITE", &m, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(err.error_code, LS_REGISTRY_INVALID_MODE);
    LS_CHECK_INT_EQ(ls_registry_mode_parse(NULL, &m, &err), LS_ERR_INVALID_ARGUMENT);
    ls_compat_level_t level;
    ls_error_t e;
    LS_CHECK_INT_EQ(ls_compat_level_parse("full_transitive", &level, &e), LS_ERR_OK);
    LS_CHECK_INT_EQ(level, LS_COMPAT_FULL_TRANSITIVE);
    LS_CHECK_INT_EQ(ls_compat_level_parse("FULLY", &level, &e), LS_ERR_INVALID_ARGUMENT);
}

LS_TEST(error_codes_map_to_confluent_http_statuses)
{
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_SUBJECT_NOT_FOUND), 404);
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_VERSION_NOT_SOFT_DELETED), 404);
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_INCOMPATIBLE), 409);
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_INVALID_SCHEMA), 422);
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_OPERATION_NOT_PERMITTED), 422);
    LS_CHECK_INT_EQ(ls_registry_http_status(LS_REGISTRY_STORE_ERROR), 500);
    ls_registry_error_t err;
    LS_CHECK_INT_EQ(ls_registry_error_set(&err, LS_REGISTRY_SUBJECT_NOT_FOUND, "Subject '%s'", "x"),
                    LS_ERR_NOT_FOUND);
    LS_CHECK_STR_EQ(err.error.message, "Subject 'x'");
    LS_CHECK_INT_EQ(ls_registry_error_set(NULL, LS_REGISTRY_STORE_ERROR, "x"), LS_ERR_UNAVAILABLE);
    LS_CHECK_INT_EQ(ls_registry_error_set(&err, LS_REGISTRY_INCOMPATIBLE, "x"),
                    LS_ERR_FAILED_PRECONDITION);
}

LS_TEST(subject_names_reject_empty_long_and_control_characters)
{
    ls_registry_error_t err;
    LS_CHECK_INT_EQ(ls_registry_check_subject("orders-value", &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_registry_check_subject("a/b c:d", &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_registry_check_subject("", &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(err.error_code, LS_REGISTRY_INVALID_SUBJECT);
    LS_CHECK_INT_EQ(ls_registry_check_subject("a\nb", &err), LS_ERR_INVALID_ARGUMENT);
    char longname[300];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    LS_CHECK_INT_EQ(ls_registry_check_subject(longname, &err), LS_ERR_INVALID_ARGUMENT);
}

static int request_code(const char *body_text)
{
    json_error_t jerr;
    json_t *body = json_loads(body_text, JSON_DECODE_ANY, &jerr);
    if (body == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", body_text);
        abort();
    }
    ls_avro_schema_t *schema = NULL;
    char *canonical = NULL;
    int32_t id;
    int version;
    ls_registry_error_t err = {0};
    ls_err_t rc = ls_registry_parse_schema_request(body, &schema, &canonical, &id, &version, &err);
    json_decref(body);
    ls_avro_schema_free(schema);
    free(canonical);
    return rc == LS_ERR_OK ? 0 : err.error_code;
}

LS_TEST(schema_requests_accept_only_avro_without_references)
{
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\"}"), 0);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"AVRO\","
                                 "\"references\":[],\"metadata\":null}"),
                    0);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"JSON\"}"),
                    LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"PROTOBUF\"}"),
                    LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"XML\"}"),
                    LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"references\":[{\"name\":\"a\"}]}"),
                    LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{}"), LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("[]"), LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":{\"type\":\"int\"}}"), LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"{\\\"type\\\":\\\"record\\\"}\"}"),
                    LS_REGISTRY_INVALID_SCHEMA);
    /* An invalid default is an invalid schema, as in Confluent. */
    LS_CHECK_INT_EQ(
        request_code("{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R\\\","
                     "\\\"fields\\\":[{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\","
                     "\\\"default\\\":\\\"x\\\"}]}\"}"),
        LS_REGISTRY_INVALID_SCHEMA);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"version\":\"2\"}"),
                    LS_REGISTRY_INVALID_VERSION);
    LS_CHECK_INT_EQ(request_code("{\"schema\":\"\\\"int\\\"\",\"id\":1e3}"),
                    LS_REGISTRY_INVALID_SCHEMA);
}

LS_TEST(schema_requests_give_canonical_form_and_import_values)
{
    json_t *body =
        json_pack("{s:s,s:i,s:i}", "schema",
                  "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"doc\":\"d\","
                  "\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":3}]}",
                  "id", 12, "version", 4);
    ls_avro_schema_t *schema = NULL;
    char *canonical = NULL;
    int32_t id;
    int version;
    ls_registry_error_t err;
    LS_REQUIRE(ls_registry_parse_schema_request(body, &schema, &canonical, &id, &version, &err) ==
               LS_ERR_OK);
    LS_CHECK_STR_EQ(canonical,
                    "{\"name\":\"n.R\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":"
                    "\"int\"}]}");
    LS_CHECK_INT_EQ(id, 12);
    LS_CHECK_INT_EQ(version, 4);
    size_t len;
    LS_CHECK(strstr(ls_avro_schema_text(schema, &len), "\"doc\":\"d\"") != NULL);
    ls_avro_schema_free(schema);
    free(canonical);
    json_decref(body);
}

/* ---- the cache, with a pool whose database never answers ---- */

static void on_closed(void *arg)
{
    *(bool *)arg = true;
}

static ls_registry_schema_t *entry(int32_t id)
{
    char text[64];
    snprintf(text, sizeof(text), "{\"type\":\"fixed\",\"name\":\"F%d\",\"size\":%d}", id,
             id % 50 + 1);
    ls_error_t err;
    ls_registry_schema_t *s = ls__registry_schema_new(id, text, strlen(text), &err);
    if (s == NULL) {
        fprintf(stderr, "%s\n", err.message);
        abort();
    }
    return s;
}

static void on_cached_hit(void *arg, ls_registry_schema_t *schema, const ls_registry_error_t *err)
{
    *(int32_t *)arg = err->error_code == 0 ? ls_registry_schema_id(schema) : -err->error_code;
}

LS_TEST(cache_is_bounded_evicts_by_notify_and_keeps_referenced_entries_alive)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_pg_t *pg;
    ls_pg_config_t cfg = {.dsn = "host=127.0.0.1 port=1 dbname=none connect_timeout=1",
                          .pool_size = 1};
    ls_error_t err;
    LS_REQUIRE(ls_pg_open(&loop, &cfg, &pg, &err) == LS_ERR_OK);
    ls_registry_t *r = ls_registry_new(pg);

    for (int32_t id = 1; id <= 9000; id++) {
        ls_registry_schema_t *s = entry(id);
        LS_CHECK(ls__registry_cache_put(r, s) == s);
        ls_registry_schema_unref(s);
    }
    ls_registry_stats_t st;
    ls_registry_stats(r, &st);
    LS_CHECK(st.entries < 9000 && st.entries >= 4096);
    /* Oldest out first. */
    LS_CHECK(ls_registry_schema_cached(r, 1) == NULL);
    LS_CHECK(ls_registry_schema_cached(r, 9000) != NULL);

    /* A second entry for a cached id is not taken; the cached one wins. */
    ls_registry_schema_t *dup = entry(9000);
    LS_CHECK(ls__registry_cache_put(r, dup) != dup);
    ls_registry_schema_unref(dup);

    /* A hit answers before ls_registry_schema_get returns. */
    int32_t got = 0;
    ls_registry_error_t rerr;
    LS_CHECK_INT_EQ(ls_registry_schema_get(r, 8999, on_cached_hit, &got, &rerr), LS_ERR_OK);
    LS_CHECK_INT_EQ(got, 8999);
    /* A miss with the database down fails at once, with no callback. */
    got = 0;
    LS_CHECK_INT_EQ(ls_registry_schema_get(r, 1, on_cached_hit, &got, &rerr), LS_ERR_UNAVAILABLE);
    LS_CHECK_INT_EQ(rerr.error_code, LS_REGISTRY_STORE_ERROR);
    LS_CHECK_INT_EQ(got, 0);

    /* A holder keeps its schema after another instance's eviction. */
    ls_registry_schema_t *held = ls_registry_schema_ref(ls_registry_schema_cached(r, 8998));
    ls__registry_on_notify(r, LS__REGISTRY_CHANNEL, "evict:8998,8997,garbage");
    LS_CHECK(ls_registry_schema_cached(r, 8998) == NULL);
    LS_CHECK(ls_registry_schema_cached(r, 8997) == NULL);
    LS_CHECK(ls_registry_schema_cached(r, 8996) != NULL);
    size_t len;
    LS_CHECK(strstr(ls_registry_schema_response(held, &len), "F8998") != NULL);
    LS_CHECK(ls_avro_schema_root(ls_registry_schema_avro(held))->size == 8998 % 50 + 1);
    ls_registry_schema_unref(held);
    ls__registry_on_notify(r, LS__REGISTRY_CHANNEL, "something else");
    LS_CHECK(ls_registry_schema_cached(r, 8996) != NULL);
    ls__registry_on_notify(r, LS__REGISTRY_CHANNEL, "evict:all");
    ls_registry_stats(r, &st);
    LS_CHECK_INT_EQ((int)st.entries, 0);

    bool closed = false;
    ls_pg_close(pg, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    LS_CHECK(closed);
    ls_registry_free(r);
    LS_CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

LS_TEST_MAIN(LS_T(versions_parse_latest_and_bounded_integers),
             LS_T(ids_are_positive_32_bit_integers),
             LS_T(modes_and_levels_parse_case_insensitively),
             LS_T(error_codes_map_to_confluent_http_statuses),
             LS_T(subject_names_reject_empty_long_and_control_characters),
             LS_T(schema_requests_accept_only_avro_without_references),
             LS_T(schema_requests_give_canonical_form_and_import_values),
             LS_T(cache_is_bounded_evicts_by_notify_and_keeps_referenced_entries_alive))
