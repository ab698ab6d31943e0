/* s3:// store without a server: URL and addressing resolution, options from
 * the environment, credentials never in messages, bounded retries with
 * backoff against a closed loopback port, and clean shutdown of the curl
 * multi handle's uv handles (uv_loop_close == 0). The protocol itself is
 * exercised against s3rver in tests/integration/objstore_s3.test.mjs. */
#include "lake/objstore_internal.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
    int calls;
    ls_err_t status;
    char message[512];
    unsigned attempts;
} got_t;

static void record(ls_objstore_result_t *r, void *data)
{
    got_t *g = data;
    g->calls++;
    g->status = r->status;
    g->attempts = r->attempts;
    snprintf(g->message, sizeof(g->message), "%s", r->error.message);
}

static int closed;
static void on_closed(void *data)
{
    closed++;
}

static void close_and_check(uv_loop_t *loop, ls_objstore_t *s)
{
    closed = 0;
    ls_objstore_close(s, on_closed, NULL);
    LS_CHECK_INT_EQ(closed, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    LS_CHECK_INT_EQ(closed, 1);
}

/* A loopback port with nothing listening: bind, read the port, close. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof(a);
    LS_REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    LS_REQUIRE(getsockname(fd, (struct sockaddr *)&a, &n) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

LS_TEST(path_style_and_virtual_host_addressing_resolve_origin_and_host)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_error_t err;
    ls_objstore_t *s;
    ls_objstore_options_t o = {
        .access_key_id = "AK", .secret_access_key = "SK", .endpoint = "http://127.0.0.1:9000/"};
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket/pre/fix/", &o, &s, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls_objstore_scheme(s), "s3");
    LS_CHECK_STR_EQ(ls__objstore_s3_origin(s), "http://127.0.0.1:9000");
    LS_CHECK_STR_EQ(ls__objstore_s3_host(s), "127.0.0.1:9000");
    LS_CHECK_STR_EQ(s->prefix, "pre/fix/");
    close_and_check(&loop, s);

    o.endpoint = "http://s3.localhost:9000";
    o.addressing = LS_OBJSTORE_ADDRESSING_VHOST;
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket", &o, &s, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls__objstore_s3_origin(s), "http://bucket.s3.localhost:9000");
    LS_CHECK_STR_EQ(ls__objstore_s3_host(s), "bucket.s3.localhost:9000");
    LS_CHECK_STR_EQ(s->prefix, "");
    close_and_check(&loop, s);

    /* AWS itself: virtual host in the region's endpoint */
    o.endpoint = NULL;
    o.region = "eu-west-1";
    o.addressing = LS_OBJSTORE_ADDRESSING_AUTO;
    unsetenv("LAKESTREAM_S3_ENDPOINT");
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket", &o, &s, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls__objstore_s3_origin(s), "https://bucket.s3.eu-west-1.amazonaws.com");
    close_and_check(&loop, s);

    /* a dotted bucket cannot be a TLS-valid virtual host: path style */
    LS_REQUIRE(ls_objstore_open(&loop, "s3://my.bucket", &o, &s, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls__objstore_s3_origin(s), "https://s3.eu-west-1.amazonaws.com");
    close_and_check(&loop, s);

    o.endpoint = "http://host/with/path";
    LS_CHECK_INT_EQ(ls_objstore_open(&loop, "s3://bucket", &o, &s, &err), LS_ERR_INVALID_ARGUMENT);
    o.endpoint = "ftp://host";
    LS_CHECK_INT_EQ(ls_objstore_open(&loop, "s3://bucket", &o, &s, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

LS_TEST(endpoint_region_and_credentials_come_from_the_environment)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_error_t err;
    ls_objstore_t *s;
    setenv("LAKESTREAM_S3_ENDPOINT", "http://127.0.0.1:4568", 1);
    setenv("AWS_REGION", "ap-south-1", 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "TOPSECRETVALUE", 1);
    LS_CHECK_INT_EQ(ls_objstore_open(&loop, "s3://bucket", NULL, &s, &err), LS_ERR_UNAUTHENTICATED);
    LS_CHECK(strstr(err.message, "AWS_ACCESS_KEY_ID") != NULL);
    LS_CHECK(strstr(err.message, "TOPSECRETVALUE") == NULL);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket", NULL, &s, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(ls__objstore_s3_origin(s), "http://127.0.0.1:4568");
    LS_CHECK_STR_EQ(s->opts.region, "ap-south-1");
    LS_CHECK_STR_EQ(s->opts.access_key_id, "ENVKEY");
    LS_CHECK_INT_EQ(s->opts.part_size, 8 << 20);
    close_and_check(&loop, s);
    unsetenv("LAKESTREAM_S3_ENDPOINT");
    unsetenv("AWS_REGION");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    LS_CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

LS_TEST(connection_refused_is_retried_a_bounded_number_of_times_with_backoff)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_error_t err;
    ls_objstore_t *s;
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", closed_port());
    ls_objstore_options_t o = {.access_key_id = "AK",
                               .secret_access_key = "VERYSECRETKEY",
                               .endpoint = endpoint,
                               .max_attempts = 4,
                               .retry_base_ms = 40,
                               .retry_max_ms = 80};
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket/pre", &o, &s, &err) == LS_ERR_OK);
    got_t g = {0}, d = {0};
    uint64_t start = uv_hrtime();
    LS_REQUIRE(ls_objstore_head(s, "a b/c+d", record, &g, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_objstore_put(s, "x", "payload", 7, record, &d, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(g.calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t ms = (uv_hrtime() - start) / 1000000;
    LS_CHECK_INT_EQ(g.calls, 1);
    LS_CHECK_INT_EQ(g.status, LS_ERR_UNAVAILABLE);
    LS_CHECK_INT_EQ(g.attempts, 4);
    LS_CHECK(strstr(g.message, "/bucket/pre/a%20b/c%2Bd") != NULL);
    LS_CHECK(strstr(g.message, "after 4 attempts") != NULL);
    LS_CHECK(strstr(g.message, "VERYSECRETKEY") == NULL);
    LS_CHECK_INT_EQ(d.status, LS_ERR_UNAVAILABLE);
    /* three backoffs of at least 20, 40, 40 ms (half of 40, 80, 80) */
    LS_CHECK(ms >= 100);
    printf("4 attempts against a closed port took %llu ms\n", (unsigned long long)ms);
    close_and_check(&loop, s);
    LS_CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

LS_TEST(bad_arguments_fail_synchronously_and_close_rejects_new_work)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_error_t err;
    ls_objstore_t *s;
    ls_objstore_options_t o = {
        .access_key_id = "AK", .secret_access_key = "SK", .endpoint = "http://127.0.0.1:1"};
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket", &o, &s, &err) == LS_ERR_OK);
    got_t g = {0};
    LS_CHECK_INT_EQ(ls_objstore_get(s, "../x", record, &g, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_objstore_get_range(s, "x", 0, (uint64_t)2 << 30, record, &g, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_objstore_put(s, "x", NULL, 5, record, &g, &err), LS_ERR_INVALID_ARGUMENT);
    /* 10001 parts of 5 MiB would exceed S3's part limit; rejected before any I/O */
    ls_objstore_t *small;
    ls_objstore_options_t so = o;
    so.part_size = 5 << 20;
    LS_REQUIRE(ls_objstore_open(&loop, "s3://bucket", &so, &small, &err) == LS_ERR_OK);
    static const uint8_t byte = 0;
    LS_CHECK_INT_EQ(
        ls_objstore_put(small, "huge", &byte, (size_t)10001 * (5 << 20), record, &g, &err),
        LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "10000") != NULL);
    close_and_check(&loop, small);
    closed = 0;
    ls_objstore_close(s, on_closed, NULL);
    LS_CHECK_INT_EQ(ls_objstore_list(s, "", NULL, 0, record, &g, &err), LS_ERR_FAILED_PRECONDITION);
    uv_run(&loop, UV_RUN_DEFAULT);
    LS_CHECK_INT_EQ(closed, 1);
    LS_CHECK_INT_EQ(g.calls, 0);
    LS_CHECK_INT_EQ(uv_loop_close(&loop), 0);
}

LS_TEST_MAIN(LS_T(path_style_and_virtual_host_addressing_resolve_origin_and_host),
             LS_T(endpoint_region_and_credentials_come_from_the_environment),
             LS_T(connection_refused_is_retried_a_bounded_number_of_times_with_backoff),
             LS_T(bad_arguments_fail_synchronously_and_close_rejects_new_work))
