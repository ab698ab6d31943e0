#include <string.h>

#include "avro/schema.h"
#include "core/embedded.h"
#include "registry/canonical.h"
#include "registry/compat.h"
#include "test.h"

static ls_err_t try_parse(const char *text, ls_error_t *err)
{
    ls_avro_schema_t *s = NULL;
    ls_err_t rc = ls_avro_schema_parse(text, strlen(text), NULL, &s, err);
    ls_avro_schema_free(s);
    return rc;
}

static ls_avro_schema_t *embedded_schema(const char *path)
{
    const ls_embedded_file_t *f = ls_embedded_find(path);
    LS_REQUIRE(f != NULL);
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    if (ls_avro_schema_parse((const char *)f->data, f->len, NULL, &s, &err) != LS_ERR_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        abort();
    }
    return s;
}

LS_TEST(project_schemas_parse_and_v2_is_backward_and_forward_compatible_with_v1)
{
    ls_avro_schema_t *v1 = embedded_schema("schemas/avro/vqe_decorated_result.avsc");
    ls_avro_schema_t *v2 = embedded_schema("schemas/avro/vqe_decorated_result.v2.avsc");
    ls_avro_schema_t *alert = embedded_schema("schemas/avro/alert.avsc");
    ls_avro_schema_t *order = embedded_schema("schemas/avro/order.avsc");
    const ls_avro_node_t *prev[] = {ls_avro_schema_root(v1)};
    ls_compat_result_t res = {0};
    LS_CHECK(ls_compat_check(LS_COMPAT_BACKWARD, ls_avro_schema_root(v2), prev, 1, &res));
    LS_CHECK(ls_compat_check(LS_COMPAT_FULL_TRANSITIVE, ls_avro_schema_root(v2), prev, 1, &res));
    LS_CHECK_INT_EQ(res.count, 0);
    /* ...and v2 really differs, or the check above would prove nothing. */
    char *c1 = ls_registry_canonical_form(ls_avro_schema_root(v1));
    char *c2 = ls_registry_canonical_form(ls_avro_schema_root(v2));
    LS_CHECK(strcmp(c1, c2) != 0);
    free(c1);
    free(c2);
    const ls_avro_node_t *vqe = ls_avro_schema_root(v1);
    LS_CHECK_STR_EQ(vqe->fullname, "quantum_pipeline.VQEDecoratedResult");
    LS_CHECK(ls_avro_schema_find_named(v1, "quantum_pipeline.ComplexNumber") != NULL);
    LS_CHECK(ls_avro_schema_find_named(v1, "quantum_pipeline.HamiltonianTerm") != NULL);
    LS_CHECK(ls_avro_schema_find_named(v1, "quantum_pipeline.VQEProcess") != NULL);
    const ls_avro_node_t *cand = ls_avro_schema_root(alert)->fields[4].type;
    LS_CHECK_STR_EQ(cand->fullname, "ztf.candidate");
    LS_CHECK(cand->field_count >= 100);
    LS_CHECK(ls_avro_record_field_index(cand, "ssnamenr") >= 0);
    LS_CHECK(ls_avro_record_field_index(cand, "drb") >= 0);
    const ls_avro_node_t *ord = ls_avro_schema_root(order);
    LS_CHECK_INT_EQ(ord->fields[6].type->logical, LS_AVRO_LOGICAL_TIMESTAMP_MICROS);
    LS_CHECK_INT_EQ(ord->fields[5].type->symbol_count, 4);
    ls_avro_schema_free(v1);
    ls_avro_schema_free(v2);
    ls_avro_schema_free(alert);
    ls_avro_schema_free(order);
}

LS_TEST(schema_keeps_defaults_docs_aliases_custom_attributes_and_original_text)
{
    const char *text =
        "{\"type\":\"record\",\"name\":\"T\",\"namespace\":\"n.s\",\"doc\":\"top\",\"aliases\":["
        "\"Old\",\"x.Y\"],"
        "\"iceberg-id\":7,\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":5,\"doc\":\"A\","
        "\"field-id\":1,\"aliases\":[\"aa\"],\"order\":\"descending\"},"
        "{\"name\":\"d\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,"
        "\"scale\":2}},"
        "{\"name\":\"u\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
        "{\"name\":\"bad_logical\",\"type\":{\"type\":\"string\",\"logicalType\":\"date\"}},"
        "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}},"
        "{\"name\":\"dt\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
        "{\"name\":\"tm\",\"type\":{\"type\":\"long\",\"logicalType\":\"time-micros\"}},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"Dec\",\"size\":4,\"logicalType\":"
        "\"decimal\",\"precision\":9}}]}";
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_avro_schema_parse(text, strlen(text), NULL, &s, &err) == LS_ERR_OK);
    const ls_avro_node_t *r = ls_avro_schema_root(s);
    LS_CHECK_STR_EQ(r->fullname, "n.s.T");
    LS_CHECK_STR_EQ(r->doc, "top");
    LS_REQUIRE(r->alias_count == 2);
    LS_CHECK_STR_EQ(r->aliases[0], "n.s.Old");
    LS_CHECK_STR_EQ(r->aliases[1], "x.Y");
    LS_CHECK_INT_EQ(json_integer_value(ls_avro_node_attribute(r, "iceberg-id")), 7);
    LS_CHECK_INT_EQ(json_integer_value(r->fields[0].default_value), 5);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(r->fields[0].json, "field-id")), 1);
    LS_CHECK_STR_EQ(r->fields[0].aliases[0], "aa");
    LS_CHECK_INT_EQ(r->fields[0].order, LS_AVRO_ORDER_DESCENDING);
    LS_CHECK_INT_EQ(r->fields[1].type->logical, LS_AVRO_LOGICAL_DECIMAL);
    LS_CHECK_INT_EQ(r->fields[1].type->precision, 9);
    LS_CHECK_INT_EQ(r->fields[1].type->scale, 2);
    LS_CHECK_INT_EQ(r->fields[2].type->logical, LS_AVRO_LOGICAL_UUID);
    LS_CHECK_INT_EQ(r->fields[3].type->logical,
                    LS_AVRO_LOGICAL_NONE); /* date on string: ignored per spec */
    LS_CHECK_INT_EQ(r->fields[4].type->logical, LS_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS);
    LS_CHECK_INT_EQ(r->fields[5].type->logical, LS_AVRO_LOGICAL_DATE);
    LS_CHECK_INT_EQ(r->fields[6].type->logical, LS_AVRO_LOGICAL_TIME_MICROS);
    LS_CHECK_INT_EQ(r->fields[7].type->logical,
                    LS_AVRO_LOGICAL_DECIMAL); /* 4 bytes hold 9 digits */
    LS_CHECK(r->fields[1].default_value == NULL);
    size_t len;
    LS_CHECK_STR_EQ(ls_avro_schema_text(s, &len), text);
    LS_CHECK_INT_EQ(len, strlen(text));
    ls_avro_schema_free(s);
}

LS_TEST(named_references_resolve_through_namespaces)
{
    const char *text =
        "{\"type\":\"record\",\"name\":\"a.R\",\"fields\":["
        "{\"name\":\"x\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},"
        "{\"name\":\"y\",\"type\":\"E\"},{\"name\":\"z\",\"type\":\"a.E\"},"
        "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":\"I\",\"namespace\":\"b\","
        "\"fields\":["
        "{\"name\":\"e\",\"type\":\"a.E\"},{\"name\":\"self\",\"type\":[\"null\",\"I\"]}]}}]}";
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_avro_schema_parse(text, strlen(text), NULL, &s, &err) == LS_ERR_OK);
    const ls_avro_node_t *r = ls_avro_schema_root(s);
    LS_CHECK(r->fields[0].type == r->fields[1].type);
    LS_CHECK(r->fields[0].type == r->fields[2].type);
    const ls_avro_node_t *in = r->fields[3].type;
    LS_CHECK_STR_EQ(in->fullname, "b.I");
    LS_CHECK(in->fields[1].type->branches[1] == in);
    ls_avro_schema_free(s);
    /* "E" inside namespace b does not see a.E. */
    LS_CHECK_INT_EQ(
        try_parse(
            "{\"type\":\"record\",\"name\":\"a.R\",\"fields\":["
            "{\"name\":\"x\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},"
            "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":\"b.I\",\"fields\":["
            "{\"name\":\"e\",\"type\":\"E\"}]}}]}",
            &err),
        LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "unknown type \"E\"") != NULL);
}

LS_TEST(invalid_schemas_are_rejected_with_a_clear_message)
{
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
         "\"default\":\"x\"}]}",
         "/fields/0/default"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\","
         "\"int\"],\"default\":1}]}",
         "does not match"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
         "\"default\":3000000000}]}",
         "default"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}",
         "unknown type \"nope\""},
        {"{\"type\":\"record\",\"name\":\"R\"}", "fields"},
        {"{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}", "invalid name"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{"
         "\"name\":\"a\",\"type\":\"int\"}]}",
         "duplicate field"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}", "duplicate enum symbol"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
         "enum default"},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "size"},
        {"[\"int\",\"int\"]", "two branches"},
        {"[\"null\",[\"int\"]]", "union cannot directly contain a union"},
        {"{\"type\":\"array\"}", "items"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"record\",\"name\":\"R\",\"fields\":[]}}]}",
         "defined twice"},
        {"{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "cannot be called"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
         "\"order\":\"up\"}]}",
         "order"},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}x", "JSON"},
        {"42", "must be a string, an object or an array"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\","
         "\"default\":\"\\u0100\"}]}",
         "default"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ls_error_t err;
        ls_error_clear(&err);
        ls_err_t rc = try_parse(cases[i].text, &err);
        LS_CHECK_INT_EQ(rc, LS_ERR_INVALID_ARGUMENT);
        if (!strstr(err.message, cases[i].needle)) {
            fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, err.message,
                    cases[i].needle);
            LS_CHECK(!"message names the problem");
        }
    }
}

LS_TEST(deeply_nested_schema_is_rejected_not_recursed_into)
{
    char text[8192] = "";
    for (int i = 0; i < 200; i++)
        strcat(text, "{\"type\":\"array\",\"items\":");
    strcat(text, "\"int\"");
    for (int i = 0; i < 200; i++)
        strcat(text, "}");
    ls_error_t err;
    LS_CHECK_INT_EQ(try_parse(text, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "deeper") != NULL);
}

LS_TEST_MAIN(LS_T(project_schemas_parse_and_v2_is_backward_and_forward_compatible_with_v1),
             LS_T(schema_keeps_defaults_docs_aliases_custom_attributes_and_original_text),
             LS_T(named_references_resolve_through_namespaces),
             LS_T(invalid_schemas_are_rejected_with_a_clear_message),
             LS_T(deeply_nested_schema_is_rejected_not_recursed_into))
