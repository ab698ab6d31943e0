/*
 * libFuzzer harness cross-checking compatibility against resolution: input
 * is writer schema JSON, a NUL byte, reader schema JSON. When the checker
 * says the reader can read the writer, sample writer records must decode
 * with the reader schema (JSON decoder) without error; when the checker says
 * no, the decoder must refuse the pair up front. Build and run with
 * tests/fuzz/avro_fuzz.sh avro_compat_fuzz.
 */
#include <stdlib.h>
#include <string.h>

#include "avro/decoder.h"
#include "avro/sample.h"
#include "registry/compat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return 0;
    ls_avro_schema_t *w = NULL, *r = NULL;
    ls_error_t err;
    if (ls_avro_schema_parse((const char *)data, (size_t)(nul - data), NULL, &w, &err) != LS_ERR_OK)
        return 0;
    if (ls_avro_schema_parse((const char *)nul + 1, size - (size_t)(nul - data) - 1, NULL, &r,
                             &err) != LS_ERR_OK) {
        ls_avro_schema_free(w);
        return 0;
    }
    const ls_avro_node_t *wr = ls_avro_schema_root(w), *rr = ls_avro_schema_root(r);
    ls_compat_result_t res = {0};
    bool ok = ls_compat_can_read(rr, wr, &res);
    if (ok != (res.count == 0))
        abort();
    ls_compat_result_free(&res);
    ls_avro_json_decoder_t *d = NULL;
    ls_err_t rc = ls_avro_json_decoder_new(wr, rr, &d, &err);
    if ((rc == LS_ERR_OK) != ok)
        abort();
    for (uint64_t seed = 1; d && seed <= 4; seed++) {
        json_t *v = ls_avro_sample_value(
            wr, &(ls_avro_sample_options_t){.seed = seed, .array_items = 2, .null_ratio = 0.5});
        ls_avro_buf_t buf = {0};
        if (ls_avro_encode_json(wr, v, &buf, &err) == LS_ERR_OK) {
            json_t *out = NULL;
            if (ls_avro_json_decode(d, buf.data, buf.len, &out, &err) != LS_ERR_OK) {
                /* Strings that are not UTF-8 cannot be; anything else is a checker/decoder
                 * disagreement. */
                if (!strstr(err.message, "UTF-8"))
                    abort();
            }
            json_decref(out);
        }
        ls_avro_buf_free(&buf);
        json_decref(v);
    }
    ls_avro_json_decoder_free(d);
    ls_avro_schema_free(w);
    ls_avro_schema_free(r);
    return 0;
}
