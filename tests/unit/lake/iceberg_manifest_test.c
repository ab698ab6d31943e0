#include <stdlib.h>
#include <string.h>

#include "avro/container.h"
#include "lake/iceberg_manifest.h"
#include "test.h"

LS_TEST(manifest_round_trips_with_field_ids_metrics_and_partition_summaries)
{
    json_t *schema_in = json_loads("{\"type\":\"struct\",\"fields\":["
                                   "{\"name\":\"id\",\"type\":\"long\",\"required\":true},"
                                   "{\"name\":\"day\",\"type\":\"date\"},"
                                   "{\"name\":\"score\",\"type\":\"double\"}]}",
                                   0, NULL);
    json_t *part = json_loads("[{\"source\":\"day\",\"transform\":\"identity\"}]", 0, NULL);
    ls_error_t err;
    json_t *meta = ls_iceberg_metadata_new(schema_in, part, NULL, "u", "file:///w", 1, &err);
    LS_REQUIRE(meta != NULL);
    ls_iceberg_schema_t *schema = NULL;
    ls_iceberg_spec_t *spec = NULL;
    LS_REQUIRE(ls_iceberg_metadata_schema(meta, -1, &schema, &err) == LS_ERR_OK);
    LS_REQUIRE(ls_iceberg_metadata_spec(meta, -1, schema, &spec, &err) == LS_ERR_OK);

    char *text = json_dumps(schema->json, JSON_COMPACT);
    ls_parquet_schema_t *ps = ls_parquet_schema_from_iceberg(text, strlen(text), &err);
    free(text);
    LS_REQUIRE(ps != NULL);
    ls_parquet_writer_t *w = NULL;
    LS_REQUIRE(ls_parquet_writer_new(ps, NULL, NULL, NULL, &w, &err) == LS_ERR_OK);
    for (int i = 0; i < 5; i++) {
        ls_parquet_writer_put_int64(w, 10 + i);
        ls_parquet_writer_put_int32(w, 19000);
        if (i == 2)
            ls_parquet_writer_put_null(w);
        else
            ls_parquet_writer_put_double(w, i == 3 ? 0.0 / 0.0 : 1.5 * i);
        LS_REQUIRE(ls_parquet_writer_end_row(w) == LS_ERR_OK);
    }
    LS_REQUIRE(ls_parquet_writer_close(w, &err) == LS_ERR_OK);
    ls_parquet_value_t day = {.type = LS_PARQUET_DATE, .v.i32 = 19000};
    const ls_parquet_value_t *pv[1] = {&day};
    json_t *df =
        ls_iceberg_data_file_new("file:///w/data/a.parquet", ls_parquet_writer_result(w), spec, pv);
    ls_parquet_writer_free(w);
    ls_parquet_schema_free(ps);
    json_t *entries =
        json_pack("[{s:i,s:I,s:n,s:n,s:o}]", "status", 1, "snapshot_id", (json_int_t)77,
                  "sequence_number", "file_sequence_number", "data_file", df);
    uint8_t *bytes = NULL;
    size_t len = 0;
    LS_REQUIRE(ls_iceberg_manifest_write(schema, spec, entries, &bytes, &len, &err) == LS_ERR_OK);

    /* header: the spec's metadata keys and field ids in the schema */
    ls_avro_container_reader_t *r = NULL;
    LS_REQUIRE(ls_avro_container_reader_open(bytes, len, NULL, &r, &err) == LS_ERR_OK);
    size_t n;
    const uint8_t *v = ls_avro_container_reader_meta(r, "format-version", &n);
    LS_CHECK(v != NULL && n == 1 && v[0] == '2');
    v = ls_avro_container_reader_meta(r, "content", &n);
    LS_CHECK(v != NULL && n == 4 && memcmp(v, "data", 4) == 0);
    LS_CHECK(ls_avro_container_reader_meta(r, "partition-spec", &n) != NULL);
    LS_CHECK(ls_avro_container_reader_meta(r, "partition-spec-id", &n) != NULL);
    LS_CHECK(ls_avro_container_reader_meta(r, "schema", &n) != NULL);
    v = ls_avro_container_reader_meta(r, "avro.schema", &n);
    LS_REQUIRE(v != NULL);
    char *avro_schema = strndup((const char *)v, n);
    LS_CHECK(strstr(avro_schema, "\"field-id\":134") != NULL);
    LS_CHECK(strstr(avro_schema, "\"field-id\":1000") != NULL);
    LS_CHECK(strstr(avro_schema, "\"k117_v118\"") != NULL);
    free(avro_schema);
    ls_avro_container_reader_free(r);

    json_t *back = NULL;
    LS_REQUIRE(ls_iceberg_avro_read_all(bytes, len, 100, &back, &err) == LS_ERR_OK);
    LS_REQUIRE(json_array_size(back) == 1);
    json_t *bdf = json_object_get(json_array_get(back, 0), "data_file");
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(bdf, "record_count")), 5);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(bdf, "partition"), "day")),
                    19000);
    /* lower bound of id (field 1) is 10 as 8 little-endian bytes; null count of score is 1,
     * nan count 1, upper bound of score is 6.0 */
    ls_buf_t b = LS_BUF_INIT;
    json_t *lb = json_object_get(json_array_get(json_object_get(bdf, "lower_bounds"), 0), "value");
    LS_REQUIRE(ls_iceberg_avro_bytes_get(lb, &b));
    LS_CHECK_INT_EQ((int)b.len, 8);
    LS_CHECK_INT_EQ((uint8_t)b.data[0], 10);
    size_t i;
    json_t *e;
    int checked = 0;
    json_array_foreach(json_object_get(bdf, "null_value_counts"), i, e)
    {
        if (json_integer_value(json_object_get(e, "key")) == 3) {
            LS_CHECK_INT_EQ(json_integer_value(json_object_get(e, "value")), 1);
            checked++;
        }
    }
    json_array_foreach(json_object_get(bdf, "nan_value_counts"), i, e)
    {
        LS_CHECK_INT_EQ(json_integer_value(json_object_get(e, "key")), 3);
        LS_CHECK_INT_EQ(json_integer_value(json_object_get(e, "value")), 1);
        checked++;
    }
    json_array_foreach(json_object_get(bdf, "upper_bounds"), i, e)
    {
        if (json_integer_value(json_object_get(e, "key")) != 3)
            continue;
        b.len = 0;
        LS_REQUIRE(ls_iceberg_avro_bytes_get(json_object_get(e, "value"), &b));
        double d;
        memcpy(&d, b.data, 8);
        LS_CHECK(d == 6.0);
        checked++;
    }
    LS_CHECK_INT_EQ(checked, 3);

    /* manifest list entry: counts and the partition summary's bounds */
    json_t *mf = ls_iceberg_manifest_file_new("file:///w/m.avro", len, spec, back, 77, 4);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(mf, "added_files_count")), 1);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(mf, "added_rows_count")), 5);
    json_t *sum = json_array_get(json_object_get(mf, "partitions"), 0);
    b.len = 0;
    LS_REQUIRE(ls_iceberg_avro_bytes_get(json_object_get(sum, "lower_bound"), &b));
    LS_CHECK_INT_EQ((int)b.len, 4);
    LS_CHECK_INT_EQ((uint8_t)b.data[0] | ((uint8_t)b.data[1] << 8), 19000);
    LS_CHECK(json_is_false(json_object_get(sum, "contains_null")));
    json_t *list = json_pack("[o]", mf);
    uint8_t *lbytes = NULL;
    size_t llen = 0;
    LS_REQUIRE(ls_iceberg_manifest_list_write(list, 77, -1, 4, &lbytes, &llen, &err) == LS_ERR_OK);
    json_t *lback = NULL;
    LS_REQUIRE(ls_iceberg_avro_read_all(lbytes, llen, 100, &lback, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(
        json_integer_value(json_object_get(json_array_get(lback, 0), "sequence_number")), 4);
    LS_CHECK(ls_iceberg_avro_read_all(lbytes, llen / 2, 100, &lback, &err) != LS_ERR_OK);
    LS_CHECK(ls_iceberg_avro_read_all((const uint8_t *)"junk", 4, 100, &lback, &err) != LS_ERR_OK);

    ls_buf_free(&b);
    free(bytes);
    free(lbytes);
    json_decref(list);
    json_decref(lback);
    json_decref(back);
    json_decref(entries);
    ls_iceberg_spec_free(spec);
    ls_iceberg_schema_free(schema);
    json_decref(meta);
    json_decref(schema_in);
    json_decref(part);
}

LS_TEST(avro_bytes_mapping_round_trips_every_byte)
{
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    json_t *j = ls_iceberg_avro_bytes(all, 256);
    ls_buf_t b = LS_BUF_INIT;
    LS_REQUIRE(ls_iceberg_avro_bytes_get(j, &b));
    LS_CHECK_INT_EQ((int)b.len, 256);
    LS_CHECK(memcmp(b.data, all, 256) == 0);
    ls_buf_free(&b);
    json_decref(j);
    j = json_string("\xe2\x82\xac"); /* U+20AC is not a byte */
    LS_CHECK(!ls_iceberg_avro_bytes_get(j, &b));
    ls_buf_free(&b);
    json_decref(j);
}

LS_TEST_MAIN(LS_T(manifest_round_trips_with_field_ids_metrics_and_partition_summaries),
             LS_T(avro_bytes_mapping_round_trips_every_byte))
