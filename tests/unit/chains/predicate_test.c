/* The `where` predicate language: each operator, SQL NULL semantics and
 * syntax errors with positions. */
#include <string.h>

#include "chains/predicate.h"
#include "test.h"

/* Fields: a (int), b (double), s (string), n (null), t (bool true), x.y.z (int) */
static const char *const names[] = {"a", "b", "s", "n", "t", "x.y.z", NULL};

static ls_field_t resolve(void *arg, const char *path)
{
    (void)arg;
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], path) == 0)
            return i;
    return -1;
}

static ls_value_t fields[6];

static void setup(void)
{
    fields[0] = (ls_value_t){.kind = LS_VALUE_INT, .v.i = 5};
    fields[1] = (ls_value_t){.kind = LS_VALUE_DOUBLE, .v.d = 0.95};
    fields[2] = (ls_value_t){.kind = LS_VALUE_STRING, .ptr = (const uint8_t *)"Jupiter", .len = 7};
    fields[3] = (ls_value_t){.kind = LS_VALUE_NULL};
    fields[4] = (ls_value_t){.kind = LS_VALUE_BOOL, .v.b = true};
    fields[5] = (ls_value_t){.kind = LS_VALUE_INT, .v.i = -3};
}

static int eval(const char *text)
{
    ls_predicate_t *p;
    ls_error_t err;
    if (ls_predicate_compile(text, resolve, NULL, &p, &err) != LS_ERR_OK) {
        fprintf(stderr, "compile failed: %s: %s\n", text, err.message);
        return -1;
    }
    int r = ls_predicate_eval(p, fields, 6);
    ls_predicate_free(p);
    return r;
}

static void check_error(const char *text, const char *fragment)
{
    ls_predicate_t *p = NULL;
    ls_error_t err;
    ls_err_t rc = ls_predicate_compile(text, resolve, NULL, &p, &err);
    LS_CHECK_INT_EQ(rc, LS_ERR_INVALID_ARGUMENT);
    if (rc == LS_ERR_OK) {
        ls_predicate_free(p);
        return;
    }
    if (strstr(err.message, fragment) == NULL)
        fprintf(stderr, "for %s: message \"%s\" lacks \"%s\"\n", text, err.message, fragment);
    LS_CHECK(strstr(err.message, fragment) != NULL);
}

LS_TEST(comparisons_on_numbers_strings_and_booleans)
{
    setup();
    LS_CHECK_INT_EQ(eval("a = 5"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a == 6"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a != 6"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a <> 5"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a < 5"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a <= 5"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("b > 0.9"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("b >= 0.96"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a > 4.5"), LS_PRED_TRUE); /* int vs double */
    LS_CHECK_INT_EQ(eval("x.y.z = -3"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s = 'Jupiter'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s = 'jupiter'"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("s < 'K'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("t = TRUE"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("t"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("'it''s' = 'it''s'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("5 = a"), LS_PRED_TRUE);
}

LS_TEST(boolean_connectives_and_precedence)
{
    setup();
    LS_CHECK_INT_EQ(eval("a = 5 AND b > 0.9"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a = 5 and b > 0.99"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a = 1 OR b > 0.9"), LS_PRED_TRUE);
    /* AND binds tighter than OR */
    LS_CHECK_INT_EQ(eval("a = 1 AND b > 0.9 OR a = 5"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a = 1 AND (b > 0.9 OR a = 5)"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("NOT a = 5"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("NOT NOT a = 5"), LS_PRED_TRUE);
}

LS_TEST(in_between_like)
{
    setup();
    LS_CHECK_INT_EQ(eval("a IN (1, 5, 7)"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a NOT IN (1, 5, 7)"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a IN (1, 2)"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("s IN ('Saturn', 'Jupiter')"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a BETWEEN 5 AND 6"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("a BETWEEN 6 AND 7"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a NOT BETWEEN 6 AND 7"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("b BETWEEN 0.9 AND 1 AND a = 5"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s LIKE 'Jup%'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s LIKE '%pit%'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s LIKE 'J_piter'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s LIKE 'J_pit'"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("s LIKE '%r'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s NOT LIKE 'Sat%'"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("s LIKE '%%%'"), LS_PRED_TRUE);
}

LS_TEST(null_semantics_are_three_valued)
{
    setup();
    LS_CHECK_INT_EQ(eval("n IS NULL"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("n IS NOT NULL"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("a IS NULL"), LS_PRED_FALSE);
    LS_CHECK_INT_EQ(eval("n = 1"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n != 1"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("NOT n = 1"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n = NULL"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n = 1 AND a = 6"), LS_PRED_FALSE); /* UNKNOWN AND FALSE */
    LS_CHECK_INT_EQ(eval("n = 1 AND a = 5"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n = 1 OR a = 5"), LS_PRED_TRUE); /* UNKNOWN OR TRUE */
    LS_CHECK_INT_EQ(eval("n = 1 OR a = 6"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n IN (1, 2)"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("a IN (1, NULL)"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("a IN (5, NULL)"), LS_PRED_TRUE);
    LS_CHECK_INT_EQ(eval("n BETWEEN 1 AND 2"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("n LIKE 'x%'"), LS_PRED_UNKNOWN);
    LS_CHECK_INT_EQ(eval("s = 5"), LS_PRED_UNKNOWN); /* type mismatch */
}

LS_TEST(syntax_errors_name_the_position)
{
    check_error("a = ", "at position 5: expected a field path or a literal");
    check_error("a = 5 AND", "at position 10");
    check_error("(a = 5", "at position 7: expected ')'");
    check_error("a = 5)", "at position 6: expected AND, OR or the end");
    check_error("s = 'open", "at position 5: unterminated string literal");
    check_error("nosuch > 1", "at position 1: unknown field");
    check_error("a IN 1, 2", "at position 6: expected '(' after IN");
    check_error("a BETWEEN 1 OR 2", "at position 13: expected AND in BETWEEN");
    check_error("a IS 5", "expected NULL or NOT NULL");
    check_error("s LIKE a", "expected a 'pattern' string");
    check_error("a # 1", "at position 3: unexpected character");
    check_error("", "expected an expression");
    check_error("a..b = 1", "invalid field path");
    check_error("a = 1e999", "invalid number");
    char deep[400];
    memset(deep, '(', 200);
    strcpy(deep + 200, "a = 1");
    check_error(deep, "nested too deeply");
}

LS_TEST_MAIN(LS_T(comparisons_on_numbers_strings_and_booleans),
             LS_T(boolean_connectives_and_precedence), LS_T(in_between_like),
             LS_T(null_semantics_are_three_valued), LS_T(syntax_errors_name_the_position))
