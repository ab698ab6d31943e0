#include "core/config.h"
#include "test.h"

#include <unistd.h>

static ls_err_t load(ls_config_t *cfg, int argc, char **argv, char **envp, ls_error_t *err)
{
    ls_config_action_t action;
    return ls_config_load(cfg, argc, argv, envp, &action, err);
}

LS_TEST(defaults_match_the_api_contract)
{
    ls_config_t cfg;
    ls_error_t err;
    char *argv[] = {"lakestreamd", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 1, argv, NULL, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(cfg.http_addr, "127.0.0.1:8080");
    LS_CHECK_STR_EQ(cfg.registry_addr, "127.0.0.1:8081");
    LS_CHECK_STR_EQ(cfg.grpc_addr, "127.0.0.1:50051");
    LS_CHECK_STR_EQ(cfg.log_level, "info");
    LS_CHECK(!cfg.embedded);
    LS_CHECK_INT_EQ(cfg.pg_pool_size, 4);
    ls_config_free(&cfg);
}

LS_TEST(flags_override_environment_which_overrides_file)
{
    char path[] = "/tmp/ls_config_test_XXXXXX";
    int fd = mkstemp(path);
    LS_REQUIRE(fd >= 0);
    const char *yaml = "pg:\n  dsn: from-file\n  pool_size: 7\nhttp.addr: 127.0.0.1:1111\n"
                       "kafka:\n  bootstrap: filehost:9092\nlog-level: debug\n";
    LS_REQUIRE(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
    close(fd);
    char cfgflag[64];
    snprintf(cfgflag, sizeof(cfgflag), "--config=%s", path);
    char *argv[] = {"lakestreamd", cfgflag, "--http-addr", "0.0.0.0:0", "--embedded", NULL};
    char *envp[] = {"LAKESTREAM_PG_DSN=from-env", "LAKESTREAM_HTTP_ADDR=127.0.0.1:2222",
                    "UNRELATED=1", NULL};
    ls_config_t cfg;
    ls_error_t err;
    LS_CHECK_INT_EQ(load(&cfg, 5, argv, envp, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(cfg.pg_dsn, "from-env");
    LS_CHECK_INT_EQ(cfg.pg_pool_size, 7);
    LS_CHECK_STR_EQ(cfg.http_addr, "0.0.0.0:0");
    LS_CHECK_STR_EQ(cfg.kafka_bootstrap, "filehost:9092");
    LS_CHECK_STR_EQ(cfg.log_level, "debug");
    LS_CHECK(cfg.embedded);
    ls_config_free(&cfg);
    unlink(path);
}

LS_TEST(unknown_keys_and_bad_values_are_errors_naming_the_source)
{
    ls_config_t cfg;
    ls_error_t err;
    char *a1[] = {"lakestreamd", "--no-such-flag", "x", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 3, a1, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "--no-such-flag") != NULL);
    ls_config_free(&cfg);

    char *a2[] = {"lakestreamd", "--pg-pool-size", "0", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 3, a2, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "pg.pool_size") != NULL);
    ls_config_free(&cfg);

    char *a3[] = {"lakestreamd", "--http-addr", "nope", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 3, a3, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    ls_config_free(&cfg);

    char *a4[] = {"lakestreamd", NULL};
    char *env[] = {"LAKESTREAM_EMBEDDED=maybe", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 1, a4, env, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "LAKESTREAM_EMBEDDED") != NULL);
    ls_config_free(&cfg);

    char *a5[] = {"lakestreamd", "--pg-dsn", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 2, a5, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    ls_config_free(&cfg);

    char *a6[] = {"lakestreamd", "--config", "/nonexistent/file.yaml", NULL};
    LS_CHECK_INT_EQ(load(&cfg, 3, a6, NULL, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "/nonexistent/file.yaml") != NULL);
    ls_config_free(&cfg);
}

LS_TEST(yaml_errors_carry_line_numbers)
{
    ls_config_t cfg;
    ls_error_t err;
    ls_config_defaults(&cfg);
    const char *bad = "pg:\n  dsn: x\n  bogus: 1\n";
    LS_CHECK_INT_EQ(ls_config_apply_yaml(&cfg, bad, strlen(bad), "f.yaml", &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "f.yaml:3") != NULL);
    LS_CHECK(strstr(err.message, "pg.bogus") != NULL);
    const char *broken = "pg: [unclosed\n";
    LS_CHECK_INT_EQ(ls_config_apply_yaml(&cfg, broken, strlen(broken), "g.yaml", &err),
                    LS_ERR_INVALID_ARGUMENT);
    const char *list = "http:\n  addr: [1, 2]\n";
    LS_CHECK_INT_EQ(ls_config_apply_yaml(&cfg, list, strlen(list), "h.yaml", &err),
                    LS_ERR_INVALID_ARGUMENT);
    const char *empty = "";
    LS_CHECK_INT_EQ(ls_config_apply_yaml(&cfg, empty, 0, "e.yaml", &err), LS_ERR_OK);
    ls_config_free(&cfg);
}

LS_TEST(help_and_version_actions)
{
    ls_config_t cfg;
    ls_error_t err;
    ls_config_action_t action;
    char *a1[] = {"lakestreamd", "--help", NULL};
    LS_CHECK_INT_EQ(ls_config_load(&cfg, 2, a1, NULL, &action, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(action, LS_CONFIG_HELP);
    ls_config_free(&cfg);
    char *a2[] = {"lakestreamd", "--version", NULL};
    LS_CHECK_INT_EQ(ls_config_load(&cfg, 2, a2, NULL, &action, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(action, LS_CONFIG_VERSION);
    ls_config_free(&cfg);
}

LS_TEST(addresses_parse_with_ipv6_brackets)
{
    char host[64];
    int port;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_config_parse_addr("127.0.0.1:0", host, sizeof(host), &port, &err),
                    LS_ERR_OK);
    LS_CHECK_STR_EQ(host, "127.0.0.1");
    LS_CHECK_INT_EQ(port, 0);
    LS_CHECK_INT_EQ(ls_config_parse_addr("[::1]:8080", host, sizeof(host), &port, &err), LS_ERR_OK);
    LS_CHECK_STR_EQ(host, "::1");
    LS_CHECK_INT_EQ(port, 8080);
    LS_CHECK_INT_EQ(ls_config_parse_addr("host:65536", host, sizeof(host), &port, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_config_parse_addr(":80", host, sizeof(host), &port, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_config_parse_addr("host:", host, sizeof(host), &port, &err),
                    LS_ERR_INVALID_ARGUMENT);
}

LS_TEST_MAIN(LS_T(defaults_match_the_api_contract),
             LS_T(flags_override_environment_which_overrides_file),
             LS_T(unknown_keys_and_bad_values_are_errors_naming_the_source),
             LS_T(yaml_errors_carry_line_numbers), LS_T(help_and_version_actions),
             LS_T(addresses_parse_with_ipv6_brackets))
