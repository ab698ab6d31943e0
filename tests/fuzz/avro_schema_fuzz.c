/*
 * libFuzzer harness for schema handling: arbitrary bytes as schema JSON. A
 * schema that parses must have a canonical form that parses again to the
 * same canonical form, must be compatible with itself, and sample values of
 * it must survive encode -> decode. Anything else that aborts, leaks or
 * trips a sanitizer is a bug. Build and run with tests/fuzz/avro_fuzz.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "avro/decoder.h"
#include "avro/sample.h"
#include "registry/canonical.h"
#include "registry/compat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_avro_schema_t *s;
    ls_error_t err;
    if (ls_avro_schema_parse((const char *)data, size, NULL, &s, &err) != LS_ERR_OK)
        return 0;
    const ls_avro_node_t *root = ls_avro_schema_root(s);
    char *pcf = ls_registry_canonical_form(root);
    ls_avro_schema_t *again;
    /* Defaults are stripped by the canonical form, so it always re-parses. */
    if (ls_avro_schema_parse(pcf, strlen(pcf), NULL, &again, &err) != LS_ERR_OK)
        abort();
    char *pcf2 = ls_registry_canonical_form(ls_avro_schema_root(again));
    if (strcmp(pcf, pcf2) != 0)
        abort();
    ls_compat_result_t res = {0};
    if (!ls_compat_can_read(root, root, &res) ||
        !ls_compat_can_read(ls_avro_schema_root(again), root, &res))
        abort();
    ls_compat_result_free(&res);
    json_t *v =
        ls_avro_sample_value(root, &(ls_avro_sample_options_t){.seed = size, .array_items = 2});
    ls_avro_buf_t buf = {0};
    if (ls_avro_encode_json(root, v, &buf, &err) == LS_ERR_OK) {
        ls_avro_json_decoder_t *d;
        json_t *back = NULL;
        if (ls_avro_json_decoder_new(root, NULL, &d, &err) != LS_ERR_OK)
            abort();
        if (ls_avro_json_decode(d, buf.data, buf.len, &back, &err) != LS_ERR_OK)
            abort();
        json_decref(back);
        ls_avro_json_decoder_free(d);
    }
    ls_avro_buf_free(&buf);
    json_decref(v);
    free(pcf);
    free(pcf2);
    ls_avro_schema_free(again);
    ls_avro_schema_free(s);
    return 0;
}
