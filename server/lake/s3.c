/*
 * s3:// object-store backend: maps put/get/head/list/delete onto S3 requests
 * (through s3_http.c, which owns signing, retries and the curl multi handle)
 * and runs multipart uploads: CreateMultipartUpload, UploadPart in parallel
 * within a window of max_concurrency parts, CompleteMultipartUpload, and
 * AbortMultipartUpload when a part or the completion fails. A completion
 * whose response was lost is confirmed by a HEAD of the stored object before
 * it is reported either way. Never logs, never blocks the loop.
 */
#include "lake/objstore_internal.h"

#include "core/alloc.h"
#include "lake/s3_http.h"
#include "lake/s3_xml.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Per-operation state. */
typedef struct {
    ls__objstore_op_t *op;
    ls_s3_http_t *s3;
    /* multipart */
    char *upload_id;
    size_t nparts, next_part, parts_inflight, parts_done;
    struct s3_part {
        char etag[128];
        uint8_t md5[16];
    } * parts;
    int failed;
    ls_err_t fail_code;
    ls_error_t fail_error;
    char *complete_body;
} s3_op_t;

/* ---------------------------------------------------------------------- */
/* operations */

static void op_done(s3_op_t *so)
{
    ls__objstore_op_t *op = so->op;
    free(so->upload_id);
    free(so->parts);
    free(so->complete_body);
    free(so);
    ls__objstore_op_finish(op);
}

static void fail_op(s3_op_t *so, ls_s3_req_t *req)
{
    so->op->result.status = req->result;
    so->op->result.error = req->error;
}

static void simple_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    ls_objstore_result_t *r = &op->result;
    r->attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        if (op->kind == LS__OBJSTORE_DELETE && req->result == LS_ERR_NOT_FOUND &&
            req->status == 404) {
            r->status = LS_ERR_OK; /* deleting a missing object succeeds */
        } else if (op->kind == LS__OBJSTORE_HEAD && req->status == 404) {
            r->status = ls_error_set(&r->error, LS_ERR_NOT_FOUND, "no object %s", op->key);
        } else {
            fail_op(so, req);
        }
        ls_s3_req_free(req);
        op_done(so);
        return;
    }
    r->status = LS_ERR_OK;
    switch (op->kind) {
    case LS__OBJSTORE_PUT:
        r->info.key = ls_strdup(op->key);
        r->info.size = op->len;
        r->info.etag = ls_strdup(req->etag);
        r->info.mtime = (int64_t)time(NULL);
        break;
    case LS__OBJSTORE_GET:
        if (op->ranged && req->status != 206 && op->offset > 0) {
            r->status = ls_error_set(&r->error, LS_ERR_UNAVAILABLE,
                                     "S3 GET %s: server ignored the Range header (HTTP %ld)",
                                     op->key, req->status);
            break;
        }
        if (req->have_content_length && req->content_length != req->resp_len) {
            r->status =
                ls_error_set(&r->error, LS_ERR_UNAVAILABLE, "S3 GET %s: got %zu bytes of %llu",
                             op->key, req->resp_len, (unsigned long long)req->content_length);
            break;
        }
        r->body = req->resp ? req->resp : ls_malloc(1);
        r->body_len = req->resp_len;
        req->resp = NULL;
        break;
    case LS__OBJSTORE_HEAD:
        r->info.key = ls_strdup(op->key);
        r->info.size = req->content_length;
        r->info.etag = ls_strdup(req->etag);
        r->info.mtime = req->last_modified;
        break;
    case LS__OBJSTORE_LIST: {
        ls_error_t err;
        if (ls_s3_xml_parse_list((const char *)req->resp, req->resp_len, so->op->store->prefix, r,
                                 &err) != LS_ERR_OK)
            r->status = ls_error_set(&r->error, err.code, "S3 list: %s", err.message);
        break;
    }
    case LS__OBJSTORE_DELETE:
        break;
    }
    ls_s3_req_free(req);
    op_done(so);
}

/* multipart ---------------------------------------------------------------- */

/* The text of child in a response whose root element is root_name, as a
 * heap string the caller frees; NULL when the body is not that document. */
static char *response_text(const ls_s3_req_t *req, const char *root_name, const char *child)
{
    ls_s3_xml_node_t *root = NULL;
    ls_error_t err;
    char *text = NULL;
    if (ls_s3_xml_parse((const char *)req->resp, req->resp_len, &root, &err) == LS_ERR_OK &&
        strcmp(root->name, root_name) == 0) {
        const char *t = ls_s3_xml_child_text(root, child);
        text = t ? ls_strdup(t) : NULL;
    }
    ls_s3_xml_free(root);
    return text;
}

static void mp_launch_parts(s3_op_t *so);
static void mp_finish_failed(s3_op_t *so);

static void mp_record_failure(s3_op_t *so, ls_s3_req_t *req)
{
    if (!so->failed) {
        so->failed = 1;
        so->fail_code = req->result;
        so->fail_error = req->error;
    }
}

static void mp_abort_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    so->op->result.status = so->fail_code;
    so->op->result.error = so->fail_error;
    if (req->result != LS_ERR_OK && req->result != LS_ERR_NOT_FOUND) {
        size_t n = strlen(so->op->result.error.message);
        snprintf(so->op->result.error.message + n, sizeof(so->op->result.error.message) - n,
                 "; abort of upload also failed: %s", req->error.message);
    }
    ls_s3_req_free(req);
    op_done(so);
}

static void mp_finish_failed(s3_op_t *so)
{
    if (!so->upload_id) {
        so->op->result.status = so->fail_code;
        so->op->result.error = so->fail_error;
        op_done(so);
        return;
    }
    ls_sigv4_pair_t q[] = {{"uploadId", so->upload_id}};
    ls_s3_req_t *req = ls_s3_req_new(so->s3, "DELETE", so->op->key, q, 1, mp_abort_done, so);
    ls_s3_req_submit(req);
}

static void mp_accept_stored(s3_op_t *so, const char *etag, int64_t mtime)
{
    ls__objstore_op_t *op = so->op;
    op->result.status = LS_ERR_OK;
    op->result.info.key = ls_strdup(op->key);
    op->result.info.size = op->len;
    op->result.info.etag = ls_strdup(etag);
    op->result.info.mtime = mtime;
    op_done(so);
}

/* The completion failed and the stored object is not this upload: abort the
 * upload and report the completion's error. */
static void mp_reject_stored(s3_op_t *so, const char *why)
{
    size_t n = strlen(so->fail_error.message);
    snprintf(so->fail_error.message + n, sizeof(so->fail_error.message) - n,
             "; the stored object %s", why);
    mp_finish_failed(so);
}

typedef struct {
    uv_work_t work;
    s3_op_t *so;
    char etag[128];
    int64_t mtime;
    char md5_hex[33];
} verify_work_t;

static void verify_work_cb(uv_work_t *w)
{
    verify_work_t *vw = w->data;
    ls__objstore_op_t *op = vw->so->op; /* only the caller's immutable buffer is read */
    uint8_t md[16];
    unsigned int n = 16;
    EVP_Digest(op->data, op->len, md, &n, EVP_md5(), NULL);
    ls_sigv4_hex(md, 16, vw->md5_hex);
}

static void verify_after_cb(uv_work_t *w, int status)
{
    verify_work_t *vw = w->data;
    s3_op_t *so = vw->so;
    if (status == 0 && strcmp(vw->md5_hex, vw->etag) == 0)
        mp_accept_stored(so, vw->etag, vw->mtime);
    else
        mp_reject_stored(so, "does not have the uploaded content");
    free(vw);
}

/* The completion's outcome is unknown (a response was lost, then retries
 * failed): the HEAD says whether an earlier attempt assembled exactly this
 * upload. AWS reports md5(part md5s)-N; some S3-compatible servers report the
 * plain MD5 of the content, which is checked on a worker. */
static void mp_head_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK || req->content_length != op->len) {
        ls_s3_req_free(req);
        mp_reject_stored(so, "is missing or has the wrong size");
        return;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < so->nparts; i++)
        EVP_DigestUpdate(ctx, so->parts[i].md5, 16);
    uint8_t md[16];
    unsigned int mdlen = 16;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char expected[64];
    ls_sigv4_hex(md, 16, expected);
    snprintf(expected + 32, sizeof(expected) - 32, "-%zu", so->nparts);
    if (strcmp(req->etag, expected) == 0) {
        mp_accept_stored(so, req->etag, req->last_modified);
        ls_s3_req_free(req);
        return;
    }
    if (strlen(req->etag) != 32) {
        ls_s3_req_free(req);
        mp_reject_stored(so, "has an ETag of another upload");
        return;
    }
    verify_work_t *vw = ls_calloc(1, sizeof(*vw));
    vw->so = so;
    vw->work.data = vw;
    snprintf(vw->etag, sizeof(vw->etag), "%s", req->etag);
    vw->mtime = req->last_modified;
    ls_s3_req_free(req);
    if (uv_queue_work(so->op->store->loop, &vw->work, verify_work_cb, verify_after_cb) != 0) {
        free(vw);
        mp_reject_stored(so, "could not be verified");
    }
}

static void mp_complete_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        /* An earlier attempt may have completed the upload with its response
         * lost (curl even resends on a dead reused connection by itself), so
         * later attempts fail (AWS: NoSuchUpload; s3rver: 500). Whatever the
         * error, look at what is stored before giving up. */
        mp_record_failure(so, req);
        ls_s3_req_free(req);
        ls_s3_req_t *head = ls_s3_req_new(so->s3, "HEAD", op->key, NULL, 0, mp_head_done, so);
        ls_s3_req_submit(head);
        return;
    }
    char *etag = response_text(req, "CompleteMultipartUploadResult", "ETag");
    if (!etag) {
        op->result.status =
            ls_error_set(&op->result.error, LS_ERR_UNAVAILABLE,
                         "S3 multipart put %s: unexpected completion response", op->key);
    } else {
        size_t n = strlen(etag);
        int quoted = n >= 2 && etag[0] == '"' && etag[n - 1] == '"';
        op->result.status = LS_ERR_OK;
        op->result.info.key = ls_strdup(op->key);
        op->result.info.size = op->len;
        op->result.info.etag = quoted ? ls_strndup(etag + 1, n - 2) : ls_strdup(etag);
        op->result.info.mtime = (int64_t)time(NULL);
    }
    free(etag);
    ls_s3_req_free(req);
    op_done(so);
}

static void mp_complete(s3_op_t *so)
{
    size_t cap = 128 + so->nparts * 200;
    char *xml = ls_malloc(cap);
    size_t n = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < so->nparts; i++)
        n += (size_t)snprintf(xml + n, cap - n,
                              "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                              so->parts[i].etag);
    n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
    so->complete_body = xml;
    ls_sigv4_pair_t q[] = {{"uploadId", so->upload_id}};
    ls_s3_req_t *req = ls_s3_req_new(so->s3, "POST", so->op->key, q, 1, mp_complete_done, so);
    req->body = (const uint8_t *)xml;
    req->body_len = n;
    req->content_type = "application/xml";
    req->retryable_200_error = 1;
    ls_s3_req_hash_body(req);
    ls_s3_req_submit(req);
}

static void mp_part_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    so->parts_inflight--;
    if (req->result != LS_ERR_OK)
        mp_record_failure(so, req);
    else if (!req->etag[0]) {
        req->result = LS_ERR_UNAVAILABLE;
        ls_error_set(&req->error, LS_ERR_UNAVAILABLE, "S3 UploadPart %zu of %s: no ETag",
                     req->part_index + 1, so->op->key);
        mp_record_failure(so, req);
    } else {
        snprintf(so->parts[req->part_index].etag, sizeof(so->parts[0].etag), "%s", req->etag);
        memcpy(so->parts[req->part_index].md5, req->md5, 16);
        so->parts_done++;
    }
    ls_s3_req_free(req);
    if (so->failed) {
        if (so->parts_inflight == 0)
            mp_finish_failed(so);
        return;
    }
    if (so->parts_done == so->nparts)
        mp_complete(so);
    else
        mp_launch_parts(so);
}

static void mp_launch_parts(s3_op_t *so)
{
    const ls_objstore_options_t *o = &so->op->store->opts;
    ls__objstore_op_t *op = so->op;
    /* a window of parts per upload keeps hashing and memory for requests bounded */
    while (!so->failed && so->next_part < so->nparts && so->parts_inflight < o->max_concurrency) {
        size_t i = so->next_part++;
        char num[24];
        snprintf(num, sizeof(num), "%zu", i + 1);
        ls_sigv4_pair_t q[] = {{"partNumber", num}, {"uploadId", so->upload_id}};
        ls_s3_req_t *req = ls_s3_req_new(so->s3, "PUT", op->key, q, 2, mp_part_done, so);
        req->part_index = i;
        req->body = op->data + i * o->part_size;
        size_t left = op->len - i * o->part_size;
        req->body_len = left < o->part_size ? left : o->part_size;
        so->parts_inflight++;
        ls_s3_req_hash_and_submit(req);
    }
}

static void mp_create_done(ls_s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        mp_record_failure(so, req);
        ls_s3_req_free(req);
        mp_finish_failed(so);
        return;
    }
    char *id = response_text(req, "InitiateMultipartUploadResult", "UploadId");
    if (!id || !*id || strlen(id) > 1024) {
        free(id);
        so->failed = 1;
        so->fail_code =
            ls_error_set(&so->fail_error, LS_ERR_UNAVAILABLE,
                         "S3 CreateMultipartUpload %s: response has no UploadId", so->op->key);
        ls_s3_req_free(req);
        mp_finish_failed(so);
        return;
    }
    so->upload_id = id;
    ls_s3_req_free(req);
    mp_launch_parts(so);
}

static ls_err_t s3_start(ls__objstore_op_t *op, ls_error_t *err)
{
    ls_objstore_t *store = op->store;
    ls_s3_http_t *s3 = store->impl;
    s3_op_t *so = ls_calloc(1, sizeof(*so));
    so->op = op;
    so->s3 = s3;
    ls_s3_req_t *req = NULL;
    switch (op->kind) {
    case LS__OBJSTORE_PUT:
        if (op->len > store->opts.multipart_threshold) {
            size_t nparts = (op->len + store->opts.part_size - 1) / store->opts.part_size;
            if (nparts > 10000) {
                free(so);
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                    "put of %zu bytes needs %zu parts of %zu (S3 allows 10000)",
                                    op->len, nparts, store->opts.part_size);
            }
            so->nparts = nparts;
            so->parts = ls_calloc(nparts, sizeof(*so->parts));
            ls_sigv4_pair_t q[] = {{"uploads", NULL}};
            req = ls_s3_req_new(s3, "POST", op->key, q, 1, mp_create_done, so);
            break;
        }
        req = ls_s3_req_new(s3, "PUT", op->key, NULL, 0, simple_done, so);
        req->body = op->data;
        req->body_len = op->len;
        ls_s3_req_hash_and_submit(req);
        return LS_ERR_OK;
    case LS__OBJSTORE_GET:
        req = ls_s3_req_new(s3, "GET", op->key, NULL, 0, simple_done, so);
        req->body_limit = store->opts.max_get_bytes;
        if (op->ranged) {
            snprintf(req->range, sizeof(req->range), "bytes=%llu-%llu",
                     (unsigned long long)op->offset,
                     (unsigned long long)(op->offset + op->length - 1));
            req->body_limit = (size_t)op->length;
        }
        break;
    case LS__OBJSTORE_HEAD:
        req = ls_s3_req_new(s3, "HEAD", op->key, NULL, 0, simple_done, so);
        break;
    case LS__OBJSTORE_DELETE:
        req = ls_s3_req_new(s3, "DELETE", op->key, NULL, 0, simple_done, so);
        break;
    case LS__OBJSTORE_LIST: {
        char *prefix = ls_asprintf("%s%s", store->prefix, op->key);
        char maxk[16];
        snprintf(maxk, sizeof(maxk), "%u", op->max_keys);
        ls_sigv4_pair_t q[4] = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", maxk}};
        size_t nq = 3;
        if (op->token)
            q[nq++] = (ls_sigv4_pair_t){"continuation-token", op->token};
        req = ls_s3_req_new(s3, "GET", NULL, q, nq, simple_done, so);
        free(prefix);
        break;
    }
    }
    ls_s3_req_submit(req);
    return LS_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* open and close */

static ls_err_t s3_init(ls_objstore_t *store, ls_error_t *err)
{
    ls_s3_http_t *http;
    ls_err_t rc = ls_s3_http_new(store, &http, err);
    if (rc == LS_ERR_OK)
        store->impl = http;
    return rc;
}

static void http_closed(void *data)
{
    ls__objstore_closed(data);
}

static void s3_close(ls_objstore_t *store)
{
    ls_s3_http_close(store->impl, http_closed, store);
}

const char *ls__objstore_s3_origin(const ls_objstore_t *store)
{
    return ls_s3_http_origin(store->impl);
}

const char *ls__objstore_s3_host(const ls_objstore_t *store)
{
    return ls_s3_http_host(store->impl);
}

const ls__objstore_backend_t ls__objstore_s3_backend = {"s3", s3_init, s3_start, s3_close};
