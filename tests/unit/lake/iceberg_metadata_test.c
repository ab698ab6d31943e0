#include <stdlib.h>
#include <string.h>

#include "lake/iceberg_metadata.h"
#include "test.h"

static json_t *new_table(void)
{
    json_t *schema = json_loads("{\"type\":\"struct\",\"fields\":["
                                "{\"name\":\"id\",\"type\":\"long\",\"required\":true},"
                                "{\"name\":\"ts\",\"type\":\"timestamp\"},"
                                "{\"name\":\"city\",\"type\":\"string\"}]}",
                                0, NULL);
    json_t *part = json_loads("[{\"source\":\"ts\",\"transform\":\"day\"},"
                              "{\"source\":\"city\",\"transform\":\"bucket[8]\"}]",
                              0, NULL);
    json_t *props = json_pack("{s:s}", "owner", "tests");
    ls_error_t err;
    json_t *m = ls_iceberg_metadata_new(schema, part, props, "0d3c5d4a-3f6e-4b7e-8a8e-2f1d2c3b4a59",
                                        "file:///w/ns/t", 1000, &err);
    json_decref(schema);
    json_decref(part);
    json_decref(props);
    return m;
}

static void add_snap(json_t *m, int64_t id, int64_t parent, int64_t ts)
{
    json_t *s =
        json_pack("{s:I,s:I,s:I,s:s,s:{s:s}}", "snapshot-id", (json_int_t)id, "sequence-number",
                  (json_int_t)(json_integer_value(json_object_get(m, "last-sequence-number")) + 1),
                  "timestamp-ms", (json_int_t)ts, "manifest-list", "file:///x.avro", "summary",
                  "operation", "append");
    if (parent >= 0)
        json_object_set_new(s, "parent-snapshot-id", json_integer(parent));
    ls_iceberg_metadata_add_snapshot(m, s, "main");
}

LS_TEST(new_table_metadata_has_every_v2_field_and_assigned_ids)
{
    json_t *m = new_table();
    LS_REQUIRE(m != NULL);
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_iceberg_metadata_check(m, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "format-version")), 2);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "last-column-id")), 3);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "last-partition-id")), 1001);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "current-snapshot-id")), -1);
    json_t *spec = json_array_get(json_object_get(m, "partition-specs"), 0);
    json_t *f1 = json_array_get(json_object_get(spec, "fields"), 1);
    LS_CHECK_STR_EQ(json_string_value(json_object_get(f1, "name")), "city_bucket");
    LS_CHECK_STR_EQ(json_string_value(json_object_get(f1, "transform")), "bucket[8]");
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(f1, "source-id")), 3);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(f1, "field-id")), 1001);
    static const char *keys[] = {"table-uuid",      "location",    "last-sequence-number",
                                 "last-updated-ms", "schemas",     "current-schema-id",
                                 "default-spec-id", "sort-orders", "default-sort-order-id",
                                 "properties",      "refs",        "snapshots",
                                 "snapshot-log",    "metadata-log"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        LS_CHECK(json_object_get(m, keys[i]) != NULL);
    json_decref(m);
}

LS_TEST(bad_table_definitions_are_rejected_with_a_path)
{
    const char *bad[][2] = {
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"a b\",\"type\":\"long\"}]}", "[]"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"lung\"}]}", "[]"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}",
         "[{\"source\":\"zz\",\"transform\":\"identity\"}]"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}",
         "[{\"source\":\"a\",\"transform\":\"year\"}]"},
        {"{\"type\":\"struct\",\"fields\":[]}", "[]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_loads(bad[i][0], 0, NULL), *p = json_loads(bad[i][1], 0, NULL);
        ls_error_t err;
        ls_error_clear(&err);
        json_t *m = ls_iceberg_metadata_new(s, p, NULL, "u", "file:///w", 1, &err);
        LS_CHECK(m == NULL);
        LS_CHECK_INT_EQ(err.code, LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(err.path[0] == '$');
        json_decref(s);
        json_decref(p);
    }
}

LS_TEST(refs_resolve_and_expire_keeps_tagged_snapshots)
{
    json_t *m = new_table();
    ls_error_t err;
    add_snap(m, 11, -1, 2000);
    add_snap(m, 22, 11, 3000);
    add_snap(m, 33, 22, 4000);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "last-sequence-number")), 3);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_current_snapshot(m), 33);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_set_ref(m, "v1", "tag", 11, false, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_set_ref(m, "v1", "tag", 22, false, &err),
                    LS_ERR_ALREADY_EXISTS);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_set_ref(m, "v1", "branch", 22, true, &err),
                    LS_ERR_ALREADY_EXISTS);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_set_ref(m, "v9", "tag", 999, false, &err),
                    LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_set_ref(m, "dev", "branch", 22, false, &err), LS_ERR_OK);
    int64_t id = 0;
    LS_CHECK_INT_EQ(ls_iceberg_metadata_resolve(m, "v1", -1, -1, &id, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(id, 11);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_resolve(m, NULL, -1, 3500, &id, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(id, 22);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_resolve(m, NULL, -1, 1999, &id, &err), LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_resolve(m, "nope", -1, -1, &id, &err), LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_remove_ref(m, "dev", "tag", &err), LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_remove_ref(m, "dev", "branch", &err), LS_ERR_OK);
    /* everything older than 5000 expires except the tag's snapshot and the newest one */
    json_t *gone = ls_iceberg_metadata_expire(m, 5000, 1);
    LS_CHECK_INT_EQ((int)json_array_size(gone), 1);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(gone, 0), "snapshot-id")),
                    22);
    LS_CHECK(ls_iceberg_metadata_snapshot(m, 11) != NULL);
    LS_CHECK(ls_iceberg_metadata_snapshot(m, 33) != NULL);
    LS_CHECK_INT_EQ((int)json_array_size(json_object_get(m, "snapshot-log")), 2);
    json_decref(gone);
    json_decref(m);
}

LS_TEST(schema_evolution_adds_columns_and_widens_only_allowed_types)
{
    json_t *m = new_table();
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_iceberg_metadata_add_column(m, "score", "int", &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_add_column(m, "score", "int", &err), LS_ERR_ALREADY_EXISTS);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_widen_column(m, "score", "long", &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_widen_column(m, "city", "long", &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_widen_column(m, "nope", "long", &err), LS_ERR_NOT_FOUND);
    ls_iceberg_schema_t *s = NULL;
    LS_REQUIRE(ls_iceberg_metadata_schema(m, -1, &s, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(s->schema_id, 2);
    LS_CHECK_INT_EQ((int)s->n_fields, 4);
    LS_CHECK_INT_EQ(s->fields[3].id, 4);
    LS_CHECK_INT_EQ(s->fields[3].type.type, LS_PARQUET_INT64);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(m, "last-column-id")), 4);
    ls_iceberg_schema_free(s);
    LS_CHECK_INT_EQ(ls_iceberg_metadata_check(m, &err), LS_ERR_OK);
    json_decref(m);
}

LS_TEST_MAIN(LS_T(new_table_metadata_has_every_v2_field_and_assigned_ids),
             LS_T(bad_table_definitions_are_rejected_with_a_path),
             LS_T(refs_resolve_and_expire_keeps_tagged_snapshots),
             LS_T(schema_evolution_adds_columns_and_widens_only_allowed_types))
