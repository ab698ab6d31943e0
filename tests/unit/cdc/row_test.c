#include <jansson.h>
#include <string.h>

#include "cdc/row.h"
#include "test.h"

static char *value(ls_cdc_kind_t kind, const char *text, bool is_null)
{
    static ls_buf_t b;
    ls_buf_free(&b);
    ls_cdc_value_json(&b, kind, text, text ? strlen(text) : 0, is_null);
    return b.data;
}

LS_TEST(values_become_typed_json)
{
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_INTEGER, "-42", false), "-42");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_INTEGER, NULL, true), "null");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_FLOAT, "1.5e+20", false), "1.5e+20");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_FLOAT, "NaN", false), "\"NaN\"");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_NUMERIC, "220.50", false), "220.50");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_NUMERIC, "12345678901234567890.5", false),
                    "\"12345678901234567890.5\"");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_NUMERIC, "NaN", false), "\"NaN\"");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_BOOL, "t", false), "true");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_BOOL, "f", false), "false");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_JSON, "{\"a\": [1, 2]}", false), "{\"a\": [1, 2]}");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_TIMESTAMPTZ, "2025-01-15T12:24:00.000000Z", false),
                    "\"2025-01-15T12:24:00Z\"");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_TIMESTAMP, "2025-01-15T12:24:00.250000Z", false),
                    "\"2025-01-15T12:24:00.250000Z\"");
    LS_CHECK_STR_EQ(value(LS_CDC_KIND_STRING, "Veg \"Burger\"\n\\", false),
                    "\"Veg \\\"Burger\\\"\\n\\\\\"");
}

LS_TEST(numeric_exactness_counts_significant_digits)
{
    LS_CHECK(ls_cdc_numeric_is_exact_double("0.000001"));
    LS_CHECK(ls_cdc_numeric_is_exact_double("-123456789012345"));
    LS_CHECK(!ls_cdc_numeric_is_exact_double("1234567890123456"));
    LS_CHECK(ls_cdc_numeric_is_exact_double("000123.450"));
    LS_CHECK(!ls_cdc_numeric_is_exact_double("Infinity"));
    LS_CHECK(!ls_cdc_numeric_is_exact_double(""));
    LS_CHECK(!ls_cdc_numeric_is_exact_double("1.2.3"));
}

LS_TEST(strings_are_valid_json_even_with_control_and_bad_utf8)
{
    const char raw[] = "a\x01\xc3\xa9\xff\xe2\x82\xac z";
    ls_buf_t b = LS_BUF_INIT;
    ls_cdc_json_string(&b, raw, sizeof(raw) - 1);
    json_error_t jerr;
    json_t *v = json_loads(b.data, JSON_DECODE_ANY, &jerr);
    LS_REQUIRE(v != NULL);
    LS_CHECK_STR_EQ(json_string_value(v), "a\x01\xc3\xa9\xef\xbf\xbd\xe2\x82\xac z");
    json_decref(v);
    ls_buf_free(&b);
    /* an overlong encoding and a lone surrogate are replaced too */
    const char bad[] = "\xc0\xaf\xed\xa0\x80";
    ls_cdc_json_string(&b, bad, sizeof(bad) - 1);
    v = json_loads(b.data, JSON_DECODE_ANY, &jerr);
    LS_REQUIRE(v != NULL);
    json_decref(v);
    ls_buf_free(&b);
}

LS_TEST_MAIN(LS_T(values_become_typed_json), LS_T(numeric_exactness_counts_significant_digits),
             LS_T(strings_are_valid_json_even_with_control_and_bad_utf8))
