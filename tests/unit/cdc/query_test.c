#include <stdlib.h>
#include <string.h>

#include "cdc/query.h"
#include "test.h"

LS_TEST(identifiers_reject_injection_and_accept_reference_names)
{
    LS_CHECK(ls_cdc_ident_valid("orders"));
    LS_CHECK(ls_cdc_ident_valid("2025em1100506_orders"));
    LS_CHECK(ls_cdc_ident_valid("Created_At$"));
    LS_CHECK(!ls_cdc_ident_valid(""));
    LS_CHECK(!ls_cdc_ident_valid("orders; DROP TABLE orders"));
    LS_CHECK(!ls_cdc_ident_valid("a\"b"));
    LS_CHECK(!ls_cdc_ident_valid("a b"));
    LS_CHECK(!ls_cdc_ident_valid("x--"));
    char longname[70];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    LS_CHECK(!ls_cdc_ident_valid(longname));
    longname[63] = '\0';
    LS_CHECK(ls_cdc_ident_valid(longname));
}

LS_TEST(quote_doubles_inner_quotes)
{
    ls_buf_t b = LS_BUF_INIT;
    ls_cdc_quote_ident(&b, "we\"ird");
    LS_CHECK_STR_EQ(b.data, "\"we\"\"ird\"");
    ls_buf_free(&b);
}

LS_TEST(table_names_split_into_schema_and_table)
{
    char schema[64], table[64];
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_cdc_parse_table("orders", schema, table, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(schema, "public");
    LS_CHECK_STR_EQ(table, "orders");
    LS_CHECK_INT_EQ(ls_cdc_parse_table("shop.orders", schema, table, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(schema, "shop");
    LS_CHECK_STR_EQ(table, "orders");
    LS_CHECK_INT_EQ(ls_cdc_parse_table("a.b.c", schema, table, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.table");
    LS_CHECK_INT_EQ(ls_cdc_parse_table("orders\"; drop table x; --", schema, table, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_cdc_parse_table(".orders", schema, table, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_cdc_parse_table("orders.", schema, table, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_cdc_parse_table("", schema, table, &err), LS_ERR_INVALID_ARGUMENT);
}

LS_TEST(poll_sql_is_a_keyset_query_below_the_horizon)
{
    ls_cdc_column_t cols[] = {{"order_id", LS_CDC_KIND_INTEGER},
                              {"created_at", LS_CDC_KIND_TIMESTAMPTZ}};
    char *sql = ls_cdc_poll_sql("public", "orders", "created_at", true, "order_id", "int8", cols, 2,
                                500, true);
    LS_CHECK(strstr(sql,
                    "(src.\"created_at\", src.\"order_id\") > ('epoch'::timestamptz + $1::int8 * "
                    "interval '1 microsecond', $2::int8)") != NULL);
    LS_CHECK(strstr(sql, "src.\"created_at\" < 'epoch'::timestamptz + $3::int8") != NULL);
    LS_CHECK(strstr(sql, "ORDER BY src.\"created_at\", src.\"order_id\" LIMIT 500") != NULL);
    LS_CHECK(strstr(sql, "FROM \"public\".\"orders\" AS src") != NULL);
    free(sql);
    sql = ls_cdc_poll_sql("public", "orders", "ts", false, "id", "text", cols, 1, 10, false);
    LS_CHECK(strstr(sql, "$1::int8 * interval '1 microsecond') AT TIME ZONE") != NULL);
    LS_CHECK(strstr(sql, "$2") == NULL);
    LS_CHECK(strstr(sql, "WHERE src.\"ts\" > '-infinity'") != NULL);
    /* nothing the planner cannot match to an index on (ts, key) */
    LS_CHECK(strstr(sql, "isfinite(src.") == NULL);
    free(sql);
}

LS_TEST(channel_name_is_a_fixed_identifier_per_source)
{
    char a[64], b[64], c[64];
    ls_cdc_channel_name("orders-cdc", a, sizeof(a));
    ls_cdc_channel_name("orders-cdc", b, sizeof(b));
    ls_cdc_channel_name("orders_cdc", c, sizeof(c));
    LS_CHECK_STR_EQ(a, b);
    LS_CHECK(strcmp(a, c) != 0);
    LS_CHECK_INT_EQ((int)strlen(a), 31);
    LS_CHECK(ls_cdc_ident_valid(a));
    char *sql = ls_cdc_notify_trigger_sql("public", "orders", a);
    LS_CHECK(strstr(sql, "AFTER INSERT OR UPDATE ON \"public\".\"orders\"") != NULL);
    free(sql);
}

LS_TEST(key_types_are_limited_to_orderable_scalars)
{
    LS_CHECK_STR_EQ(ls_cdc_key_cast(23), "int8");
    LS_CHECK_STR_EQ(ls_cdc_key_cast(1043), "text");
    LS_CHECK_STR_EQ(ls_cdc_key_cast(2950), "uuid");
    LS_CHECK(ls_cdc_key_cast(114) == NULL); /* json */
    LS_CHECK(ls_cdc_key_cast(1184) == NULL);
    LS_CHECK_INT_EQ(ls_cdc_kind_for_type(1700), LS_CDC_KIND_NUMERIC);
    LS_CHECK_INT_EQ(ls_cdc_kind_for_type(1184), LS_CDC_KIND_TIMESTAMPTZ);
    LS_CHECK_INT_EQ(ls_cdc_kind_for_type(25), LS_CDC_KIND_STRING);
}

LS_TEST_MAIN(LS_T(identifiers_reject_injection_and_accept_reference_names),
             LS_T(quote_doubles_inner_quotes), LS_T(table_names_split_into_schema_and_table),
             LS_T(poll_sql_is_a_keyset_query_below_the_horizon),
             LS_T(channel_name_is_a_fixed_identifier_per_source),
             LS_T(key_types_are_limited_to_orderable_scalars))
