#include "core/json.h"
#include "core/log.h"
#include "test.h"

#include <stdlib.h>

LS_TEST(unknown_members_are_rejected_with_their_path)
{
    static const char *const allowed[] = {"name", "partitions", NULL};
    json_t *ok = json_pack("{s:s,s:i}", "name", "a", "partitions", 3);
    json_t *bad = json_pack("{s:s,s:i}", "name", "a", "partitons", 3);
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_json_check_members(ok, "$", allowed, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(ls_json_check_members(bad, "$", allowed, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.partitons");
    json_t *arr = json_array();
    LS_CHECK_INT_EQ(ls_json_check_members(arr, "$", allowed, &err), LS_ERR_INVALID_ARGUMENT);
    json_decref(ok);
    json_decref(bad);
    json_decref(arr);
}

LS_TEST(typed_getters_check_type_range_and_presence)
{
    json_t *o = json_pack("{s:s,s:i,s:s,s:b,s:n}", "name", "x", "n", 5, "s", "5", "b", 1, "z");
    ls_error_t err;
    const char *s;
    int64_t i;
    bool b;
    LS_CHECK_INT_EQ(ls_json_get_string(o, "$", "name", true, NULL, &s, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(s, "x");
    LS_CHECK_INT_EQ(ls_json_get_string(o, "$", "n", true, NULL, &s, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.n");
    LS_CHECK_INT_EQ(ls_json_get_string(o, "$", "missing", true, NULL, &s, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_json_get_string(o, "$", "z", false, "dflt", &s, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(s, "dflt");
    LS_CHECK_INT_EQ(ls_json_get_int(o, "$", "n", true, 0, 1, 10, &i, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(i, 5);
    LS_CHECK_INT_EQ(ls_json_get_int(o, "$", "n", true, 0, 6, 10, &i, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_json_get_int(o, "$", "s", true, 0, 1, 10, &i, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_json_get_int(o, "$", "absent", false, 42, 1, 100, &i, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(i, 42);
    LS_CHECK_INT_EQ(ls_json_get_bool(o, "$", "b", false, &b, &err), LS_ERR_OK);
    LS_CHECK(b);
    LS_CHECK_INT_EQ(ls_json_get_bool(o, "$", "name", false, &b, &err), LS_ERR_INVALID_ARGUMENT);
    json_decref(o);
}

LS_TEST(dsn_passwords_are_redacted)
{
    char *a = ls_log_redact_dsn("host=/tmp port=5 password=s3cret user=x");
    LS_CHECK_STR_EQ(a, "host=/tmp port=5 password=*** user=x");
    char *b = ls_log_redact_dsn("postgresql://bob:s3cret@db:5432/lake");
    LS_CHECK_STR_EQ(b, "postgresql://bob:***@db:5432/lake");
    char *c = ls_log_redact_dsn("host=x password='a b\\' c' dbname=y");
    LS_CHECK_STR_EQ(c, "host=x password=*** dbname=y");
    char *d = ls_log_redact_dsn("postgresql:///lakestream");
    LS_CHECK_STR_EQ(d, "postgresql:///lakestream");
    free(a);
    free(b);
    free(c);
    free(d);
}

LS_TEST_MAIN(LS_T(unknown_members_are_rejected_with_their_path),
             LS_T(typed_getters_check_type_range_and_presence), LS_T(dsn_passwords_are_redacted))
