/*
 * The configuration table and its three sources (see config.h). Every key is
 * declared once below with its type, default and help; flags, variables,
 * YAML keys and --help are all derived from that row, so they cannot drift.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"

typedef enum { KEY_STRING, KEY_INT, KEY_BOOL, KEY_ADDR } key_type_t;

typedef struct {
    const char *key;
    key_type_t type;
    size_t offset;
    const char *default_value;
    long min, max; /* KEY_INT bounds */
    const char *help;
} key_t_;

#define F(field) offsetof(ls_config_t, field)

static const key_t_ keys[] = {
    {"embedded", KEY_BOOL, F(embedded), "false", 0, 0,
     "run the in-process Kafka broker and a local warehouse (needs only PostgreSQL)"},
    {"pg.dsn", KEY_STRING, F(pg_dsn), "postgresql:///lakestream", 0, 0,
     "PostgreSQL connection string (libpq keyword/value or URI)"},
    {"pg.pool_size", KEY_INT, F(pg_pool_size), "4", 1, 64, "PostgreSQL connections in the pool"},
    {"kafka.bootstrap", KEY_STRING, F(kafka_bootstrap), "localhost:9092", 0, 0,
     "Kafka bootstrap servers (ignored with --embedded)"},
    {"kafka.embedded_brokers", KEY_INT, F(kafka_embedded_brokers), "1", 1, 9,
     "broker count of the embedded cluster"},
    {"warehouse", KEY_STRING, F(warehouse), "", 0, 0,
     "table warehouse: file:///DIR or s3://BUCKET/PREFIX (default with --embedded: "
     "file://$PWD/var/warehouse)"},
    {"http.addr", KEY_ADDR, F(http_addr), "127.0.0.1:8080", 0, 0,
     "REST API, metrics and dashboard listener (port 0 picks a free port)"},
    {"registry.addr", KEY_ADDR, F(registry_addr), "127.0.0.1:8081", 0, 0,
     "schema registry listener"},
    {"grpc.addr", KEY_ADDR, F(grpc_addr), "127.0.0.1:50051", 0, 0, "gRPC listener"},
    {"log.level", KEY_STRING, F(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"http.max_body_bytes", KEY_INT, F(http_max_body_bytes), "1048576", 1024, 1073741824,
     "largest accepted request body"},
    {"http.access_log_sample", KEY_INT, F(http_access_log_sample), "1", 0, 1000000,
     "log 1 in N successful requests (0: none); errors are always logged"},
    {"shutdown.timeout_ms", KEY_INT, F(shutdown_timeout_ms), "10000", 100, 600000,
     "longest graceful stop before remaining work is abandoned"},
    {"s3.endpoint", KEY_STRING, F(s3_endpoint), "", 0, 0,
     "custom S3 endpoint URL (MinIO, Ceph); empty for AWS"},
    {"s3.region", KEY_STRING, F(s3_region), "us-east-1", 0, 0, "S3 region"},
    {"s3.path_style", KEY_BOOL, F(s3_path_style), "false", 0, 0,
     "path-style S3 addressing (MinIO usually needs true)"},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static void *field(ls_config_t *cfg, const key_t_ *k)
{
    return (char *)cfg + k->offset;
}

/* Keys compare with '.', '_' and '-' treated alike, so "log.level",
 * "log_level" and "log-level" all name the same key in YAML. */
static bool same_key(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = (*a == '_' || *a == '-') ? '.' : *a;
        char y = (*b == '_' || *b == '-') ? '.' : *b;
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

static const key_t_ *find_key(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (same_key(keys[i].key, name))
            return &keys[i];
    return NULL;
}

/* "pg.dsn" -> "pg-dsn" (flag) or "PG_DSN" (variable suffix). */
static void derive_name(const char *key, char *out, size_t size, bool env)
{
    size_t i = 0;
    for (; key[i] != '\0' && i + 1 < size; i++) {
        char c = key[i];
        if (c == '.' || c == '_' || c == '-')
            c = env ? '_' : '-';
        else if (env)
            c = (char)toupper((unsigned char)c);
        out[i] = c;
    }
    out[i] = '\0';
}

ls_err_t ls_config_parse_addr(const char *addr, char *host, size_t host_size, int *port,
                              ls_error_t *err)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "address \"%s\" is not HOST:PORT", addr);
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= host_size)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "address \"%s\" has a bad host", addr);
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || p < 0 || p > 65535)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "address \"%s\" has a bad port", addr);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return LS_ERR_OK;
}

static ls_err_t set_value(ls_config_t *cfg, const key_t_ *k, const char *value, const char *origin,
                          ls_error_t *err)
{
    switch (k->type) {
    case KEY_STRING:
    case KEY_ADDR: {
        if (k->type == KEY_ADDR) {
            char host[256];
            int port;
            if (ls_config_parse_addr(value, host, sizeof(host), &port, err) != LS_ERR_OK)
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: %s: %s", origin, k->key,
                                    err ? err->message : "bad address");
        }
        char **slot = field(cfg, k);
        free(*slot);
        *slot = ls_strdup(value);
        return LS_ERR_OK;
    }
    case KEY_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno != 0 || *end != '\0' || end == value || v < k->min || v > k->max)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "%s: %s must be an integer in %ld..%ld, got \"%s\"", origin, k->key,
                                k->min, k->max, value);
        *(int *)field(cfg, k) = (int)v;
        return LS_ERR_OK;
    }
    case KEY_BOOL: {
        bool v;
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0)
            v = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0)
            v = false;
        else
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "%s: %s must be true or false, got \"%s\"", origin, k->key, value);
        *(bool *)field(cfg, k) = v;
        return LS_ERR_OK;
    }
    }
    return LS_ERR_INTERNAL;
}

ls_err_t ls_config_set(ls_config_t *cfg, const char *key, const char *value, const char *origin,
                       ls_error_t *err)
{
    const key_t_ *k = find_key(key);
    if (k == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: unknown key \"%s\"", origin, key);
    return set_value(cfg, k, value, origin, err);
}

void ls_config_defaults(ls_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < KEY_COUNT; i++)
        set_value(cfg, &keys[i], keys[i].default_value, "default", NULL);
}

void ls_config_free(ls_config_t *cfg)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (keys[i].type == KEY_STRING || keys[i].type == KEY_ADDR) {
            char **slot = field(cfg, &keys[i]);
            free(*slot);
            *slot = NULL;
        }
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
}

/* Walks a YAML mapping, joining nested keys with '.'. */
static ls_err_t apply_yaml_node(ls_config_t *cfg, yaml_document_t *doc, yaml_node_t *node,
                                const char *prefix, const char *origin, ls_error_t *err)
{
    if (node->type != YAML_MAPPING_NODE)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s:%zu: expected a mapping", origin,
                            node->start_mark.line + 1);
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn == NULL || vn == NULL || kn->type != YAML_SCALAR_NODE)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: keys must be scalars", origin);
        char key[256];
        int n = snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "",
                         (const char *)kn->data.scalar.value);
        if (n < 0 || (size_t)n >= sizeof(key))
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s:%zu: key too long", origin,
                                kn->start_mark.line + 1);
        char where[300];
        snprintf(where, sizeof(where), "%s:%zu", origin, kn->start_mark.line + 1);
        if (vn->type == YAML_MAPPING_NODE) {
            ls_err_t rc = apply_yaml_node(cfg, doc, vn, key, origin, err);
            if (rc != LS_ERR_OK)
                return rc;
            continue;
        }
        if (vn->type != YAML_SCALAR_NODE)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s: %s must be a scalar", where,
                                key);
        ls_err_t rc = ls_config_set(cfg, key, (const char *)vn->data.scalar.value, where, err);
        if (rc != LS_ERR_OK)
            return rc;
    }
    return LS_ERR_OK;
}

ls_err_t ls_config_apply_yaml(ls_config_t *cfg, const char *text, size_t len, const char *origin,
                              ls_error_t *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        ls_oom(0);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        ls_err_t rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "%s:%zu: %s", origin,
                                   parser.problem_mark.line + 1,
                                   parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        return rc;
    }
    ls_err_t rc = LS_ERR_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        rc = apply_yaml_node(cfg, &doc, root, "", origin, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static ls_err_t load_file(ls_config_t *cfg, const char *path, ls_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "cannot open config file %s: %s", path,
                            strerror(errno));
    size_t cap = 4096, len = 0;
    char *text = ls_malloc(cap);
    size_t n;
    while ((n = fread(text + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= 16 * 1024 * 1024) {
                fclose(f);
                free(text);
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "config file %s is too large",
                                    path);
            }
            cap *= 2;
            text = ls_realloc(text, cap);
        }
    }
    fclose(f);
    ls_err_t rc = ls_config_apply_yaml(cfg, text, len, path, err);
    free(text);
    return rc;
}

/* Finds the key whose flag spelling is `flag` (without the leading "--"). */
static const key_t_ *find_flag(const char *flag)
{
    char name[128];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        derive_name(keys[i].key, name, sizeof(name), false);
        if (strcmp(name, flag) == 0)
            return &keys[i];
    }
    return NULL;
}

ls_err_t ls_config_load(ls_config_t *cfg, int argc, char **argv, char **envp,
                        ls_config_action_t *action, ls_error_t *err)
{
    ls_config_defaults(cfg);
    *action = LS_CONFIG_RUN;

    /* The config file comes first, so find --config before anything else. */
    const char *file = NULL;
    for (char **e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, "LAKESTREAM_CONFIG=", 18) == 0)
            file = *e + 18;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file != NULL && file[0] != '\0') {
        cfg->config_file = ls_strdup(file);
        ls_err_t rc = load_file(cfg, file, err);
        if (rc != LS_ERR_OK)
            return rc;
    }

    char name[128];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        derive_name(keys[i].key, name, sizeof(name), true);
        char var[160];
        snprintf(var, sizeof(var), "LAKESTREAM_%s=", name);
        size_t vlen = strlen(var);
        for (char **e = envp; e != NULL && *e != NULL; e++) {
            if (strncmp(*e, var, vlen) == 0) {
                var[vlen - 1] = '\0';
                ls_err_t rc = set_value(cfg, &keys[i], *e + vlen, var, err);
                if (rc != LS_ERR_OK)
                    return rc;
                break;
            }
        }
    }
    /* AWS's own variable for the region, below our explicit key. */
    for (char **e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, "AWS_REGION=", 11) == 0 && getenv("LAKESTREAM_S3_REGION") == NULL)
            set_value(cfg, find_key("s3.region"), *e + 11, "AWS_REGION", NULL);

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *action = LS_CONFIG_HELP;
            return LS_ERR_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            *action = LS_CONFIG_VERSION;
            return LS_ERR_OK;
        }
        if (strncmp(arg, "--", 2) != 0)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unexpected argument \"%s\"", arg);
        char flag[128];
        const char *eq = strchr(arg, '=');
        size_t flen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (flen >= sizeof(flag))
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unknown flag %s", arg);
        memcpy(flag, arg + 2, flen);
        flag[flen] = '\0';
        if (strcmp(flag, "config") == 0) {
            if (eq == NULL)
                i++;
            continue;
        }
        const key_t_ *k = find_flag(flag);
        if (k == NULL)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "unknown flag --%s (see lakestreamd --help)", flag);
        const char *value;
        if (eq != NULL)
            value = eq + 1;
        else if (k->type == KEY_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "flag --%s needs a value", flag);
        char origin[140];
        snprintf(origin, sizeof(origin), "--%s", flag);
        ls_err_t rc = set_value(cfg, k, value, origin, err);
        if (rc != LS_ERR_OK)
            return rc;
    }
    return LS_ERR_OK;
}

void ls_config_print_help(FILE *out)
{
    fprintf(out, "Usage: lakestreamd [--config FILE.yaml] [--KEY VALUE ...]\n\n"
                 "Turns Kafka streams into a queryable lakehouse. Every key can be set in the\n"
                 "YAML file (nested or dotted keys), by environment variable, or by flag;\n"
                 "flags override the environment, which overrides the file.\n\n");
    fprintf(out, "  %-28s %-38s %s\n", "FLAG", "VARIABLE", "DEFAULT / MEANING");
    fprintf(out, "  %-28s %-38s %s\n", "--config FILE", "LAKESTREAM_CONFIG", "YAML config file");
    char flag[128], env[128];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        derive_name(keys[i].key, flag, sizeof(flag), false);
        derive_name(keys[i].key, env, sizeof(env), true);
        char f[140], v[160];
        snprintf(f, sizeof(f), "--%s", flag);
        snprintf(v, sizeof(v), "LAKESTREAM_%s", env);
        fprintf(out, "  %-28s %-38s [%s] %s\n", f, v,
                keys[i].default_value[0] ? keys[i].default_value : "unset", keys[i].help);
    }
    fprintf(out, "\nS3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;\n"
                 "AWS_REGION sets s3.region unless LAKESTREAM_S3_REGION does.\n\n"
                 "Exit codes: 0 clean stop; 1 runtime failure; 2 bad configuration or usage;\n"
                 "3 a listener could not bind; 4 the graceful stop timed out.\n");
}
