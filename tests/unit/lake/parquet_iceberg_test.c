/*
 * Tests of Parquet schemas built from Iceberg JSON schemas
 * (server/lake/parquet_iceberg.c): types, ids, required-ness, nesting, and
 * the errors for what cannot be represented.
 */
#include "lake/parquet.h"
#include "test.h"

static const char *SCHEMA =
    "{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"boolean\"},"
    "{\"id\":3,\"name\":\"i\",\"required\":false,\"type\":\"int\"},"
    "{\"id\":4,\"name\":\"f\",\"required\":false,\"type\":\"float\"},"
    "{\"id\":5,\"name\":\"d\",\"required\":false,\"type\":\"double\"},"
    "{\"id\":6,\"name\":\"s\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":7,\"name\":\"bin\",\"required\":false,\"type\":\"binary\"},"
    "{\"id\":8,\"name\":\"dt\",\"required\":false,\"type\":\"date\"},"
    "{\"id\":9,\"name\":\"tm\",\"required\":false,\"type\":\"time\"},"
    "{\"id\":10,\"name\":\"ts\",\"required\":false,\"type\":\"timestamp\"},"
    "{\"id\":11,\"name\":\"tstz\",\"required\":false,\"type\":\"timestamptz\"},"
    "{\"id\":12,\"name\":\"u\",\"required\":false,\"type\":\"uuid\"},"
    "{\"id\":13,\"name\":\"fx\",\"required\":false,\"type\":\"fixed[7]\"},"
    "{\"id\":14,\"name\":\"dec\",\"required\":false,\"type\":\"decimal(25, 3)\"},"
    "{\"id\":15,\"name\":\"dec2\",\"required\":true,\"type\":\"decimal(9,2)\"},"
    "{\"id\":16,\"name\":\"matrix\",\"required\":false,\"type\":{\"type\":\"list\","
    "\"element-id\":17,\"element-required\":true,\"element\":{\"type\":\"list\","
    "\"element-id\":18,\"element-required\":false,\"element\":\"double\"}}},"
    "{\"id\":19,\"name\":\"loc\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
    "{\"id\":20,\"name\":\"lat\",\"required\":true,\"type\":\"double\"},"
    "{\"id\":21,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\","
    "\"element-id\":22,\"element-required\":true,\"element\":\"string\"}}]}},"
    "{\"id\":23,\"name\":\"props\",\"required\":false,\"type\":{\"type\":\"map\","
    "\"key-id\":24,\"key\":\"string\",\"value-id\":25,\"value-required\":false,"
    "\"value\":{\"type\":\"list\",\"element-id\":26,\"element-required\":true,"
    "\"element\":\"long\"}}}"
    "]}";

LS_TEST(iceberg_schema_maps_every_type_id_and_required_flag)
{
    ls_error_t err;
    ls_parquet_schema_t *s = ls_parquet_schema_from_iceberg(SCHEMA, strlen(SCHEMA), &err);
    LS_REQUIRE(s != NULL);
    static const struct {
        const char *path;
        ls_parquet_type_t type;
        int field_id;
        bool optional;
    } want[] = {
        {"id", LS_PARQUET_INT64, 1, false},
        {"b", LS_PARQUET_BOOLEAN, 2, true},
        {"i", LS_PARQUET_INT32, 3, true},
        {"f", LS_PARQUET_FLOAT, 4, true},
        {"d", LS_PARQUET_DOUBLE, 5, true},
        {"s", LS_PARQUET_STRING, 6, true},
        {"bin", LS_PARQUET_BINARY, 7, true},
        {"dt", LS_PARQUET_DATE, 8, true},
        {"tm", LS_PARQUET_TIME, 9, true},
        {"ts", LS_PARQUET_TIMESTAMP, 10, true},
        {"tstz", LS_PARQUET_TIMESTAMPTZ, 11, true},
        {"u", LS_PARQUET_UUID, 12, true},
        {"fx", LS_PARQUET_FIXED, 13, true},
        {"dec", LS_PARQUET_DECIMAL, 14, true},
        {"dec2", LS_PARQUET_DECIMAL, 15, false},
        {"matrix", LS_PARQUET_LIST, 16, true},
        {"matrix.element", LS_PARQUET_LIST, 17, false},
        {"matrix.element.element", LS_PARQUET_DOUBLE, 18, true},
        {"loc", LS_PARQUET_STRUCT, 19, true},
        {"loc.lat", LS_PARQUET_DOUBLE, 20, false},
        {"loc.tags", LS_PARQUET_LIST, 21, true},
        {"loc.tags.element", LS_PARQUET_STRING, 22, false},
        {"props", LS_PARQUET_MAP, 23, true},
        {"props.key", LS_PARQUET_STRING, 24, false},
        {"props.value", LS_PARQUET_LIST, 25, true},
        {"props.value.element", LS_PARQUET_INT64, 26, false},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int idx = ls_parquet_schema_find_path(s, want[i].path);
        LS_CHECK(idx > 0);
        if (idx <= 0) {
            fprintf(stderr, "missing %s\n", want[i].path);
            continue;
        }
        const ls_parquet_node_t *n = ls_parquet_schema_node(s, idx);
        LS_CHECK_INT_EQ(n->type, want[i].type);
        LS_CHECK_INT_EQ(n->field_id, want[i].field_id);
        LS_CHECK_INT_EQ(n->optional, want[i].optional);
        LS_CHECK_INT_EQ(ls_parquet_schema_find_field_id(s, want[i].field_id), idx);
    }
    const ls_parquet_node_t *dec = ls_parquet_schema_node(s, ls_parquet_schema_find_path(s, "dec"));
    LS_CHECK(dec->precision == 25 && dec->scale == 3 && dec->type_length == 11);
    const ls_parquet_node_t *fx = ls_parquet_schema_node(s, ls_parquet_schema_find_path(s, "fx"));
    LS_CHECK_INT_EQ(fx->type_length, 7);
    LS_CHECK_INT_EQ(ls_parquet_schema_leaf_count(s), 20);
    /* the schema is ready for a writer */
    ls_parquet_writer_t *w;
    LS_CHECK_INT_EQ(ls_parquet_writer_new(s, NULL, NULL, NULL, &w, &err), LS_ERR_OK);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(s);
}

LS_TEST(iceberg_schema_errors_name_the_field)
{
    static const struct {
        const char *json;
        const char *message_part;
        const char *path;
    } bad[] = {
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"m\",\"required\":true,\"type\":"
         "{\"type\":\"map\",\"key-id\":2,\"key\":{\"type\":\"struct\",\"fields\":[]},"
         "\"value-id\":3,\"value\":\"long\",\"value-required\":true}}]}",
         "primitive key", "$.fields[0]"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"x\",\"required\":true,"
         "\"type\":\"varchar\"}]}",
         "unsupported type varchar", "$.fields[0]"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"required\":true,\"type\":\"int\"}]}",
         "needs id", "$.fields[0]"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"x\",\"required\":true,"
         "\"type\":\"decimal(40,2)\"}]}",
         "bad decimal", ""},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"l\",\"required\":true,\"type\":"
         "{\"type\":\"list\",\"element\":\"int\"}}]}",
         "element-id", "$.fields[0]"},
        {"{\"type\":\"struct\",\"fields\":[]}", "non-empty", "$"},
        {"[1,2]", "top level", "$"},
        {"{\"type\":", "bad JSON", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ls_error_t err;
        memset(&err, 0, sizeof(err));
        ls_parquet_schema_t *s =
            ls_parquet_schema_from_iceberg(bad[i].json, strlen(bad[i].json), &err);
        LS_CHECK(s == NULL);
        LS_CHECK_INT_EQ(err.code, LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(strstr(err.message, bad[i].message_part) != NULL);
        if (!strstr(err.message, bad[i].message_part))
            fprintf(stderr, "case %zu: %s\n", i, err.message);
        if (bad[i].path[0])
            LS_CHECK_STR_EQ(err.path, bad[i].path);
        ls_parquet_schema_free(s);
    }
    /* nesting deeper than the codec allows */
    char deep[8192];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"type\":\"struct\",\"fields\":[");
    for (int d = 0; d < 40; d++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                              "{\"id\":%d,\"name\":\"n\",\"required\":true,\"type\":{\"type\":"
                              "\"struct\",\"fields\":[",
                              d + 1);
    n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                          "{\"id\":99,\"name\":\"x\",\"required\":true,\"type\":\"int\"}");
    for (int d = 0; d < 40; d++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]}}");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]}");
    ls_error_t err;
    LS_CHECK(ls_parquet_schema_from_iceberg(deep, n, &err) == NULL);
    LS_CHECK(strstr(err.message, "deep") != NULL);
}

LS_TEST_MAIN(LS_T(iceberg_schema_maps_every_type_id_and_required_flag),
             LS_T(iceberg_schema_errors_name_the_field))
