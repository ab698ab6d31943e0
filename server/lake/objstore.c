/*
 * Object-store front end: parses the store URL, resolves option defaults
 * (environment included), validates keys and arguments, and owns the life
 * cycle of operations so every backend keeps the libuv contract the same
 * way. It never performs I/O itself and never logs credentials.
 */
#include "lake/objstore_internal.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)

static char *dup_or_env(const char *value, const char *env)
{
    if (value && *value)
        return ls_strdup(value);
    const char *e = env ? getenv(env) : NULL;
    return e && *e ? ls_strdup(e) : NULL;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_sequence_length(const unsigned char *p, size_t left)
{
    size_t n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || (p[0] >= 0xF0 && n != 4) || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

ls_err_t ls_objstore_check_key(const char *key, ls_error_t *err)
{
    if (key == NULL || *key == '\0')
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "object key is empty");
    size_t len = strlen(key);
    if (len > LS_OBJSTORE_MAX_KEY)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "object key is %zu bytes (max %d)", len,
                            LS_OBJSTORE_MAX_KEY);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "object key has a control character or backslash at byte %zu", i);
        if (c >= 0x80) {
            size_t n = utf8_sequence_length((const unsigned char *)key + i, len - i);
            if (n == 0)
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                    "object key is not valid UTF-8 at byte %zu", i);
            i += n - 1;
        }
    }
    const char *seg = key;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "object key \"%s\" has an empty path segment", key);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "object key \"%s\" has a \".\" or \"..\" segment", key);
        if (n > 255)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "object key \"%s\" has a segment over 255 bytes", key);
        if (n >= 7 && memcmp(seg, ".lstmp.", 7) == 0)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "object key \"%s\" uses the reserved temp prefix .lstmp.", key);
        if (!end)
            break;
        seg = end + 1;
    }
    return LS_ERR_OK;
}

static ls_err_t resolve_options(ls_objstore_t *s, const ls_objstore_options_t *in, int is_s3,
                                ls_error_t *err)
{
    ls_objstore_options_t o = in ? *in : (ls_objstore_options_t){0};
    ls_objstore_options_t *r = &s->opts;
    *r = o;
    r->region = dup_or_env(o.region, "AWS_REGION");
    if (!r->region)
        r->region = ls_strdup("us-east-1");
    r->endpoint = dup_or_env(o.endpoint, "LAKESTREAM_S3_ENDPOINT");
    r->access_key_id = dup_or_env(o.access_key_id, "AWS_ACCESS_KEY_ID");
    r->secret_access_key = dup_or_env(o.secret_access_key, "AWS_SECRET_ACCESS_KEY");
    r->session_token = dup_or_env(o.session_token, "AWS_SESSION_TOKEN");
    if (!r->part_size)
        r->part_size = 8 * MIB;
    if (!r->multipart_threshold)
        r->multipart_threshold = r->part_size;
    if (!r->max_concurrency)
        r->max_concurrency = 16;
    if (!r->max_attempts)
        r->max_attempts = 5;
    if (!r->retry_base_ms)
        r->retry_base_ms = 100;
    if (!r->retry_max_ms)
        r->retry_max_ms = 5000;
    if (!r->request_timeout_ms)
        r->request_timeout_ms = 120000;
    if (!r->max_get_bytes)
        r->max_get_bytes = 1024u * MIB;
    if (r->addressing < LS_OBJSTORE_ADDRESSING_AUTO || r->addressing > LS_OBJSTORE_ADDRESSING_VHOST)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.addressing",
                                 "addressing must be auto, path or vhost");
    if (r->max_concurrency > 1024)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.max_concurrency",
                                 "max_concurrency %u is above 1024", r->max_concurrency);
    if (r->max_attempts > 100)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.max_attempts",
                                 "max_attempts %u is above 100", r->max_attempts);
    if (r->retry_base_ms > r->retry_max_ms)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.retry_base_ms",
                                 "retry_base_ms is above retry_max_ms");
    if (is_s3) {
        /* S3 rejects parts under 5 MiB (except the last) and over 5 GiB, and
         * allows at most 10000 parts. */
        if (r->part_size < 5 * MIB || r->part_size > (size_t)5 * 1024 * MIB)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.part_size",
                                     "part_size %zu is outside S3's 5 MiB..5 GiB", r->part_size);
        if (!r->access_key_id || !r->secret_access_key)
            return ls_error_set(err, LS_ERR_UNAUTHENTICATED,
                                "s3 store needs credentials: set access_key_id and "
                                "secret_access_key or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        if (r->endpoint && strncmp(r->endpoint, "http://", 7) != 0 &&
            strncmp(r->endpoint, "https://", 8) != 0)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.endpoint",
                                     "endpoint must start with http:// or https://");
    }
    return LS_ERR_OK;
}

static void free_store(ls_objstore_t *s)
{
    free((char *)s->opts.region);
    free((char *)s->opts.endpoint);
    free((char *)s->opts.access_key_id);
    if (s->opts.secret_access_key) {
        /* keep the secret out of freed heap memory */
        memset((char *)s->opts.secret_access_key, 0, strlen(s->opts.secret_access_key));
        free((char *)s->opts.secret_access_key);
    }
    if (s->opts.session_token) {
        memset((char *)s->opts.session_token, 0, strlen(s->opts.session_token));
        free((char *)s->opts.session_token);
    }
    free(s->root);
    free(s->prefix);
    free(s);
}

static int valid_bucket(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

ls_err_t ls_objstore_open(uv_loop_t *loop, const char *url, const ls_objstore_options_t *opts,
                          ls_objstore_t **out, ls_error_t *err)
{
    *out = NULL;
    if (!loop || !url)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "loop and url are required");
    ls_objstore_t *s = ls_calloc(1, sizeof(*s));
    s->loop = loop;
    ls_err_t rc;
    if (strncmp(url, "file://", 7) == 0) {
        const char *path = url + 7;
        if (path[0] != '/') {
            free_store(s);
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "file URL must be file:///absolute/dir, got \"%s\"", url);
        }
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
            n--;
        s->root = ls_strndup(path, n);
        s->prefix = ls_strdup("");
        s->backend = &ls__objstore_file_backend;
        rc = resolve_options(s, opts, 0, err);
    } else if (strncmp(url, "s3://", 5) == 0) {
        const char *b = url + 5;
        const char *slash = strchr(b, '/');
        size_t bn = slash ? (size_t)(slash - b) : strlen(b);
        if (!valid_bucket(b, bn)) {
            free_store(s);
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "bad bucket name in \"%s\" (3-63 of a-z 0-9 . -)", url);
        }
        s->root = ls_strndup(b, bn);
        const char *p = slash ? slash + 1 : "";
        size_t pn = strlen(p);
        while (pn > 0 && p[pn - 1] == '/')
            pn--;
        s->prefix = pn ? ls_asprintf("%.*s/", (int)pn, p) : ls_strdup("");
        if (pn) {
            char *check = ls_strndup(p, pn);
            ls_error_t kerr;
            rc = ls_objstore_check_key(check, &kerr);
            free(check);
            if (rc != LS_ERR_OK) {
                free_store(s);
                return ls_error_set(err, rc, "bad prefix in s3 URL: %s", kerr.message);
            }
        }
        s->backend = &ls__objstore_s3_backend;
        rc = resolve_options(s, opts, 1, err);
    } else {
        free_store(s);
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "object store URL must start with file:// or s3://, got \"%s\"", url);
    }
    if (rc == LS_ERR_OK && s->backend->init)
        rc = s->backend->init(s, err);
    if (rc != LS_ERR_OK) {
        free_store(s);
        return rc;
    }
    *out = s;
    return LS_ERR_OK;
}

const char *ls_objstore_scheme(const ls_objstore_t *store)
{
    return store->backend->scheme;
}

void ls__objstore_info_free(ls_objstore_info_t *info)
{
    free(info->key);
    free(info->etag);
    info->key = info->etag = NULL;
}

static void op_free(ls__objstore_op_t *op)
{
    ls_objstore_result_t *r = &op->result;
    free(r->body);
    ls__objstore_info_free(&r->info);
    for (size_t i = 0; i < r->entry_count; i++)
        ls__objstore_info_free(&r->entries[i]);
    free(r->entries);
    free(r->next_continuation_token);
    free(op->key);
    free(op->token);
    free(op);
}

void ls__objstore_op_finish(ls__objstore_op_t *op)
{
    ls_objstore_t *s = op->store;
    op->result.key = op->kind == LS__OBJSTORE_LIST ? "" : op->key;
    if (op->result.status == LS_ERR_OK)
        op->result.error.code = LS_ERR_OK;
    else
        op->result.error.code = op->result.status;
    op->cb(&op->result, op->cb_data);
    op_free(op);
    s->inflight--;
    if (s->closing && s->inflight == 0)
        s->backend->close(s);
}

void ls__objstore_closed(ls_objstore_t *store)
{
    ls_objstore_close_cb cb = store->close_cb;
    void *data = store->close_data;
    free_store(store);
    if (cb)
        cb(data);
}

static ls_err_t submit(ls_objstore_t *s, ls__objstore_kind_t kind, const char *key,
                       ls_objstore_cb cb, void *cb_data, ls__objstore_op_t **opp, ls_error_t *err)
{
    if (!s || !cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "store and callback are required");
    if (s->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "object store is closing");
    if (kind != LS__OBJSTORE_LIST) {
        ls_err_t rc = ls_objstore_check_key(key, err);
        if (rc != LS_ERR_OK)
            return rc;
    }
    ls__objstore_op_t *op = ls_calloc(1, sizeof(*op));
    op->store = s;
    op->kind = kind;
    op->key = ls_strdup(key ? key : "");
    op->cb = cb;
    op->cb_data = cb_data;
    *opp = op;
    return LS_ERR_OK;
}

static ls_err_t start(ls__objstore_op_t *op, ls_error_t *err)
{
    ls_objstore_t *s = op->store;
    ls_err_t rc = s->backend->start(op, err);
    if (rc != LS_ERR_OK) {
        op_free(op);
        return rc;
    }
    s->inflight++;
    return LS_ERR_OK;
}

ls_err_t ls_objstore_put(ls_objstore_t *store, const char *key, const void *data, size_t len,
                         ls_objstore_cb cb, void *cb_data, ls_error_t *err)
{
    ls__objstore_op_t *op = NULL;
    if (!data && len)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "put data is NULL");
    ls_err_t rc = submit(store, LS__OBJSTORE_PUT, key, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    op->data = data ? data : (const uint8_t *)"";
    op->len = len;
    return start(op, err);
}

ls_err_t ls_objstore_get(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                         ls_error_t *err)
{
    ls__objstore_op_t *op = NULL;
    ls_err_t rc = submit(store, LS__OBJSTORE_GET, key, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    return start(op, err);
}

ls_err_t ls_objstore_get_range(ls_objstore_t *store, const char *key, uint64_t offset,
                               uint64_t length, ls_objstore_cb cb, void *cb_data, ls_error_t *err)
{
    if (store && (length == 0 || length > store->opts.max_get_bytes))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "range length %llu must be 1..%zu (max_get_bytes)",
                            (unsigned long long)length, store->opts.max_get_bytes);
    if (offset > UINT64_MAX - length)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "range end overflows");
    ls__objstore_op_t *op = NULL;
    ls_err_t rc = submit(store, LS__OBJSTORE_GET, key, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    op->ranged = 1;
    op->offset = offset;
    op->length = length;
    return start(op, err);
}

ls_err_t ls_objstore_head(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                          ls_error_t *err)
{
    ls__objstore_op_t *op = NULL;
    ls_err_t rc = submit(store, LS__OBJSTORE_HEAD, key, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    return start(op, err);
}

ls_err_t ls_objstore_list(ls_objstore_t *store, const char *prefix, const char *continuation_token,
                          unsigned max_keys, ls_objstore_cb cb, void *cb_data, ls_error_t *err)
{
    if (max_keys > 1000)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "max_keys %u is above 1000", max_keys);
    if (prefix && strlen(prefix) > LS_OBJSTORE_MAX_KEY)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "list prefix is too long");
    if (continuation_token && strlen(continuation_token) > 4096)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "continuation token is too long");
    ls__objstore_op_t *op = NULL;
    ls_err_t rc = submit(store, LS__OBJSTORE_LIST, prefix, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    op->token = continuation_token && *continuation_token ? ls_strdup(continuation_token) : NULL;
    op->max_keys = max_keys ? max_keys : 1000;
    return start(op, err);
}

ls_err_t ls_objstore_delete(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                            ls_error_t *err)
{
    ls__objstore_op_t *op = NULL;
    ls_err_t rc = submit(store, LS__OBJSTORE_DELETE, key, cb, cb_data, &op, err);
    if (rc != LS_ERR_OK)
        return rc;
    return start(op, err);
}

void ls_objstore_close(ls_objstore_t *store, ls_objstore_close_cb cb, void *cb_data)
{
    if (store->closing)
        return;
    store->closing = 1;
    store->close_cb = cb;
    store->close_data = cb_data;
    if (store->inflight == 0)
        store->backend->close(store);
}

uint8_t *ls_objstore_result_take_body(ls_objstore_result_t *result)
{
    uint8_t *b = result->body;
    result->body = NULL;
    return b;
}
