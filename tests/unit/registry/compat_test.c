#include <string.h>

#include "registry/compat.h"
#include "test.h"

static ls_avro_schema_t *parse(const char *text)
{
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    if (ls_avro_schema_parse(text, strlen(text), NULL, &s, &err) != LS_ERR_OK) {
        fprintf(stderr, "schema does not parse: %s\n%s\n", err.message, text);
        abort();
    }
    return s;
}

/* Returns -1 when reader can read writer, else the first reason's type; the
 * first reason's path goes to path_out (may be NULL). */
static int can_read(const char *reader, const char *writer, char *path_out)
{
    ls_avro_schema_t *r = parse(reader), *w = parse(writer);
    ls_compat_result_t res = {0};
    bool ok = ls_compat_can_read(ls_avro_schema_root(r), ls_avro_schema_root(w), &res);
    int type = -1;
    if (!ok) {
        LS_CHECK(res.count > 0);
        if (res.count) {
            type = (int)res.items[0].type;
            if (path_out)
                strcpy(path_out, res.items[0].path);
        }
    } else {
        LS_CHECK_INT_EQ(res.count, 0);
    }
    ls_compat_result_free(&res);
    ls_avro_schema_free(r);
    ls_avro_schema_free(w);
    return type;
}

#define OK (-1)
#define REC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"

LS_TEST(field_added_with_default_is_backward_compatible_and_without_default_is_not)
{
    const char *v1 = REC("{\"name\":\"a\",\"type\":\"int\"}");
    const char *v2_default = REC(
        "{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}");
    const char *v2_plain =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\"}");
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read(v2_default, v1, NULL), OK);
    LS_CHECK_INT_EQ(can_read(v2_plain, v1, path), LS_COMPAT_READER_FIELD_MISSING_DEFAULT_VALUE);
    LS_CHECK_STR_EQ(path, "/fields/1");
    /* Old readers ignore the new writer field either way. */
    LS_CHECK_INT_EQ(can_read(v1, v2_plain, NULL), OK);
    LS_CHECK_INT_EQ(can_read(v1, v2_default, NULL), OK);
}

LS_TEST(field_removed_needs_a_default_in_the_old_reader)
{
    const char *with_b =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":0}");
    const char *with_b_plain =
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}");
    const char *without_b = REC("{\"name\":\"a\",\"type\":\"int\"}");
    LS_CHECK_INT_EQ(can_read(without_b, with_b_plain, NULL), OK); /* backward: new drops b */
    LS_CHECK_INT_EQ(can_read(with_b, without_b, NULL), OK); /* forward ok: old reader has default */
    LS_CHECK_INT_EQ(can_read(with_b_plain, without_b, NULL),
                    LS_COMPAT_READER_FIELD_MISSING_DEFAULT_VALUE);
}

LS_TEST(numeric_promotions_are_one_way)
{
    const char *order[] = {"\"int\"", "\"long\"", "\"float\"", "\"double\""};
    for (int w = 0; w < 4; w++)
        for (int r = 0; r < 4; r++)
            LS_CHECK_INT_EQ(can_read(order[r], order[w], NULL),
                            r >= w ? OK : LS_COMPAT_TYPE_MISMATCH);
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read(REC("{\"name\":\"a\",\"type\":\"int\"}"),
                             REC("{\"name\":\"a\",\"type\":\"long\"}"), path),
                    LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_STR_EQ(path, "/fields/0/type");
    LS_CHECK_INT_EQ(can_read("\"boolean\"", "\"int\"", NULL), LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_INT_EQ(can_read("\"string\"", "\"int\"", NULL), LS_COMPAT_TYPE_MISMATCH);
}

LS_TEST(string_and_bytes_read_each_other)
{
    LS_CHECK_INT_EQ(can_read("\"string\"", "\"bytes\"", NULL), OK);
    LS_CHECK_INT_EQ(can_read("\"bytes\"", "\"string\"", NULL), OK);
    LS_CHECK_INT_EQ(can_read("\"bytes\"", "\"null\"", NULL), LS_COMPAT_TYPE_MISMATCH);
}

#define ENUM(syms) "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[" syms "]}"
#define ENUM_DEF(syms, def)                                                                        \
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[" syms "],\"default\":\"" def "\"}"

LS_TEST(enum_symbols_removed_break_readers_unless_the_reader_has_a_default)
{
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read(ENUM("\"A\",\"B\",\"C\""), ENUM("\"A\",\"B\""), NULL), OK);
    LS_CHECK_INT_EQ(can_read(ENUM("\"A\",\"B\""), ENUM("\"A\",\"B\",\"C\""), path),
                    LS_COMPAT_MISSING_ENUM_SYMBOLS);
    LS_CHECK_STR_EQ(path, "/symbols");
    LS_CHECK_INT_EQ(can_read(ENUM_DEF("\"A\",\"B\"", "A"), ENUM("\"A\",\"B\",\"C\""), NULL), OK);
    LS_CHECK_INT_EQ(
        can_read(ENUM("\"A\""), "{\"type\":\"enum\",\"name\":\"Other\",\"symbols\":[\"A\"]}", path),
        LS_COMPAT_NAME_MISMATCH);
    LS_CHECK_STR_EQ(path, "/name");
}

LS_TEST(union_branches_added_and_removed)
{
    char path[256] = "";
    /* Reader with more branches reads a narrower writer union. */
    LS_CHECK_INT_EQ(can_read("[\"null\",\"int\",\"string\"]", "[\"null\",\"int\"]", NULL), OK);
    /* Writer branch string has no reader branch. */
    LS_CHECK_INT_EQ(can_read("[\"null\",\"int\"]", "[\"null\",\"int\",\"string\"]", path),
                    LS_COMPAT_MISSING_UNION_BRANCH);
    LS_CHECK_STR_EQ(path, "/2");
    /* A union branch reached by promotion. */
    LS_CHECK_INT_EQ(can_read("[\"null\",\"double\"]", "[\"null\",\"int\"]", NULL), OK);
}

LS_TEST(non_union_and_union_convert_when_every_writer_branch_is_readable)
{
    LS_CHECK_INT_EQ(can_read("[\"null\",\"string\"]", "\"string\"", NULL), OK);
    LS_CHECK_INT_EQ(can_read("[\"null\",\"long\"]", "\"string\"", NULL),
                    LS_COMPAT_MISSING_UNION_BRANCH);
    LS_CHECK_INT_EQ(can_read("\"string\"", "[\"string\"]", NULL), OK);
    LS_CHECK_INT_EQ(can_read("\"string\"", "[\"null\",\"string\"]", NULL), LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_INT_EQ(can_read("\"long\"", "[\"int\",\"long\"]", NULL), OK);
}

LS_TEST(nested_records_arrays_and_maps_report_the_inner_path)
{
    const char *w = REC("{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
                        "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
                        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"float\"}}]}}");
    const char *r_ok =
        REC("{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
            "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
            "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"double\"}}]}}");
    const char *r_bad_items =
        REC("{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
            "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
            "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"double\"}}]}}");
    const char *r_bad_values =
        REC("{\"name\":\"n\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
            "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
            "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"}}]}}");
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read(r_ok, w, NULL), OK);
    LS_CHECK_INT_EQ(can_read(w, r_ok, NULL), LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_INT_EQ(can_read(r_bad_items, w, path), LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_STR_EQ(path, "/fields/0/type/fields/0/type/items");
    LS_CHECK_INT_EQ(can_read(r_bad_values, w, path), LS_COMPAT_TYPE_MISMATCH);
    LS_CHECK_STR_EQ(path, "/fields/0/type/fields/1/type/values");
    LS_CHECK_INT_EQ(can_read("{\"type\":\"array\",\"items\":\"int\"}",
                             "{\"type\":\"map\",\"values\":\"int\"}", NULL),
                    LS_COMPAT_TYPE_MISMATCH);
}

LS_TEST(fixed_size_and_name_must_match)
{
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
                             "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", NULL),
                    OK);
    LS_CHECK_INT_EQ(can_read("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
                             "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}", path),
                    LS_COMPAT_FIXED_SIZE_MISMATCH);
    LS_CHECK_STR_EQ(path, "/size");
    LS_CHECK_INT_EQ(can_read("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
                             "{\"type\":\"fixed\",\"name\":\"G\",\"size\":4}", NULL),
                    LS_COMPAT_NAME_MISMATCH);
    /* Namespaces do not matter to the name check, reader aliases do. */
    LS_CHECK_INT_EQ(can_read("{\"type\":\"fixed\",\"name\":\"a.F\",\"size\":4}",
                             "{\"type\":\"fixed\",\"name\":\"b.F\",\"size\":4}", NULL),
                    OK);
    LS_CHECK_INT_EQ(can_read("{\"type\":\"fixed\",\"name\":\"F\",\"aliases\":[\"G\"],\"size\":4}",
                             "{\"type\":\"fixed\",\"name\":\"G\",\"size\":4}", NULL),
                    OK);
}

LS_TEST(reader_aliases_match_renamed_records_and_fields)
{
    const char *w = "{\"type\":\"record\",\"name\":\"old.Rec\",\"fields\":[{\"name\":\"old_f\","
                    "\"type\":\"int\"}]}";
    const char *r = "{\"type\":\"record\",\"name\":\"NewRec\",\"aliases\":[\"old.Rec\"],"
                    "\"fields\":[{\"name\":\"new_f\",\"aliases\":[\"old_f\"],\"type\":\"long\"}]}";
    const char *r_noalias = "{\"type\":\"record\",\"name\":\"NewRec\",\"fields\":[{\"name\":\"new_"
                            "f\",\"type\":\"long\"}]}";
    LS_CHECK_INT_EQ(can_read(r, w, NULL), OK);
    LS_CHECK_INT_EQ(can_read(r_noalias, w, NULL), LS_COMPAT_NAME_MISMATCH);
    /* Aliases are the reader's: the old reader cannot read the renamed writer's field. */
    LS_CHECK_INT_EQ(can_read(w, r, NULL), LS_COMPAT_NAME_MISMATCH);
}

LS_TEST(recursive_types_terminate_and_compare_structurally)
{
    const char *list_int =
        "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";
    const char *list_long =
        "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"long\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";
    LS_CHECK_INT_EQ(can_read(list_long, list_int, NULL), OK);
    LS_CHECK_INT_EQ(can_read(list_int, list_long, NULL), LS_COMPAT_TYPE_MISMATCH);
    const char *named_ref = REC("{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"P\","
                                "\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}},"
                                "{\"name\":\"b\",\"type\":\"P\"}");
    const char *named_ref2 =
        REC("{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":"
            "\"x\",\"type\":\"int\"},"
            "{\"name\":\"y\",\"type\":\"int\"}]}},{\"name\":\"b\",\"type\":\"P\"}");
    char path[256] = "";
    LS_CHECK_INT_EQ(can_read(named_ref, named_ref2, NULL), OK);
    LS_CHECK_INT_EQ(can_read(named_ref2, named_ref, path),
                    LS_COMPAT_READER_FIELD_MISSING_DEFAULT_VALUE);
    LS_CHECK_STR_EQ(path, "/fields/0/type/fields/1");
}

LS_TEST(levels_check_the_right_direction_and_history)
{
    ls_avro_schema_t *v1 = parse(REC("{\"name\":\"a\",\"type\":\"int\"}"));
    ls_avro_schema_t *v2 = parse(
        REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\",\"default\":1}"));
    ls_avro_schema_t *v3 = parse(REC("{\"name\":\"b\",\"type\":\"int\"}"));
    const ls_avro_node_t *hist[] = {ls_avro_schema_root(v1), ls_avro_schema_root(v2)};
    const ls_avro_node_t *c = ls_avro_schema_root(v3);
    ls_compat_result_t res = {0};
    /* v3 reads v2 data (b present) but not v1 data (no b, no default). */
    LS_CHECK(ls_compat_check(LS_COMPAT_BACKWARD, c, hist, 2, &res));
    LS_CHECK(!ls_compat_check(LS_COMPAT_BACKWARD_TRANSITIVE, c, hist, 2, &res));
    LS_REQUIRE(res.count == 1);
    LS_CHECK(strstr(res.items[0].message, "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/0") !=
             NULL);
    LS_CHECK(strstr(res.items[0].message, "previous schema #1") != NULL);
    ls_compat_result_free(&res);
    /* v2 reader of v3 data: a missing, no default. */
    LS_CHECK(!ls_compat_check(LS_COMPAT_FORWARD, c, hist, 2, &res));
    LS_CHECK(!ls_compat_check(LS_COMPAT_FULL, c, hist, 2, &res));
    LS_CHECK(ls_compat_check(LS_COMPAT_NONE, c, hist, 2, &res));
    ls_compat_result_free(&res);
    /* v2 is fully compatible with v1; FULL_TRANSITIVE from v1 as well. */
    LS_CHECK(ls_compat_check(LS_COMPAT_FULL_TRANSITIVE, ls_avro_schema_root(v2), hist, 1, &res));
    LS_CHECK(ls_compat_check(LS_COMPAT_FORWARD_TRANSITIVE, ls_avro_schema_root(v2), hist, 1, &res));
    LS_CHECK_INT_EQ(res.count, 0);
    ls_compat_level_t lvl;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_compat_level_parse("backward_transitive", &lvl, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(lvl, LS_COMPAT_BACKWARD_TRANSITIVE);
    LS_CHECK_INT_EQ(ls_compat_level_parse("SIDEWAYS", &lvl, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(ls_compat_level_name(LS_COMPAT_FULL), "FULL");
    ls_avro_schema_free(v1);
    ls_avro_schema_free(v2);
    ls_avro_schema_free(v3);
}

LS_TEST_MAIN(LS_T(field_added_with_default_is_backward_compatible_and_without_default_is_not),
             LS_T(field_removed_needs_a_default_in_the_old_reader),
             LS_T(numeric_promotions_are_one_way), LS_T(string_and_bytes_read_each_other),
             LS_T(enum_symbols_removed_break_readers_unless_the_reader_has_a_default),
             LS_T(union_branches_added_and_removed),
             LS_T(non_union_and_union_convert_when_every_writer_branch_is_readable),
             LS_T(nested_records_arrays_and_maps_report_the_inner_path),
             LS_T(fixed_size_and_name_must_match),
             LS_T(reader_aliases_match_renamed_records_and_fields),
             LS_T(recursive_types_terminate_and_compare_structurally),
             LS_T(levels_check_the_right_direction_and_history))
