/*
 * Validation of registry requests and the registry's error values: version
 * and id path segments, subject names, modes, and schema request bodies
 * (only AVRO, no references; the schema is parsed with its defaults
 * checked, as Confluent rejects invalid defaults). Pure functions: no I/O,
 * no state, any thread; nothing here may touch PostgreSQL or the cache.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/canonical.h"
#include "registry/internal.h"

/* ---------- errors ---------- */

int ls_registry_http_status(int error_code)
{
    if (error_code >= 10000)
        return error_code / 100;
    return error_code > 0 ? error_code : 200;
}

static ls_err_t err_code_of(int error_code)
{
    int status = ls_registry_http_status(error_code);
    if (error_code == LS_REGISTRY_OPERATION_NOT_PERMITTED || error_code == LS_REGISTRY_INCOMPATIBLE)
        return LS_ERR_FAILED_PRECONDITION;
    if (status == 404)
        return LS_ERR_NOT_FOUND;
    if (status == 422 || status == 400)
        return LS_ERR_INVALID_ARGUMENT;
    if (error_code == LS_REGISTRY_STORE_ERROR)
        return LS_ERR_UNAVAILABLE;
    return LS_ERR_INTERNAL;
}

ls_err_t ls_registry_error_set(ls_registry_error_t *err, int error_code, const char *fmt, ...)
{
    ls_err_t code = err_code_of(error_code);
    if (err == NULL)
        return code;
    err->error_code = error_code;
    err->error.code = code;
    err->error.path[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->error.message, sizeof(err->error.message), fmt, ap);
    va_end(ap);
    return code;
}

void ls__registry_error_ok(ls_registry_error_t *err)
{
    err->error_code = 0;
    ls_error_clear(&err->error);
}

/* ---------- pure helpers ---------- */

static bool parse_positive_int(const char *text, long long max, long long *out)
{
    if (text == NULL || *text == '\0' || strlen(text) > 12)
        return false;
    for (const char *p = text; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    long long v = strtoll(text, NULL, 10);
    if (v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

ls_err_t ls_registry_parse_version(const char *text, int *out, ls_registry_error_t *err)
{
    long long v;
    if (text != NULL && (strcmp(text, "latest") == 0 || strcmp(text, "-1") == 0)) {
        *out = -1;
        return LS_ERR_OK;
    }
    if (!parse_positive_int(text, 2147483647LL, &v))
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_VERSION,
                                     "The specified version '%.64s' is not a valid version id. "
                                     "Allowed values are between [1, 2^31-1] and the string "
                                     "\"latest\"",
                                     text ? text : "");
    *out = (int)v;
    return LS_ERR_OK;
}

ls_err_t ls_registry_parse_id(const char *text, int32_t *out, ls_registry_error_t *err)
{
    long long v;
    if (!parse_positive_int(text, 2147483647LL, &v))
        return ls_registry_error_set(err, LS_REGISTRY_SCHEMA_NOT_FOUND,
                                     "Schema %.64s not found: schema ids are integers from 1",
                                     text ? text : "");
    *out = (int32_t)v;
    return LS_ERR_OK;
}

static const char *const mode_names[] = {"READWRITE", "READONLY", "IMPORT"};

const char *ls_registry_mode_name(ls_registry_mode_t mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "UNKNOWN";
}

ls_err_t ls_registry_mode_parse(const char *name, ls_registry_mode_t *out, ls_registry_error_t *err)
{
    for (int i = 0; name != NULL && i < 3; i++)
        if (strcasecmp(name, mode_names[i]) == 0) {
            *out = (ls_registry_mode_t)i;
            return LS_ERR_OK;
        }
    return ls_registry_error_set(err, LS_REGISTRY_INVALID_MODE,
                                 "Invalid mode. Valid values are READWRITE, READONLY, IMPORT");
}

ls_err_t ls_registry_check_subject(const char *subject, ls_registry_error_t *err)
{
    size_t n = subject ? strlen(subject) : 0;
    if (n == 0 || n > 255)
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SUBJECT,
                                     "Invalid subject: a subject name has 1 to 255 bytes");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)subject[i] < 0x20 || subject[i] == 0x7f)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_SUBJECT,
                                         "Invalid subject: control characters are not allowed");
    return LS_ERR_OK;
}

ls_err_t ls_registry_parse_schema_request(const json_t *body, ls_avro_schema_t **schema,
                                          char **canonical, int32_t *id, int *version,
                                          ls_registry_error_t *err)
{
    *id = 0;
    *version = 0;
    if (!json_is_object(body))
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                     "The request body must be a JSON object with a \"schema\"");
    json_t *type = json_object_get(body, "schemaType");
    if (type != NULL && !json_is_null(type)) {
        const char *t = json_string_value(type);
        if (t == NULL)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                         "schemaType must be a string");
        if (strcmp(t, "JSON") == 0 || strcmp(t, "PROTOBUF") == 0)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                         "Schema type %s is not supported by this registry; only "
                                         "AVRO schemas are accepted",
                                         t);
        if (strcmp(t, "AVRO") != 0)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                         "Invalid schema type %.64s; only AVRO is supported", t);
    }
    json_t *refs = json_object_get(body, "references");
    if (refs != NULL && !json_is_null(refs) && !(json_is_array(refs) && json_array_size(refs) == 0))
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                     "Schema references are not supported by this registry");
    json_t *jid = json_object_get(body, "id");
    if (jid != NULL && !json_is_null(jid)) {
        if (!json_is_integer(jid) || json_integer_value(jid) < -1 ||
            json_integer_value(jid) > 2147483647)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                         "id must be an integer from 1 to 2^31-1");
        *id = json_integer_value(jid) > 0 ? (int32_t)json_integer_value(jid) : 0;
    }
    json_t *jver = json_object_get(body, "version");
    if (jver != NULL && !json_is_null(jver)) {
        if (!json_is_integer(jver) || json_integer_value(jver) < -1 ||
            json_integer_value(jver) > 2147483647)
            return ls_registry_error_set(err, LS_REGISTRY_INVALID_VERSION,
                                         "version must be an integer from 1 to 2^31-1");
        *version = json_integer_value(jver) > 0 ? (int)json_integer_value(jver) : 0;
    }
    json_t *text = json_object_get(body, "schema");
    if (text == NULL || json_is_null(text))
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA, "Empty schema");
    if (!json_is_string(text))
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA,
                                     "\"schema\" must be a string holding the schema's JSON");
    ls_error_t perr;
    if (ls_avro_schema_parse(json_string_value(text), json_string_length(text), NULL, schema,
                             &perr) != LS_ERR_OK)
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_SCHEMA, "Invalid schema: %s%s%s",
                                     perr.message, perr.path[0] ? " at " : "", perr.path);
    *canonical = ls_registry_canonical_form(ls_avro_schema_root(*schema));
    return LS_ERR_OK;
}
