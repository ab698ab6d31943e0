/*
 * file:// object-store backend: objects are regular files under the store's
 * root directory, the key's '/' segments being subdirectories. Every
 * filesystem call runs in a uv_queue_work item that owns its operation until
 * it returns to the loop; the loop thread never touches the disk. A put writes
 * a temp file (".lstmp.<random>.<name>") in the target directory, fsyncs it,
 * renames it over the key and fsyncs the directory, so readers see the old
 * object or the new one, never a partial one; list never shows temp files.
 *
 * ETag choice: "<inode>-<size>-<mtime ns>" in hex, from stat(), the same in
 * put, head and list. It changes whenever an object is rewritten (a rewrite is
 * a new file from a rename) and costs no read of the content, so listing a
 * large lake does not hash every file. It is not an MD5 of the content.
 *
 * Unlike S3, a directory tree cannot hold both "a" and "a/b": such a put
 * fails with FAILED_PRECONDITION. Empty directories left by deletes stay (a
 * concurrent put may be about to use them) and are never listed.
 */
#include "lake/objstore_internal.h"

#include "core/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    uv_work_t work;
    ls__objstore_op_t *op;
    char *root; /* copy, so the worker shares nothing mutable with the loop */
} file_work_t;

static ls_err_t set_errno(ls_objstore_result_t *r, int e, const char *what, const char *path)
{
    ls_err_t code = (e == ENOENT || e == ENOTDIR || e == EISDIR) ? LS_ERR_NOT_FOUND
                    : (e == EACCES || e == EPERM)                ? LS_ERR_PERMISSION_DENIED
                                                                 : LS_ERR_UNAVAILABLE;
    r->status = ls_error_set(&r->error, code, "%s %s: %s", what, path, strerror(e));
    return code;
}

static void fill_info(ls_objstore_info_t *info, const char *key, const struct stat *st)
{
    info->key = ls_strdup(key);
    info->size = (uint64_t)st->st_size;
    info->mtime = (int64_t)st->st_mtim.tv_sec;
    unsigned long long ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                            (unsigned long long)st->st_mtim.tv_nsec;
    info->etag = ls_asprintf("%llx-%llx-%llx", (unsigned long long)st->st_ino,
                             (unsigned long long)st->st_size, ns);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* mkdir -p for every directory of path, the store root included. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

/* A put that meets a directory where its object goes, or an object where
 * one of its directories goes ("a" exists, put "a/b"), cannot happen on S3
 * but can in a directory tree: that is a conflict, not a missing object. */
static void put_errno(ls_objstore_result_t *r, int e, const char *what, const char *path)
{
    if (e == ENOTDIR || e == EISDIR || e == EEXIST)
        r->status = ls_error_set(&r->error, LS_ERR_FAILED_PRECONDITION,
                                 "%s %s: %s (the key conflicts with an existing object or "
                                 "directory)",
                                 what, path, strerror(e));
    else
        set_errno(r, e, what, path);
}

static void do_put(file_work_t *w)
{
    ls__objstore_op_t *op = w->op;
    ls_objstore_result_t *r = &op->result;
    char *path = ls_asprintf("%s/%s", w->root, op->key);
    char *slash = strrchr(path, '/');
    char *dir = ls_strndup(path, (size_t)(slash - path));
    uint8_t rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(rnd, &ts.tv_nsec,
               sizeof(rnd) < sizeof(ts.tv_nsec) ? sizeof(rnd) : sizeof(ts.tv_nsec));
    }
    /* keep the temp name within NAME_MAX: ".lstmp." + 16 hex + "." + name */
    char *tmp = ls_asprintf("%s/.lstmp.%02x%02x%02x%02x%02x%02x%02x%02x.%.200s", dir, rnd[0],
                            rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], slash + 1);
    int fd = -1;
    struct stat st;
    if (make_parents(path) != 0) {
        put_errno(r, errno, "create directories for", path);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        put_errno(r, errno, "create", tmp);
        goto out;
    }
    if (write_all(fd, op->data, op->len) != 0 || fsync(fd) != 0) {
        put_errno(r, errno, "write", tmp);
        goto fail_tmp;
    }
    if (close(fd) != 0) {
        fd = -1;
        put_errno(r, errno, "close", tmp);
        goto fail_tmp;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        put_errno(r, errno, "rename into", path);
        goto fail_tmp;
    }
    if (fsync_dir(dir) != 0) {
        put_errno(r, errno, "fsync directory", dir);
        goto out;
    }
    if (stat(path, &st) != 0) {
        put_errno(r, errno, "stat", path);
        goto out;
    }
    fill_info(&r->info, op->key, &st);
    r->status = LS_ERR_OK;
    goto out;
fail_tmp:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out:
    free(path);
    free(dir);
    free(tmp);
}

static void do_get(file_work_t *w)
{
    ls__objstore_op_t *op = w->op;
    ls_objstore_result_t *r = &op->result;
    size_t limit = op->store->opts.max_get_bytes; /* immutable while ops are in flight */
    char *path = ls_asprintf("%s/%s", w->root, op->key);
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_errno(r, errno, "open", path);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        set_errno(r, errno, "stat", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r->status = ls_error_set(&r->error, LS_ERR_NOT_FOUND, "no object %s", op->key);
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0, len = size;
    if (op->ranged) {
        if (op->offset >= size) {
            r->status = ls_error_set(&r->error, LS_ERR_INVALID_ARGUMENT,
                                     "range start %llu is not below object size %llu",
                                     (unsigned long long)op->offset, (unsigned long long)size);
            goto out;
        }
        off = op->offset;
        len = size - off < op->length ? size - off : op->length;
    }
    if (len > limit) {
        r->status = ls_error_set(&r->error, LS_ERR_INVALID_ARGUMENT,
                                 "object %s is %llu bytes, above max_get_bytes %zu", op->key,
                                 (unsigned long long)len, limit);
        goto out;
    }
    uint8_t *buf = ls_malloc((size_t)len ? (size_t)len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, (size_t)len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                set_errno(r, errno, "read", path);
            else
                r->status = ls_error_set(&r->error, LS_ERR_UNAVAILABLE,
                                         "object %s shrank while being read", op->key);
            free(buf);
            goto out;
        }
        got += (size_t)n;
    }
    r->body = buf;
    r->body_len = (size_t)len;
    r->status = LS_ERR_OK;
out:
    if (fd >= 0)
        close(fd);
    free(path);
}

static void do_head(file_work_t *w)
{
    ls__objstore_op_t *op = w->op;
    ls_objstore_result_t *r = &op->result;
    char *path = ls_asprintf("%s/%s", w->root, op->key);
    struct stat st;
    if (stat(path, &st) != 0)
        set_errno(r, errno, "stat", path);
    else if (!S_ISREG(st.st_mode))
        r->status = ls_error_set(&r->error, LS_ERR_NOT_FOUND, "no object %s", op->key);
    else {
        fill_info(&r->info, op->key, &st);
        r->status = LS_ERR_OK;
    }
    free(path);
}

static void do_delete(file_work_t *w)
{
    ls__objstore_op_t *op = w->op;
    ls_objstore_result_t *r = &op->result;
    char *path = ls_asprintf("%s/%s", w->root, op->key);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        r->status = LS_ERR_OK; /* a "directory" is not an object: nothing to delete */
    else if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
        set_errno(r, errno, "delete", path);
    else
        r->status = LS_ERR_OK;
    free(path);
}

typedef struct {
    ls_objstore_info_t *items;
    size_t count, cap;
} info_vec_t;

/* Collects every regular file below dir whose key starts with prefix and
 * sorts after token. rel is dir's key prefix ("" or "a/b/"). */
static int walk(const char *dir, const char *rel, const char *prefix, const char *token,
                info_vec_t *out, ls_objstore_result_t *r, int depth)
{
    if (depth > 256)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        set_errno(r, errno, "list", dir);
        return -1;
    }
    size_t plen = strlen(prefix);
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strncmp(name, ".lstmp.", 7) == 0)
            continue;
        char *key = ls_asprintf("%s%s", rel, name);
        char *path = ls_asprintf("%s/%s", dir, name);
        size_t klen = strlen(key);
        struct stat st;
        if (lstat(path, &st) != 0) {
            /* deleted between readdir and stat: not an object any more */
        } else if (S_ISDIR(st.st_mode)) {
            /* descend only when keys below can still match the prefix */
            size_t n = klen < plen ? klen : plen;
            if (strncmp(key, prefix, n) == 0) {
                char *sub = ls_asprintf("%s/", key);
                rc = walk(path, sub, prefix, token, out, r, depth + 1);
                free(sub);
            }
        } else if (S_ISREG(st.st_mode) && strncmp(key, prefix, plen) == 0 &&
                   (!token || strcmp(key, token) > 0)) {
            if (out->count == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->items = ls_realloc(out->items, out->cap * sizeof(*out->items));
            }
            fill_info(&out->items[out->count++], key, &st);
        }
        free(key);
        free(path);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const ls_objstore_info_t *)a)->key, ((const ls_objstore_info_t *)b)->key);
}

static void do_list(file_work_t *w)
{
    ls__objstore_op_t *op = w->op;
    ls_objstore_result_t *r = &op->result;
    const char *prefix = op->key;
    /* start at the deepest directory the prefix names fully */
    const char *last = strrchr(prefix, '/');
    char *rel = last ? ls_strndup(prefix, (size_t)(last - prefix + 1)) : ls_strdup("");
    char *dir =
        last ? ls_asprintf("%s/%.*s", w->root, (int)(last - prefix), prefix) : ls_strdup(w->root);
    info_vec_t v = {0};
    if (walk(dir, rel, prefix, op->token, &v, r, 0) == 0) {
        if (v.count > 1)
            qsort(v.items, v.count, sizeof(*v.items), cmp_info);
        size_t keep = v.count > op->max_keys ? op->max_keys : v.count;
        if (keep < v.count)
            r->next_continuation_token = ls_strdup(v.items[keep - 1].key);
        for (size_t i = keep; i < v.count; i++)
            ls__objstore_info_free(&v.items[i]);
        r->entries = v.items;
        r->entry_count = keep;
        v.items = NULL;
        r->status = LS_ERR_OK;
    }
    for (size_t i = 0; v.items && i < v.count; i++)
        ls__objstore_info_free(&v.items[i]);
    free(v.items);
    free(rel);
    free(dir);
}

static void work_cb(uv_work_t *req)
{
    file_work_t *w = req->data;
    w->op->result.status = LS_ERR_INTERNAL;
    switch (w->op->kind) {
    case LS__OBJSTORE_PUT:
        do_put(w);
        break;
    case LS__OBJSTORE_GET:
        do_get(w);
        break;
    case LS__OBJSTORE_HEAD:
        do_head(w);
        break;
    case LS__OBJSTORE_LIST:
        do_list(w);
        break;
    case LS__OBJSTORE_DELETE:
        do_delete(w);
        break;
    }
}

static void after_work_cb(uv_work_t *req, int status)
{
    file_work_t *w = req->data;
    ls__objstore_op_t *op = w->op;
    if (status == UV_ECANCELED)
        op->result.status = ls_error_set(&op->result.error, LS_ERR_UNAVAILABLE, "cancelled");
    free(w->root);
    free(w);
    ls__objstore_op_finish(op);
}

static ls_err_t file_start(ls__objstore_op_t *op, ls_error_t *err)
{
    file_work_t *w = ls_calloc(1, sizeof(*w));
    w->op = op;
    w->root = ls_strdup(op->store->root);
    w->work.data = w;
    int rc = uv_queue_work(op->store->loop, &w->work, work_cb, after_work_cb);
    if (rc != 0) {
        free(w->root);
        free(w);
        return ls_error_set(err, LS_ERR_INTERNAL, "uv_queue_work: %s", uv_strerror(rc));
    }
    return LS_ERR_OK;
}

static void close_timer_closed(uv_handle_t *h)
{
    ls_objstore_t *store = h->data;
    free(h);
    ls__objstore_closed(store);
}

static void file_close(ls_objstore_t *store)
{
    /* The file backend holds no handles; a throwaway one defers the close
     * callback to a later loop iteration, as libuv's uv_close does. */
    uv_timer_t *t = ls_calloc(1, sizeof(*t));
    uv_timer_init(store->loop, t);
    t->data = store;
    uv_close((uv_handle_t *)t, close_timer_closed);
}

const ls__objstore_backend_t ls__objstore_file_backend = {"file", NULL, file_start, file_close};
