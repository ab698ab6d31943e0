/*
 * objstore_tool: drives lake/objstore from the command line so integration
 * tests can exercise file:// and s3:// stores (s3rver, a fault proxy) with the
 * real code. Prints one JSON object per result line on stdout; errors go to
 * stderr as "error: <code>: <message>" with exit status 1.
 *
 *   objstore_tool [--endpoint URL] [--addressing path|vhost] [--part-size N]
 *                 [--threshold N] [--concurrency N] [--max-attempts N]
 *                 [--retry-base-ms N] [--retry-max-ms N] [--timeout-ms N]
 *                 [--max-get-bytes N]
 *                 STORE_URL COMMAND ARGS...
 *   put KEY FILE | get KEY OUT [OFFSET LENGTH] | head KEY | delete KEY
 *   list PREFIX [MAX_KEYS]          every page; one line per object
 *   lagput KEY MIB                  put MIB MiB while a 10 ms timer measures loop lag
 *   stress PREFIX COUNT SEED        COUNT puts in parallel (sizes 0 B .. 11 MiB),
 *                                   one line per object with its md5
 *
 * It never prints credentials (they come from AWS_* variables).
 */
#include "core/alloc.h"
#include "lake/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t loop;
static ls_objstore_t *store;
static int failures;

static void md5_hex(const uint8_t *p, size_t n, char out[33])
{
    uint8_t md[16];
    unsigned int len = 16;
    EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void report_error(const char *what, const ls_objstore_result_t *r)
{
    fprintf(stderr, "error: %s: %s: %s\n", what, ls_err_name(r->status), r->error.message);
    failures++;
}

static void json_info(const char *op, const ls_objstore_info_t *i, unsigned attempts)
{
    printf("{\"op\":\"%s\",\"key\":\"%s\",\"size\":%llu,\"etag\":\"%s\",\"mtime\":%lld,"
           "\"attempts\":%u}\n",
           op, i->key ? i->key : "", (unsigned long long)i->size, i->etag ? i->etag : "",
           (long long)i->mtime, attempts);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = ls_malloc((size_t)n + 1);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "error: read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- simple commands ---- */

static const char *out_path;

static void on_put(ls_objstore_result_t *r, void *data)
{
    if (r->status != LS_ERR_OK)
        report_error("put", r);
    else
        json_info("put", &r->info, r->attempts);
}

static void on_get(ls_objstore_result_t *r, void *data)
{
    if (r->status != LS_ERR_OK) {
        report_error("get", r);
        return;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(r->body, 1, r->body_len, f) != r->body_len || fclose(f) != 0) {
        fprintf(stderr, "error: write %s\n", out_path);
        failures++;
        return;
    }
    char md5[33];
    md5_hex(r->body, r->body_len, md5);
    printf("{\"op\":\"get\",\"key\":\"%s\",\"size\":%zu,\"md5\":\"%s\",\"attempts\":%u}\n", r->key,
           r->body_len, md5, r->attempts);
}

static void on_head(ls_objstore_result_t *r, void *data)
{
    if (r->status != LS_ERR_OK)
        report_error("head", r);
    else
        json_info("head", &r->info, r->attempts);
}

static void on_delete(ls_objstore_result_t *r, void *data)
{
    if (r->status != LS_ERR_OK)
        report_error("delete", r);
    else
        printf("{\"op\":\"delete\",\"key\":\"%s\",\"attempts\":%u}\n", r->key, r->attempts);
}

typedef struct {
    char *prefix;
    unsigned max_keys;
    int pages;
    size_t total;
} list_state_t;

static void on_list(ls_objstore_result_t *r, void *data)
{
    list_state_t *ls = data;
    if (r->status != LS_ERR_OK) {
        report_error("list", r);
        return;
    }
    ls->pages++;
    for (size_t i = 0; i < r->entry_count; i++)
        json_info("list", &r->entries[i], r->attempts);
    ls->total += r->entry_count;
    if (r->next_continuation_token) {
        ls_error_t err;
        if (ls_objstore_list(store, ls->prefix, r->next_continuation_token, ls->max_keys, on_list,
                             ls, &err) != LS_ERR_OK) {
            fprintf(stderr, "error: list: %s\n", err.message);
            failures++;
        }
        return;
    }
    printf("{\"op\":\"list_done\",\"pages\":%d,\"count\":%zu}\n", ls->pages, ls->total);
}

/* ---- lagput ---- */

typedef struct {
    uv_timer_t timer;
    uint64_t last_ns, max_gap_ns, start_ns;
    uint64_t last_cpu_ns, max_cpu_ns; /* the loop thread's own CPU time between ticks */
    int done;
    size_t len;
    char md5[33];
} lag_state_t;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The wall gap between ticks is what a user sees, but on a loaded machine it
 * also counts time the scheduler gave to other processes; the loop thread's
 * CPU time between ticks counts only work done on the loop, which is what
 * blocking (hashing or file I/O on the loop) would show up in. */
static void lag_tick(uv_timer_t *t)
{
    lag_state_t *s = t->data;
    uint64_t now = uv_hrtime(), cpu = thread_cpu_ns();
    if (now - s->last_ns > s->max_gap_ns)
        s->max_gap_ns = now - s->last_ns;
    if (cpu - s->last_cpu_ns > s->max_cpu_ns)
        s->max_cpu_ns = cpu - s->last_cpu_ns;
    s->last_ns = now;
    s->last_cpu_ns = cpu;
}

static void on_lagput(ls_objstore_result_t *r, void *data)
{
    lag_state_t *s = data;
    uint64_t ms = (uv_hrtime() - s->start_ns) / 1000000;
    uv_close((uv_handle_t *)&s->timer, NULL);
    if (r->status != LS_ERR_OK) {
        report_error("lagput", r);
        return;
    }
    printf("{\"op\":\"lagput\",\"key\":\"%s\",\"size\":%zu,\"md5\":\"%s\",\"etag\":\"%s\","
           "\"ms\":%llu,\"max_tick_gap_ms\":%.1f,\"max_tick_cpu_ms\":%.1f,"
           "\"tick_interval_ms\":10,\"attempts\":%u}\n",
           r->key, s->len, s->md5, r->info.etag ? r->info.etag : "", (unsigned long long)ms,
           (double)s->max_gap_ns / 1e6, (double)s->max_cpu_ns / 1e6, r->attempts);
}

/* ---- stress ---- */

static const size_t stress_sizes[] = {0,       1,       1000,           300 * 1024,
                                      6 << 20, 3 << 20, (11 << 20) + 7, 64 * 1024};

typedef struct {
    char key[256];
    uint8_t *data;
    size_t len;
    char md5[33];
} stress_obj_t;

static void on_stress_put(ls_objstore_result_t *r, void *data)
{
    stress_obj_t *o = data;
    if (r->status != LS_ERR_OK) {
        report_error(o->key, r);
        return;
    }
    printf("{\"op\":\"put\",\"key\":\"%s\",\"size\":%zu,\"md5\":\"%s\",\"etag\":\"%s\","
           "\"attempts\":%u}\n",
           o->key, o->len, o->md5, r->info.etag ? r->info.etag : "", r->attempts);
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static void on_closed(void *data)
{
    *(int *)data = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: objstore_tool [options] STORE_URL put|get|head|delete|list|lagput|"
                    "stress ARGS...\n");
    exit(2);
}

static void check_sync(ls_err_t rc, const ls_error_t *err)
{
    if (rc != LS_ERR_OK) {
        fprintf(stderr, "error: %s: %s\n", ls_err_name(rc), err->message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    ls_objstore_options_t o = {0};
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--endpoint"))
            o.endpoint = v;
        else if (!strcmp(k, "--addressing"))
            o.addressing = !strcmp(v, "vhost")  ? LS_OBJSTORE_ADDRESSING_VHOST
                           : !strcmp(v, "path") ? LS_OBJSTORE_ADDRESSING_PATH
                                                : -1;
        else if (!strcmp(k, "--part-size"))
            o.part_size = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--threshold"))
            o.multipart_threshold = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--concurrency"))
            o.max_concurrency = (unsigned)atoi(v);
        else if (!strcmp(k, "--max-attempts"))
            o.max_attempts = (unsigned)atoi(v);
        else if (!strcmp(k, "--retry-base-ms"))
            o.retry_base_ms = (unsigned)atoi(v);
        else if (!strcmp(k, "--retry-max-ms"))
            o.retry_max_ms = (unsigned)atoi(v);
        else if (!strcmp(k, "--max-get-bytes"))
            o.max_get_bytes = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--timeout-ms"))
            o.request_timeout_ms = (unsigned)atoi(v);
        else
            usage();
    }
    if (argc - i < 2)
        usage();
    const char *url = argv[i], *cmd = argv[i + 1];
    char **args = argv + i + 2;
    int nargs = argc - i - 2;

    uv_loop_init(&loop);
    ls_error_t err;
    check_sync(ls_objstore_open(&loop, url, &o, &store, &err), &err);

    uint8_t *buf = NULL;
    list_state_t list_state = {0};
    lag_state_t lag = {0};
    stress_obj_t *objs = NULL;
    int count = 0;
    if (!strcmp(cmd, "put") && nargs == 2) {
        size_t len;
        buf = read_file(args[1], &len);
        check_sync(ls_objstore_put(store, args[0], buf, len, on_put, NULL, &err), &err);
    } else if (!strcmp(cmd, "get") && (nargs == 2 || nargs == 4)) {
        out_path = args[1];
        if (nargs == 4)
            check_sync(ls_objstore_get_range(store, args[0], strtoull(args[2], NULL, 10),
                                             strtoull(args[3], NULL, 10), on_get, NULL, &err),
                       &err);
        else
            check_sync(ls_objstore_get(store, args[0], on_get, NULL, &err), &err);
    } else if (!strcmp(cmd, "head") && nargs == 1) {
        check_sync(ls_objstore_head(store, args[0], on_head, NULL, &err), &err);
    } else if (!strcmp(cmd, "delete") && nargs == 1) {
        check_sync(ls_objstore_delete(store, args[0], on_delete, NULL, &err), &err);
    } else if (!strcmp(cmd, "list") && (nargs == 1 || nargs == 2)) {
        list_state.prefix = args[0];
        list_state.max_keys = nargs == 2 ? (unsigned)atoi(args[1]) : 0;
        check_sync(
            ls_objstore_list(store, args[0], NULL, list_state.max_keys, on_list, &list_state, &err),
            &err);
    } else if (!strcmp(cmd, "lagput") && nargs == 2) {
        lag.len = (size_t)strtoull(args[1], NULL, 10) << 20;
        buf = ls_malloc(lag.len);
        fill(buf, lag.len, 42);
        md5_hex(buf, lag.len, lag.md5);
        uv_timer_init(&loop, &lag.timer);
        lag.timer.data = &lag;
        check_sync(ls_objstore_put(store, args[0], buf, lag.len, on_lagput, &lag, &err), &err);
        lag.start_ns = lag.last_ns = uv_hrtime();
        lag.last_cpu_ns = thread_cpu_ns();
        uv_timer_start(&lag.timer, lag_tick, 10, 10);
    } else if (!strcmp(cmd, "stress") && nargs == 3) {
        count = atoi(args[1]);
        uint64_t seed = strtoull(args[2], NULL, 10);
        if (count <= 0 || count > 1000)
            usage();
        objs = ls_calloc((size_t)count, sizeof(*objs));
        for (int k = 0; k < count; k++) {
            stress_obj_t *ob = &objs[k];
            snprintf(ob->key, sizeof(ob->key), "%sobj-%03d", args[0], k);
            ob->len = stress_sizes[k % (sizeof(stress_sizes) / sizeof(stress_sizes[0]))];
            ob->data = ls_malloc(ob->len ? ob->len : 1);
            fill(ob->data, ob->len, seed * 1000 + (uint64_t)k);
            md5_hex(ob->data, ob->len, ob->md5);
        }
        for (int k = 0; k < count; k++)
            check_sync(ls_objstore_put(store, objs[k].key, objs[k].data, objs[k].len, on_stress_put,
                                       &objs[k], &err),
                       &err);
    } else {
        usage();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int closed = 0;
    ls_objstore_close(store, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    if (!closed || rc != 0) {
        fprintf(stderr, "error: store did not close cleanly (closed=%d, uv_loop_close=%d)\n",
                closed, rc);
        failures++;
    }
    for (int k = 0; k < count; k++)
        free(objs[k].data);
    free(objs);
    free(buf);
    return failures ? 1 : 0;
}
