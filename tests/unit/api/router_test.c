#include "api/router.h"
#include "test.h"

static int h_list, h_get, h_del, h_pause;

static ls_route_result_t match(ls_router_t *r, const char *method, const char *path,
                               ls_route_t **route, ls_router_params_t *params, char *allow)
{
    return ls_router_match(r, method, strlen(method), path, strlen(path), route, params, allow, 64);
}

static void build(ls_router_t *r)
{
    ls_router_init(r);
    LS_REQUIRE(ls_router_add(r, "GET", "/api/v1/topics", &h_list, NULL) != NULL);
    LS_REQUIRE(ls_router_add(r, "GET", "/api/v1/topics/{name}", &h_get, NULL) != NULL);
    LS_REQUIRE(ls_router_add(r, "DELETE", "/api/v1/topics/{name}", &h_del, NULL) != NULL);
    LS_REQUIRE(ls_router_add(r, "POST", "/api/v1/chains/{name}:pause", &h_pause, NULL) != NULL);
    LS_REQUIRE(ls_router_add(r, "GET", "/", &h_list, NULL) != NULL);
}

LS_TEST(literal_and_parameter_routes_match_with_decoded_params)
{
    ls_router_t r;
    build(&r);
    ls_route_t *route = NULL;
    ls_router_params_t params;
    char allow[64];
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics", &route, &params, allow), LS_ROUTE_FOUND);
    LS_CHECK(route->handler == &h_list);
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/orders.v1", &route, &params, allow),
                    LS_ROUTE_FOUND);
    LS_CHECK(route->handler == &h_get);
    LS_CHECK_STR_EQ(ls_router_param(&params, "name"), "orders.v1");
    LS_CHECK_INT_EQ(match(&r, "DELETE", "/api/v1/topics/a%2Fb%20c", &route, &params, allow),
                    LS_ROUTE_FOUND);
    LS_CHECK(route->handler == &h_del);
    LS_CHECK_STR_EQ(ls_router_param(&params, "name"), "a/b c");
    LS_CHECK(ls_router_param(&params, "missing") == NULL);
    LS_CHECK_INT_EQ(match(&r, "GET", "/", &route, &params, allow), LS_ROUTE_FOUND);
    ls_router_free(&r);
}

LS_TEST(parameter_with_action_suffix_matches_only_that_action)
{
    ls_router_t r;
    build(&r);
    ls_route_t *route = NULL;
    ls_router_params_t params;
    char allow[64];
    LS_CHECK_INT_EQ(match(&r, "POST", "/api/v1/chains/jupiter:pause", &route, &params, allow),
                    LS_ROUTE_FOUND);
    LS_CHECK(route->handler == &h_pause);
    LS_CHECK_STR_EQ(ls_router_param(&params, "name"), "jupiter");
    LS_CHECK_INT_EQ(match(&r, "POST", "/api/v1/chains/jupiter:resume", &route, &params, allow),
                    LS_ROUTE_NOT_FOUND);
    /* The parameter part must not be empty. */
    LS_CHECK_INT_EQ(match(&r, "POST", "/api/v1/chains/:pause", &route, &params, allow),
                    LS_ROUTE_NOT_FOUND);
    ls_router_free(&r);
}

LS_TEST(unknown_paths_and_wrong_methods_are_told_apart)
{
    ls_router_t r;
    build(&r);
    ls_route_t *route = NULL;
    ls_router_params_t params;
    char allow[64];
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/nothing", &route, &params, allow),
                    LS_ROUTE_NOT_FOUND);
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/a/b", &route, &params, allow),
                    LS_ROUTE_NOT_FOUND);
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/", &route, &params, allow),
                    LS_ROUTE_NOT_FOUND);
    LS_CHECK_INT_EQ(match(&r, "PUT", "/api/v1/topics/x", &route, &params, allow),
                    LS_ROUTE_METHOD_NOT_ALLOWED);
    LS_CHECK_STR_EQ(allow, "GET, DELETE");
    LS_CHECK_INT_EQ(match(&r, "POST", "/api/v1/topics", &route, &params, allow),
                    LS_ROUTE_METHOD_NOT_ALLOWED);
    LS_CHECK_STR_EQ(allow, "GET");
    ls_router_free(&r);
}

LS_TEST(bad_escapes_and_overlong_parameters_are_rejected)
{
    ls_router_t r;
    build(&r);
    ls_route_t *route = NULL;
    ls_router_params_t params;
    char allow[64];
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/%zz", &route, &params, allow),
                    LS_ROUTE_BAD_PATH);
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/ab%4", &route, &params, allow),
                    LS_ROUTE_BAD_PATH);
    LS_CHECK_INT_EQ(match(&r, "GET", "/api/v1/topics/a%00b", &route, &params, allow),
                    LS_ROUTE_BAD_PATH);
    char path[2048] = "/api/v1/topics/";
    memset(path + strlen(path), 'x', 1000);
    LS_CHECK_INT_EQ(match(&r, "GET", path, &route, &params, allow), LS_ROUTE_BAD_PATH);
    ls_router_free(&r);
}

LS_TEST(url_decode_handles_edges)
{
    char out[8];
    LS_CHECK_INT_EQ(ls_url_decode("a%41", 4, out, sizeof(out)), 2);
    LS_CHECK_STR_EQ(out, "aA");
    LS_CHECK_INT_EQ(ls_url_decode("%", 1, out, sizeof(out)), -1);
    LS_CHECK_INT_EQ(ls_url_decode("abcdefgh", 8, out, sizeof(out)), -1);
    LS_CHECK_INT_EQ(ls_url_decode("", 0, out, sizeof(out)), 0);
}

LS_TEST_MAIN(LS_T(literal_and_parameter_routes_match_with_decoded_params),
             LS_T(parameter_with_action_suffix_matches_only_that_action),
             LS_T(unknown_paths_and_wrong_methods_are_told_apart),
             LS_T(bad_escapes_and_overlong_parameters_are_rejected), LS_T(url_decode_handles_edges))
