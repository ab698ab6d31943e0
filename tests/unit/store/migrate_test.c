/* Tests of schema migrations (server/store/migrate.c) against a live server. */
#include "store/migrate.h"

#include "pg_fixture.h"

typedef struct {
    bool done;
    int applied;
    int version;
    ls_err_t code;
    char message[512];
} mig_t;

static void on_migrated(void *arg, int applied, int version, const ls_error_t *err)
{
    mig_t *m = arg;
    LS_CHECK(!m->done);
    m->done = true;
    m->applied = applied;
    m->version = version;
    m->code = err->code;
    snprintf(m->message, sizeof(m->message), "%s", err->message);
}

static bool mig_done(void *arg)
{
    return ((mig_t *)arg)->done;
}

static mig_t migrate(fx_t *fx, ls_pg_t *pg)
{
    mig_t m = {0};
    ls_error_t err;
    LS_REQUIRE(ls_migrate(pg, on_migrated, &m, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, mig_done, &m, 20000));
    return m;
}

static mig_t migrate_files(fx_t *fx, ls_pg_t *pg, const ls_embedded_file_t *files, size_t n)
{
    mig_t m = {0};
    ls_error_t err;
    LS_REQUIRE(ls_migrate_files(pg, files, n, on_migrated, &m, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(fx, mig_done, &m, 20000));
    return m;
}

/* The embedded migrations, counted independently of migrate.c. */
static int embedded_count(int *highest)
{
    int n = 0;
    *highest = 0;
    for (const ls_embedded_file_t *f = ls_embedded_files; f->path; f++) {
        if (strncmp(f->path, "schemas/sql/", 12) != 0)
            continue;
        n++;
        int v = atoi(f->path + 12);
        if (v > *highest)
            *highest = v;
    }
    return n;
}

LS_TEST(migrations_apply_once_then_report_zero)
{
    int highest;
    int n = embedded_count(&highest);
    LS_REQUIRE(n >= 1);
    LS_CHECK(ls_embedded_find("schemas/sql/0001_init.sql") != NULL);
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 2, NULL);
    mig_t m = migrate(&fx, pg);
    LS_CHECK_INT_EQ(m.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(m.applied, n);
    LS_CHECK_INT_EQ(m.version, highest);

    fx_result_t r = fx_query(
        &fx, pg, "SELECT count(*), min(version), max(version) FROM lakestream_schema_version", 0,
        NULL);
    LS_CHECK_INT_EQ(atoi(r.value[0]), n);
    LS_CHECK_STR_EQ(r.value[1], "1");
    LS_CHECK_INT_EQ(atoi(r.value[2]), highest);
    r = fx_query(&fx, pg, "SELECT name FROM lakestream_schema_version WHERE version = 1", 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "0001_init.sql");

    /* 0001 made the topics table with its defaults. */
    const char *t[3] = {"orders", "3", "1"};
    r = fx_query(&fx, pg,
                 "INSERT INTO topics (name, partitions, replication_factor) VALUES ($1, $2, $3) "
                 "RETURNING config::text, value_subject, created_at <= now()",
                 3, t);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    LS_CHECK_STR_EQ(r.value[0], "{}");
    LS_CHECK(r.isnull[1]);
    LS_CHECK_STR_EQ(r.value[2], "t");
    r = fx_query(&fx, pg,
                 "INSERT INTO topics (name, partitions, replication_factor) VALUES ($1, $2, $3)", 3,
                 t);
    LS_CHECK_INT_EQ(r.code, LS_ERR_ALREADY_EXISTS);

    m = migrate(&fx, pg);
    LS_CHECK_INT_EQ(m.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(m.applied, 0);
    LS_CHECK_INT_EQ(m.version, highest);
    r = fx_query(&fx, pg, "SELECT count(*) FROM lakestream_schema_version", 0, NULL);
    LS_CHECK_INT_EQ(atoi(r.value[0]), n);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(concurrent_migrations_on_two_pools_apply_once)
{
    int highest;
    int n = embedded_count(&highest);
    fx_t fx;
    fx_init(&fx);
    /* Both runs are queued before either pool has a connection, so they
     * reach the server together and only the advisory lock orders them. */
    ls_pg_t *a = fx_open(&fx, fx.dsn, 1, "ls_test_a");
    ls_pg_t *b = fx_open(&fx, fx.dsn, 1, "ls_test_b");
    mig_t ma = {0}, mb = {0};
    ls_error_t err;
    LS_REQUIRE(ls_migrate(a, on_migrated, &ma, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_migrate(b, on_migrated, &mb, &err) == LS_ERR_OK);
    LS_REQUIRE(fx_run_until(&fx, mig_done, &ma, 20000));
    LS_REQUIRE(fx_run_until(&fx, mig_done, &mb, 20000));
    if (ma.code != LS_ERR_OK || mb.code != LS_ERR_OK)
        fprintf(stderr, "a: %s\nb: %s\n", ma.message, mb.message);
    LS_CHECK_INT_EQ(ma.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(mb.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(ma.applied + mb.applied, n);
    LS_CHECK(ma.applied == 0 || mb.applied == 0);
    LS_CHECK_INT_EQ(ma.version, highest);
    LS_CHECK_INT_EQ(mb.version, highest);
    fx_result_t r = fx_query(&fx, a, "SELECT count(*) FROM lakestream_schema_version", 0, NULL);
    LS_CHECK_INT_EQ(atoi(r.value[0]), n);
    fx_close_pool(&fx, a);
    fx_close_pool(&fx, b);
    fx_done(&fx);
}

#define FILE_OF(p, text)                                                                           \
    {                                                                                              \
        p, (const unsigned char *)(text), sizeof(text) - 1                                         \
    }

LS_TEST(multi_statement_files_with_dollar_quotes_and_comments_apply)
{
    static const ls_embedded_file_t files[] = {
        FILE_OF("schemas/sql/0002_fn.sql",
                "-- a comment; with a semicolon\n"
                "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $$\n"
                "BEGIN\n  RETURN x * 2; -- inner ;\nEND;\n$$;\n"
                "/* block ; comment */ CREATE TABLE semi (s text DEFAULT 'a;b');\n"
                "INSERT INTO semi DEFAULT VALUES;\n"),
        FILE_OF("schemas/sql/0001_base.sql", "CREATE TABLE base (x int);"),
    };
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    mig_t m = migrate_files(&fx, pg, files, 2);
    LS_CHECK_INT_EQ(m.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(m.applied, 2);
    LS_CHECK_INT_EQ(m.version, 2);
    fx_result_t r =
        fx_query(&fx, pg, "SELECT twice(21), (SELECT s FROM semi), to_regclass('base') IS NOT NULL",
                 0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "42");
    LS_CHECK_STR_EQ(r.value[1], "a;b");
    LS_CHECK_STR_EQ(r.value[2], "t");
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(failing_migration_names_the_file_and_applies_nothing)
{
    static const ls_embedded_file_t files[] = {
        FILE_OF("schemas/sql/0001_good.sql", "CREATE TABLE good (x int);"),
        FILE_OF("schemas/sql/0002_bad.sql", "CREATE TABLE half (x int);\nSELEC oops;"),
    };
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    mig_t m = migrate_files(&fx, pg, files, 2);
    LS_CHECK_INT_EQ(m.code, LS_ERR_INTERNAL);
    LS_CHECK(strstr(m.message, "0002_bad.sql") != NULL);
    LS_CHECK(strstr(m.message, "syntax error") != NULL);
    LS_CHECK_INT_EQ(m.applied, 0);
    fx_result_t r = fx_query(&fx, pg,
                             "SELECT to_regclass('good') IS NULL, to_regclass('half') IS NULL, "
                             "to_regclass('lakestream_schema_version') IS NULL",
                             0, NULL);
    LS_CHECK_STR_EQ(r.value[0], "t");
    LS_CHECK_STR_EQ(r.value[1], "t");
    LS_CHECK_STR_EQ(r.value[2], "t");
    /* The connection went back to the pool in a usable state. */
    r = fx_query(&fx, pg, "SELECT 1", 0, NULL);
    LS_CHECK_INT_EQ(r.code, LS_ERR_OK);
    fx_close_pool(&fx, pg);
    fx_done(&fx);
}

LS_TEST(badly_named_or_duplicate_migrations_are_rejected)
{
    static const ls_embedded_file_t unnamed[] = {FILE_OF("schemas/sql/init.sql", "SELECT 1;")};
    static const ls_embedded_file_t dup[] = {FILE_OF("schemas/sql/0001_a.sql", "SELECT 1;"),
                                             FILE_OF("schemas/sql/001_b.sql", "SELECT 1;")};
    static const ls_embedded_file_t huge[] = {
        FILE_OF("schemas/sql/99999999999_x.sql", "SELECT 1;")};
    fx_t fx;
    fx_init(&fx);
    ls_pg_t *pg = fx_open(&fx, fx.dsn, 1, NULL);
    mig_t m = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_migrate_files(pg, unnamed, 1, on_migrated, &m, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "init.sql") != NULL);
    LS_CHECK_INT_EQ(ls_migrate_files(pg, dup, 2, on_migrated, &m, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "version 1") != NULL);
    LS_CHECK_INT_EQ(ls_migrate_files(pg, huge, 1, on_migrated, &m, &err), LS_ERR_INVALID_ARGUMENT);
    fx_close_pool(&fx, pg);
    LS_CHECK(!m.done);
    fx_done(&fx);
}

LS_TEST_MAIN(LS_T(migrations_apply_once_then_report_zero),
             LS_T(concurrent_migrations_on_two_pools_apply_once),
             LS_T(multi_statement_files_with_dollar_quotes_and_comments_apply),
             LS_T(failing_migration_names_the_file_and_applies_nothing),
             LS_T(badly_named_or_duplicate_migrations_are_rejected))
