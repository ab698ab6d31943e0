/*
 * What the object-store front end (objstore.c) shares with its backends
 * (objstore_file.c, s3.c): the store and operation structs and the one way an
 * operation finishes. Backends never call a user callback themselves; they
 * call ls__objstore_op_finish, which keeps the exactly-once and close-drain
 * rules in one place. Nothing outside server/lake includes this.
 */
#ifndef LS_LAKE_OBJSTORE_INTERNAL_H
#define LS_LAKE_OBJSTORE_INTERNAL_H

#include "lake/objstore.h"

typedef enum {
    LS__OBJSTORE_PUT,
    LS__OBJSTORE_GET,
    LS__OBJSTORE_HEAD,
    LS__OBJSTORE_LIST,
    LS__OBJSTORE_DELETE
} ls__objstore_kind_t;

typedef struct ls__objstore_op_s {
    ls_objstore_t *store;
    ls__objstore_kind_t kind;
    char *key;           /* relative key (put/get/head/delete) or list prefix */
    const uint8_t *data; /* put: borrowed from the caller until the callback */
    size_t len;
    int ranged;
    uint64_t offset, length;
    char *token; /* list continuation token or NULL */
    unsigned max_keys;
    ls_objstore_cb cb;
    void *cb_data;
    ls_objstore_result_t result;
} ls__objstore_op_t;

typedef struct {
    const char *scheme;
    /* Sets up the backend's state and handles for a freshly opened store
     * (no I/O); NULL when there is nothing to set up. */
    ls_err_t (*init)(ls_objstore_t *store, ls_error_t *err);
    /* Starts op; returns non-OK only before anything async began (then the
     * front end frees op and no callback fires). */
    ls_err_t (*start)(ls__objstore_op_t *op, ls_error_t *err);
    /* Called once when the store is closing and no operation is in flight:
     * closes the backend's handles, frees its state, then calls
     * ls__objstore_closed. */
    void (*close)(ls_objstore_t *store);
} ls__objstore_backend_t;

struct ls_objstore_s {
    uv_loop_t *loop;
    const ls__objstore_backend_t *backend;
    void *impl;
    ls_objstore_options_t opts; /* defaults resolved; strings owned */
    char *root;                 /* file: absolute directory; s3: bucket */
    char *prefix;               /* s3: key prefix ("" or ending in '/'); file: "" */
    unsigned inflight;
    int closing;
    ls_objstore_close_cb close_cb;
    void *close_data;
};

/* Fires op's callback with op->result, frees op and its result, and lets a
 * closing store finish closing. Loop thread. */
void ls__objstore_op_finish(ls__objstore_op_t *op);

/* Frees the store after the backend closed its handles; fires close_cb. */
void ls__objstore_closed(ls_objstore_t *store);

/* Frees the heap fields of an info. */
void ls__objstore_info_free(ls_objstore_info_t *info);

/* For tests: the origin ("http://bucket.host:port") and Host header an s3
 * store sends requests to. Borrowed from the store. */
const char *ls__objstore_s3_origin(const ls_objstore_t *store);
const char *ls__objstore_s3_host(const ls_objstore_t *store);

extern const ls__objstore_backend_t ls__objstore_file_backend;
extern const ls__objstore_backend_t ls__objstore_s3_backend;

#endif
