/*
 * Server configuration: one table of keys, each settable from a YAML file,
 * the environment and the command line, in increasing precedence (file <
 * environment < flag). Key "pg.dsn" is flag --pg-dsn and variable
 * LAKESTREAM_PG_DSN; '.' and '_' both become '-' in flags and '_' in
 * variables. Unknown keys and ill-typed values are errors, never ignored.
 * Pure: no I/O but reading the named config file (at start, before the loop
 * runs). Any thread.
 */
#ifndef LS_CORE_CONFIG_H
#define LS_CORE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

typedef struct {
    char *config_file;
    bool embedded;
    char *pg_dsn;
    int pg_pool_size;
    char *kafka_bootstrap;
    int kafka_embedded_brokers;
    char *warehouse;
    char *http_addr;
    char *registry_addr;
    char *grpc_addr;
    char *log_level;
    int http_max_body_bytes;
    int http_access_log_sample;
    int shutdown_timeout_ms;
    char *s3_endpoint;
    char *s3_region;
    bool s3_path_style;
} ls_config_t;

/* Fills cfg with the defaults. Free with ls_config_free. */
void ls_config_defaults(ls_config_t *cfg);
void ls_config_free(ls_config_t *cfg);

/* Outcome of parsing the command line besides errors. */
typedef enum { LS_CONFIG_RUN, LS_CONFIG_HELP, LS_CONFIG_VERSION } ls_config_action_t;

/* Loads the full configuration: defaults, then the YAML file named by
 * --config (or LAKESTREAM_CONFIG), then the environment `envp` (NULL-terminated
 * "K=V" strings; pass environ), then argv. On error cfg holds whatever was
 * parsed so far (still free it) and err says which key/flag/line is at fault. */
ls_err_t ls_config_load(ls_config_t *cfg, int argc, char **argv, char **envp,
                        ls_config_action_t *action, ls_error_t *err);

/* Applies the YAML document `text` (used by ls_config_load; exposed for tests).
 * `origin` names the source in error messages. */
ls_err_t ls_config_apply_yaml(ls_config_t *cfg, const char *text, size_t len, const char *origin,
                              ls_error_t *err);

/* Sets one key from a string value (as a flag or variable would). */
ls_err_t ls_config_set(ls_config_t *cfg, const char *key, const char *value, const char *origin,
                       ls_error_t *err);

/* Prints --help: usage and every key with its flag, variable and default. */
void ls_config_print_help(FILE *out);

/* Splits "host:port" (or "[v6]:port"); host is copied into host (size >= 64). */
ls_err_t ls_config_parse_addr(const char *addr, char *host, size_t host_size, int *port,
                              ls_error_t *err);

#endif
