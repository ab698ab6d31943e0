#include <stdlib.h>
#include <string.h>

#include "lake/iceberg_data.h"
#include "lake/iceberg_manifest.h"
#include "test.h"

typedef struct {
    json_t *meta;
    ls_iceberg_schema_t *schema;
    ls_iceberg_spec_t *spec;
} table_t;

static table_t make_table(const char *part)
{
    table_t t = {0};
    json_t *schema = json_loads("{\"type\":\"struct\",\"fields\":["
                                "{\"name\":\"id\",\"type\":\"long\",\"required\":true},"
                                "{\"name\":\"day\",\"type\":\"date\"},"
                                "{\"name\":\"city\",\"type\":\"string\"},"
                                "{\"name\":\"amount\",\"type\":\"decimal(9,2)\"}]}",
                                0, NULL);
    json_t *p = json_loads(part, 0, NULL);
    ls_error_t err;
    t.meta = ls_iceberg_metadata_new(schema, p, NULL, "u", "file:///w/t", 1, &err);
    if (t.meta == NULL || ls_iceberg_metadata_schema(t.meta, -1, &t.schema, &err) != LS_ERR_OK ||
        ls_iceberg_metadata_spec(t.meta, -1, t.schema, &t.spec, &err) != LS_ERR_OK)
        abort();
    json_decref(schema);
    json_decref(p);
    return t;
}

static void free_table(table_t *t)
{
    ls_iceberg_spec_free(t->spec);
    ls_iceberg_schema_free(t->schema);
    json_decref(t->meta);
}

static json_t *sample_rows(void)
{
    return json_loads("["
                      "{\"id\":1,\"day\":\"2024-01-01\",\"city\":\"Oslo\",\"amount\":\"1.50\"},"
                      "{\"id\":2,\"day\":\"2024-01-02\",\"city\":\"Rome\",\"amount\":2},"
                      "{\"id\":3,\"day\":\"2024-01-01\",\"city\":null},"
                      "{\"id\":4,\"day\":\"2024-01-02\",\"city\":\"Oslo\",\"amount\":\"-7.25\"}]",
                      0, NULL);
}

LS_TEST(rows_are_split_by_partition_and_read_back_exactly)
{
    table_t t = make_table("[{\"source\":\"day\",\"transform\":\"identity\"}]");
    json_t *rows = sample_rows();
    ls_iceberg_new_file_t *files = NULL;
    size_t n = 0;
    ls_error_t err;
    LS_REQUIRE(ls_iceberg_write_rows(t.schema, t.spec, rows, "file:///w/t", 0, &files, &n, &err) ==
               LS_ERR_OK);
    LS_CHECK_INT_EQ((int)n, 2);
    LS_CHECK(strstr(files[0].path, "file:///w/t/data/day=2024-01-01/") == files[0].path);
    LS_CHECK_INT_EQ((int)files[0].records, 2);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(files[1].data_file, "record_count")), 2);
    json_t *back = json_array();
    for (size_t i = 0; i < n; i++)
        LS_REQUIRE(ls_iceberg_read_rows(t.schema, files[i].bytes, files[i].len, NULL, NULL, 0, -1,
                                        back, &err) == LS_ERR_OK);
    char *got = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    LS_CHECK_STR_EQ(got,
                    "[{\"amount\":\"1.50\",\"city\":\"Oslo\",\"day\":\"2024-01-01\",\"id\":1},"
                    "{\"amount\":null,\"city\":null,\"day\":\"2024-01-01\",\"id\":3},"
                    "{\"amount\":\"2.00\",\"city\":\"Rome\",\"day\":\"2024-01-02\",\"id\":2},"
                    "{\"amount\":\"-7.25\",\"city\":\"Oslo\",\"day\":\"2024-01-02\",\"id\":4}]");
    free(got);

    /* filter + projection + limit */
    ls_iceberg_filter_t f;
    LS_REQUIRE(ls_iceberg_filter_parse("city = 'Oslo' AND amount < 0", t.schema, &f, &err) ==
               LS_ERR_OK);
    json_t *sel = json_array();
    int cols[1] = {0};
    for (size_t i = 0; i < n; i++)
        LS_REQUIRE(ls_iceberg_read_rows(t.schema, files[i].bytes, files[i].len, &f, cols, 1, 10,
                                        sel, &err) == LS_ERR_OK);
    got = json_dumps(sel, JSON_COMPACT);
    LS_CHECK_STR_EQ(got, "[{\"id\":4}]");
    free(got);
    /* pruning: the 2024-01-01 file cannot hold amount < 0 rows? it can't by bounds (min 1.50) */
    LS_CHECK(!ls_iceberg_filter_may_match_file(&f, t.schema, t.spec, files[0].data_file));
    LS_CHECK(ls_iceberg_filter_may_match_file(&f, t.schema, t.spec, files[1].data_file));
    ls_iceberg_filter_free(&f);
    LS_REQUIRE(ls_iceberg_filter_parse("day = '2024-01-02'", t.schema, &f, &err) == LS_ERR_OK);
    LS_CHECK(!ls_iceberg_filter_may_match_file(&f, t.schema, t.spec, files[0].data_file));
    LS_CHECK(ls_iceberg_filter_may_match_file(&f, t.schema, t.spec, files[1].data_file));
    json_t *entries =
        json_pack("[{s:i,s:I,s:n,s:n,s:O}]", "status", 1, "snapshot_id", (json_int_t)1,
                  "sequence_number", "file_sequence_number", "data_file", files[0].data_file);
    json_t *mf = ls_iceberg_manifest_file_new("m", 1, t.spec, entries, 1, 1);
    LS_CHECK(!ls_iceberg_filter_may_match_manifest(&f, t.spec, mf));
    ls_iceberg_filter_free(&f);
    LS_REQUIRE(ls_iceberg_filter_parse("day <= '2024-01-01'", t.schema, &f, &err) == LS_ERR_OK);
    LS_CHECK(ls_iceberg_filter_may_match_manifest(&f, t.spec, mf));
    ls_iceberg_filter_free(&f);
    json_decref(mf);
    json_decref(entries);

    json_decref(sel);
    json_decref(back);
    json_decref(rows);
    ls_iceberg_new_files_free(files, n);
    free_table(&t);
}

LS_TEST(bad_rows_and_bad_filters_give_clear_errors)
{
    table_t t = make_table("[{\"source\":\"city\",\"transform\":\"bucket[4]\"}]");
    const char *bad_rows[] = {"[{\"id\":null}]", "[{\"id\":1,\"nope\":2}]", "[{\"id\":\"x\"}]",
                              "[5]", "[{\"id\":1,\"amount\":\"1.234\"}]"};
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        json_t *rows = json_loads(bad_rows[i], 0, NULL);
        ls_iceberg_new_file_t *files = NULL;
        size_t n = 0;
        ls_error_t err;
        ls_error_clear(&err);
        LS_CHECK_INT_EQ(
            ls_iceberg_write_rows(t.schema, t.spec, rows, "file:///w", 0, &files, &n, &err),
            LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(strncmp(err.path, "$.rows[0]", 9) == 0);
        json_decref(rows);
    }
    const char *bad_filters[] = {"",         "nope = 1",         "id ~ 1",
                                 "id = 'x'", "id = 1 OR id = 2", "city = 'unterminated",
                                 "id =",     "day > 'yesterday'"};
    for (size_t i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++) {
        ls_iceberg_filter_t f;
        ls_error_t err;
        LS_CHECK_INT_EQ(ls_iceberg_filter_parse(bad_filters[i], t.schema, &f, &err),
                        LS_ERR_INVALID_ARGUMENT);
    }
    ls_error_t err;
    json_t *none = json_array();
    LS_CHECK_INT_EQ(ls_iceberg_read_rows(t.schema, (const uint8_t *)"PAR1xxxxPAR1", 12, NULL, NULL,
                                         0, -1, none, &err),
                    LS_ERR_INVALID_ARGUMENT);
    json_decref(none);
    free_table(&t);
}

LS_TEST(files_written_before_schema_evolution_read_with_nulls_and_widened_values)
{
    json_t *schema = json_loads("{\"type\":\"struct\",\"fields\":["
                                "{\"name\":\"n\",\"type\":\"int\",\"required\":true}]}",
                                0, NULL);
    ls_error_t err;
    json_t *meta = ls_iceberg_metadata_new(schema, NULL, NULL, "u", "file:///w", 1, &err);
    ls_iceberg_schema_t *s1 = NULL, *s2 = NULL;
    ls_iceberg_spec_t *spec = NULL;
    LS_REQUIRE(ls_iceberg_metadata_schema(meta, -1, &s1, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_iceberg_metadata_spec(meta, -1, s1, &spec, &err) == LS_ERR_OK);
    json_t *rows = json_loads("[{\"n\":7},{\"n\":-3}]", 0, NULL);
    ls_iceberg_new_file_t *files = NULL;
    size_t n = 0;
    LS_REQUIRE(ls_iceberg_write_rows(s1, spec, rows, "file:///w", 0, &files, &n, &err) ==
               LS_ERR_OK);
    LS_REQUIRE(ls_iceberg_metadata_widen_column(meta, "n", "long", &err) == LS_ERR_OK);
    LS_REQUIRE(ls_iceberg_metadata_add_column(meta, "extra", "string", &err) == LS_ERR_OK);
    LS_REQUIRE(ls_iceberg_metadata_schema(meta, -1, &s2, &err) == LS_ERR_OK);
    ls_iceberg_filter_t f;
    LS_REQUIRE(ls_iceberg_filter_parse("n > 0", s2, &f, &err) == LS_ERR_OK);
    json_t *back = json_array();
    LS_REQUIRE(ls_iceberg_read_rows(s2, files[0].bytes, files[0].len, &f, NULL, 0, -1, back,
                                    &err) == LS_ERR_OK);
    char *got = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    LS_CHECK_STR_EQ(got, "[{\"extra\":null,\"n\":7}]");
    free(got);
    ls_iceberg_filter_free(&f);
    json_decref(back);
    json_decref(rows);
    ls_iceberg_new_files_free(files, n);
    ls_iceberg_schema_free(s1);
    ls_iceberg_schema_free(s2);
    ls_iceberg_spec_free(spec);
    json_decref(meta);
    json_decref(schema);
}

LS_TEST(a_partition_is_split_into_files_of_at_most_max_rows)
{
    table_t t = make_table("[{\"source\":\"day\",\"transform\":\"identity\"}]");
    json_t *rows = json_array(); /* 8 rows on each of two days */
    for (int i = 0; i < 16; i++)
        json_array_append_new(
            rows, json_pack("{s:i,s:s}", "id", i, "day", i % 2 ? "2024-01-01" : "2024-01-02"));
    ls_iceberg_new_file_t *files = NULL;
    size_t n = 0;
    ls_error_t err;
    LS_REQUIRE(ls_iceberg_write_rows(t.schema, t.spec, rows, "file:///w", 3, &files, &n, &err) ==
               LS_ERR_OK);
    LS_CHECK_INT_EQ((int)n, 6); /* 8 rows per day -> 3 + 3 + 2, twice */
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        LS_CHECK(files[i].records <= 3);
        total += files[i].records;
    }
    LS_CHECK_INT_EQ(total, 16);
    ls_iceberg_new_files_free(files, n);
    json_decref(rows);
    free_table(&t);
}

LS_TEST_MAIN(LS_T(a_partition_is_split_into_files_of_at_most_max_rows),
             LS_T(rows_are_split_by_partition_and_read_back_exactly),
             LS_T(bad_rows_and_bad_filters_give_clear_errors),
             LS_T(files_written_before_schema_evolution_read_with_nulls_and_widened_values))
