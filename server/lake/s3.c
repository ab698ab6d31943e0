#include "lake/objstore_internal.h"
static ls_err_t s3_start(ls__objstore_op_t *op, ls_error_t *err) { return ls_error_set(err, LS_ERR_INTERNAL, "x"); }
static void s3_close(ls_objstore_t *s) { ls__objstore_closed(s); }
const ls__objstore_backend_t ls__objstore_s3_backend = {"s3", s3_start, s3_close};
