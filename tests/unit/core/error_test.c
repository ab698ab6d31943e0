#include "core/error.h"
#include "test.h"

LS_TEST(error_codes_map_to_api_names_and_http_status)
{
    LS_CHECK_STR_EQ(ls_err_name(LS_ERR_INVALID_ARGUMENT), "invalid_argument");
    LS_CHECK_INT_EQ(ls_err_http_status(LS_ERR_INVALID_ARGUMENT), 400);
    LS_CHECK_STR_EQ(ls_err_name(LS_ERR_NOT_FOUND), "not_found");
    LS_CHECK_INT_EQ(ls_err_http_status(LS_ERR_NOT_FOUND), 404);
    LS_CHECK_INT_EQ(ls_err_http_status(LS_ERR_ALREADY_EXISTS), 409);
    LS_CHECK_INT_EQ(ls_err_http_status(LS_ERR_UNAVAILABLE), 503);
    LS_CHECK_INT_EQ(ls_err_http_status(LS_ERR_INTERNAL), 500);
    LS_CHECK_STR_EQ(ls_err_name((ls_err_t)999), "internal");
}

LS_TEST(error_set_fills_message_and_path)
{
    ls_error_t err;
    ls_error_clear(&err);
    ls_err_t rc = ls_error_set_path(&err, LS_ERR_INVALID_ARGUMENT, "$.partitions", "must be %d..%d",
                                    1, 10000);
    LS_CHECK_INT_EQ(rc, LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.message, "must be 1..10000");
    LS_CHECK_STR_EQ(err.path, "$.partitions");
    LS_CHECK_INT_EQ(ls_error_set(NULL, LS_ERR_NOT_FOUND, "x"), LS_ERR_NOT_FOUND);
}

LS_TEST_MAIN(LS_T(error_codes_map_to_api_names_and_http_status),
             LS_T(error_set_fills_message_and_path))
