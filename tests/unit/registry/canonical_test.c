#include <string.h>

#include "registry/canonical.h"
#include "test.h"

/* Cases from the Avro specification's test data (share/test/data/schema-tests.txt). */
typedef struct {
    const char *input, *canonical;
    int64_t fingerprint; /* 0 = not given */
} pcf_case_t;

static const pcf_case_t cases[] = {
    {"\"null\"", "\"null\"", 7195948357588979594LL},
    {"{\"type\":\"null\"}", "\"null\"", 0},
    {"\"boolean\"", "\"boolean\"", -6970731678124411036LL},
    {"\"int\"", "\"int\"", 8247732601305521295LL},
    {"{\"type\":\"int\"}", "\"int\"", 0},
    {"\"long\"", "\"long\"", -3434872931120570953LL},
    {"\"float\"", "\"float\"", 5583340709985441680LL},
    {"\"double\"", "\"double\"", -8181574048448539266LL},
    {"\"bytes\"", "\"bytes\"", 5746618253357095269LL},
    {"\"string\"", "\"string\"", -8142146995180207161LL},
    {"[  ]", "[]", -1241056759729112623LL},
    {"[ \"int\"  ]", "[\"int\"]", -5232228896498058493LL},
    {"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 5392556393470105090LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 5916914534497305771LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", -4616218487480524110LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", "
     "\"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
    {"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", "
     "\"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}",
     7843277075252814651LL},
    {"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":true},\n"
     "{\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
     "\"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},{"
     "\"name\":\"f2\","
     "\"type\":\"int\"}]}",
     -4860222112080293046LL},
    {"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}",
     "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", -6342190197741309591LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"symbols\":[\"A1\", \"A2\"]}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}",
     -4448647247586288245LL},
    {"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
     "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", 1756455273707447556LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", "
     "\"size\":32}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", -3064184465700546786LL},
    {"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}",
     "{\"type\":\"array\",\"items\":\"null\"}", -589620603366471059LL},
    {"{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}",
     -8732877298790414990LL},
    {"{\"name\":\"PigValue\",\"type\":\"record\",\n"
     " \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
     "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":["
     "\"null\",\"int\",\"long\","
     "\"PigValue\"]}]}",
     -1759257747318642341LL},
};

LS_TEST(canonical_form_and_fingerprint_match_the_avro_spec_examples)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *pcf = NULL;
        uint64_t fp = 0;
        ls_error_t err;
        ls_err_t rc = ls_registry_canonical_from_text(cases[i].input, strlen(cases[i].input), &pcf,
                                                      &fp, &err);
        if (rc) {
            fprintf(stderr, "case %zu: %s\n", i, err.message);
            LS_CHECK(rc == LS_ERR_OK);
            continue;
        }
        LS_CHECK_STR_EQ(pcf, cases[i].canonical);
        if (cases[i].fingerprint)
            LS_CHECK(fp == (uint64_t)cases[i].fingerprint);
        free(pcf);
    }
}

LS_TEST(canonical_form_uses_fullnames_for_nested_types_in_the_enclosing_namespace)
{
    const char *s =
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"doc\":\"d\",\"fields\":["
        "{\"name\":\"e\",\"field-id\":3,\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":["
        "\"X\"]}},"
        "{\"name\":\"e2\",\"type\":\"E\",\"default\":\"X\"},"
        "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"c.F\",\"size\":0010}}]}";
    char *pcf = NULL;
    ls_error_t err;
    /* 0010 is not valid JSON: the parser must say so rather than guess. */
    LS_CHECK_INT_EQ(ls_registry_canonical_from_text(s, strlen(s), &pcf, NULL, &err),
                    LS_ERR_INVALID_ARGUMENT);
    const char *s2 =
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"doc\":\"d\",\"fields\":["
        "{\"name\":\"e\",\"field-id\":3,\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":["
        "\"X\"]}},"
        "{\"name\":\"e2\",\"type\":\"E\",\"default\":\"X\"},"
        "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"c.F\",\"size\":10}}]}";
    LS_REQUIRE(ls_registry_canonical_from_text(s2, strlen(s2), &pcf, NULL, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(
        pcf,
        "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":[{\"name\":\"e\",\"type\":{\"name\":"
        "\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"X\"]}},{\"name\":\"e2\",\"type\":\"a.b.E\"},{"
        "\"name\":\"t\",\"type\":\"long\"},{\"name\":\"f\",\"type\":{\"name\":\"c.F\",\"type\":"
        "\"fixed\",\"size\":10}}]}");
    free(pcf);
}

LS_TEST(equal_canonical_forms_for_differently_written_schemas)
{
    const char *a = "{\"type\":\"record\",\"name\":\"x.R\",\"fields\":[{\"name\":\"a\",\"type\":"
                    "\"int\",\"doc\":\"q\"}]}";
    const char *b =
        "{ \"fields\" : [ {\"type\": {\"type\":\"int\"}, \"name\":\"a\", \"default\": 4} ],"
        " \"namespace\": \"x\", \"name\": \"R\", \"type\": \"record\" }";
    uint64_t fa, fb;
    ls_error_t err;
    LS_REQUIRE(ls_registry_canonical_from_text(a, strlen(a), NULL, &fa, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_registry_canonical_from_text(b, strlen(b), NULL, &fb, &err) == LS_ERR_OK);
    LS_CHECK(fa == fb);
    const char *c =
        "{\"type\":\"record\",\"name\":\"x.R\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}";
    uint64_t fc;
    LS_REQUIRE(ls_registry_canonical_from_text(c, strlen(c), NULL, &fc, &err) == LS_ERR_OK);
    LS_CHECK(fa != fc);
}

LS_TEST_MAIN(LS_T(canonical_form_and_fingerprint_match_the_avro_spec_examples),
             LS_T(canonical_form_uses_fullnames_for_nested_types_in_the_enclosing_namespace),
             LS_T(equal_canonical_forms_for_differently_written_schemas))
