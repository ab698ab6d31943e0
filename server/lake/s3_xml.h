/*
 * A small, bounds-checked XML parser for the S3 responses lakestream reads
 * (ListObjectsV2, multipart upload results, error bodies), and the readers
 * of those documents. It builds a tiny element tree from a buffer of known
 * length; it never reads past that length, never follows a DTD or external
 * entity (a DOCTYPE is an error), nests at most LS_S3_XML_MAX_DEPTH deep, and
 * turns anything malformed into INVALID_ARGUMENT with the byte offset. Pure
 * functions: any thread.
 */
#ifndef LS_LAKE_S3_XML_H
#define LS_LAKE_S3_XML_H

#include "core/error.h"
#include "lake/objstore.h"

#include <stddef.h>

#define LS_S3_XML_MAX_DEPTH 32
#define LS_S3_XML_MAX_LIST_ENTRIES 1000

typedef struct ls_s3_xml_node_s {
    char *name; /* element name with any namespace prefix as written */
    char *text; /* the element's own character data, entities decoded */
    size_t text_len;
    struct ls_s3_xml_node_s *children, *next;
} ls_s3_xml_node_t;

/* Parses buf[0..len) into a tree owned by the caller (ls_s3_xml_free).
 * INVALID_ARGUMENT with the offset and reason when malformed. */
ls_err_t ls_s3_xml_parse(const char *buf, size_t len, ls_s3_xml_node_t **root, ls_error_t *err);
void ls_s3_xml_free(ls_s3_xml_node_t *root);

/* The first child element named name, or NULL. Borrowed from n. */
const ls_s3_xml_node_t *ls_s3_xml_child(const ls_s3_xml_node_t *n, const char *name);
/* The text of that child, or NULL when there is none. Borrowed from n. */
const char *ls_s3_xml_child_text(const ls_s3_xml_node_t *n, const char *name);

/* Reads a ListObjectsV2 response into result->entries / entry_count /
 * next_continuation_token (owned by result). Keys must start with
 * strip_prefix (the store's prefix), which is removed. Errors:
 * INVALID_ARGUMENT for malformed XML, a wrong root element, a Contents
 * without Key or with a bad Size, more than LS_S3_XML_MAX_LIST_ENTRIES
 * entries, or IsTruncated=true without NextContinuationToken. On error result
 * is left without entries. */
ls_err_t ls_s3_xml_parse_list(const char *buf, size_t len, const char *strip_prefix,
                              ls_objstore_result_t *result, ls_error_t *err);

/* Reads an S3 <Error> body into code and message (truncated to their
 * sizes, "" when absent). Returns 1 when buf was an <Error> document. */
int ls_s3_xml_parse_error(const char *buf, size_t len, char *code, size_t code_size, char *message,
                          size_t message_size);

/* Parses an ISO 8601 UTC timestamp ("2009-10-12T17:50:30.000Z") into
 * seconds since the epoch; -1 when malformed. */
int64_t ls_s3_xml_parse_time(const char *s);

#endif
