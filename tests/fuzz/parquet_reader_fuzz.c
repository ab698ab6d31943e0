/*
 * libFuzzer target for the Parquet reader: any input must give a clean
 * ls_err_t or a fully read file, never a crash, a leak or an out-of-range
 * access. Not built by default. Build and run (seeds: files from parquet_gen):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I server -DLS_VERSION=\"0.1.0\" \
 *     tests/fuzz/parquet_reader_fuzz.c server/lake/parquet*.c server/lake/thrift_compact.c \
 *     server/core/error.c server/core/alloc.c -ljansson -lzstd -lsnappy -lm -o parquet_reader_fuzz
 *   mkdir -p corpus && build/tests/parquet_gen 1 corpus 8 && rm corpus/f*.json
 *   ./parquet_reader_fuzz -max_len=65536 corpus
 */
#include <stddef.h>
#include <stdint.h>

#include "lake/parquet.h"

static ls_err_t on_value(void *ctx, const ls_parquet_node_t *n, const ls_parquet_value_t *v)
{
    /* touch byte values so out-of-range pointers are caught */
    if ((v->type == LS_PARQUET_STRING || v->type == LS_PARQUET_BINARY) && v->v.bytes.len)
        *(volatile uint8_t *)ctx ^= v->v.bytes.ptr[v->v.bytes.len - 1];
    return LS_ERR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_parquet_reader_t *r = NULL;
    ls_error_t err;
    if (ls_parquet_reader_open_memory(data, size, &r, &err) != LS_ERR_OK)
        return 0;
    uint8_t sink = 0;
    ls_parquet_visitor_t v = {.value = on_value};
    for (int g = 0; g < ls_parquet_reader_num_row_groups(r); g++)
        if (ls_parquet_reader_read_row_group(r, g, &v, &sink, &err) != LS_ERR_OK)
            break;
    for (int g = 0; g < ls_parquet_reader_num_row_groups(r); g++) {
        ls_parquet_chunk_stats_t cs;
        for (int l = 0; l < ls_parquet_schema_leaf_count(ls_parquet_reader_schema(r)); l++)
            ls_parquet_reader_chunk_stats(r, g, l, &cs, &err);
    }
    ls_parquet_reader_free(r);
    return 0;
}
