/* Strict JSON member readers (see json.h). */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static void member_path(char *buf, size_t size, const char *path, const char *key)
{
    snprintf(buf, size, "%s.%s", path, key);
}

ls_err_t ls_json_check_members(const json_t *obj, const char *path, const char *const *allowed,
                               ls_error_t *err)
{
    if (!json_is_object(obj))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s must be a JSON object",
                                 path);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (const char *const *a = allowed; *a != NULL && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            char p[256];
            member_path(p, sizeof(p), path, key);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "unknown field %s", p);
        }
    }
    return LS_ERR_OK;
}

ls_err_t ls_json_get_string(const json_t *obj, const char *path, const char *key, bool required,
                            const char *def, const char **out, ls_error_t *err)
{
    char p[256];
    member_path(p, sizeof(p), path, key);
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        if (required)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "%s is required", p);
        return LS_ERR_OK;
    }
    if (!json_is_string(v))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "%s must be a string", p);
    *out = json_string_value(v);
    return LS_ERR_OK;
}

ls_err_t ls_json_get_int(const json_t *obj, const char *path, const char *key, bool required,
                         int64_t def, int64_t min, int64_t max, int64_t *out, ls_error_t *err)
{
    char p[256];
    member_path(p, sizeof(p), path, key);
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        if (required)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "%s is required", p);
        return LS_ERR_OK;
    }
    if (!json_is_integer(v))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "%s must be an integer", p);
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p,
                                 "%s must be between %lld and %lld", p, (long long)min,
                                 (long long)max);
    *out = i;
    return LS_ERR_OK;
}

ls_err_t ls_json_get_bool(const json_t *obj, const char *path, const char *key, bool def, bool *out,
                          ls_error_t *err)
{
    char p[256];
    member_path(p, sizeof(p), path, key);
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        return LS_ERR_OK;
    }
    if (!json_is_boolean(v))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, p, "%s must be true or false", p);
    *out = json_is_true(v);
    return LS_ERR_OK;
}

char *ls_json_dump(const json_t *value)
{
    char *s = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s == NULL)
        ls_oom(0);
    return s;
}
