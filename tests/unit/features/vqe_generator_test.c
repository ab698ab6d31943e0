#include "avro/binary.h"
#include "avro/decoder.h"
#include "avro/schema.h"
#include "core/embedded.h"
#include "features/vqe_generator.h"
#include "test.h"

#include <math.h>

static ls_avro_schema_t *load_schema(const char *path)
{
    const ls_embedded_file_t *f = ls_embedded_find(path);
    LS_REQUIRE(f != NULL);
    ls_avro_schema_t *s = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_avro_schema_parse((const char *)f->data, f->len, NULL, &s, &err) == LS_ERR_OK);
    return s;
}

static json_t *generate(const char *molecule, int iterations, uint64_t seed, int version)
{
    ls_vqe_rng_t rng;
    ls_vqe_rng_seed(&rng, seed);
    ls_vqe_params_t p = {.molecule = molecule,
                         .iterations = iterations,
                         .molecule_id = 7,
                         .schema_version = version};
    ls_error_t err;
    json_t *r = ls_vqe_generate(&p, &rng, &err);
    LS_REQUIRE(r != NULL);
    return r;
}

LS_TEST(same_seed_gives_the_same_record_and_another_seed_does_not)
{
    json_t *a = generate("LiH", 50, 42, 1), *b = generate("LiH", 50, 42, 1);
    json_t *c = generate("LiH", 50, 43, 1);
    LS_CHECK(json_equal(a, b));
    LS_CHECK(!json_equal(a, c));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

LS_TEST(molecules_have_the_reference_qubit_and_term_counts)
{
    static const struct {
        const char *name;
        int qubits, terms, atoms;
    } want[] = {{"H2", 4, 15, 2}, {"LiH", 12, 631, 2}, {"BeH2", 14, 666, 3}, {"H2O", 14, 1086, 3}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        json_t *r = generate(want[i].name, 30, 1, 1);
        json_t *init = json_object_get(json_object_get(r, "vqe_result"), "initial_data");
        LS_CHECK_INT_EQ(json_integer_value(json_object_get(init, "num_qubits")), want[i].qubits);
        json_t *h = json_object_get(init, "hamiltonian");
        LS_CHECK_INT_EQ(json_array_size(h), want[i].terms);
        /* Every label has one Pauli letter per qubit and labels are distinct. */
        json_t *seen = json_object();
        size_t k;
        json_t *term;
        json_array_foreach(h, k, term)
        {
            const char *label = json_string_value(json_object_get(term, "label"));
            LS_CHECK_INT_EQ(strlen(label), want[i].qubits);
            LS_CHECK(strspn(label, "IXYZ") == strlen(label));
            LS_CHECK(json_object_get(seen, label) == NULL);
            json_object_set_new(seen, label, json_true());
        }
        json_decref(seen);
        LS_CHECK_INT_EQ(json_array_size(json_object_get(json_object_get(r, "molecule"), "symbols")),
                        want[i].atoms);
        json_t *params = json_object_get(init, "initial_parameters");
        LS_CHECK_INT_EQ(json_array_size(params),
                        json_integer_value(json_object_get(init, "num_parameters")));
        LS_CHECK(strstr(json_string_value(json_object_get(init, "ansatz")), "OPENQASM 3.0;") !=
                 NULL);
        json_decref(r);
    }
}

LS_TEST(energies_fall_toward_the_minimum_as_std_shrinks)
{
    json_t *r = generate("H2", 300, 9, 1);
    json_t *res = json_object_get(r, "vqe_result");
    json_t *it = json_object_get(res, "iteration_list");
    LS_CHECK_INT_EQ(json_array_size(it), 300);
    double first10 = 0, last10 = 0, std_first = 0, std_last = 0;
    for (int i = 0; i < 10; i++) {
        first10 += json_real_value(json_object_get(json_array_get(it, i), "result"));
        last10 += json_real_value(json_object_get(json_array_get(it, 290 + i), "result"));
        std_first += json_real_value(json_object_get(json_array_get(it, i), "std"));
        std_last += json_real_value(json_object_get(json_array_get(it, 290 + i), "std"));
    }
    LS_CHECK(last10 < first10 - 1.0); /* 10 iterations, > 0.1 Ha each */
    LS_CHECK(std_last < std_first / 3);
    double minimum = json_real_value(json_object_get(res, "minimum"));
    LS_CHECK(fabs(minimum - -1.1373) < 0.05); /* near H2's ground state */
    LS_CHECK(minimum <= last10 / 10 + 1e-9 + 0.01);
    LS_CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(it, 0), "iteration")), 1);
    json_decref(r);
}

LS_TEST(records_encode_with_both_schema_versions)
{
    ls_avro_schema_t *v1 = load_schema("schemas/avro/vqe_decorated_result.avsc");
    ls_avro_schema_t *v2 = load_schema("schemas/avro/vqe_decorated_result.v2.avsc");
    for (int version = 1; version <= 2; version++) {
        for (int seed = 0; seed < 8; seed++) {
            json_t *r = generate(NULL, 0, (uint64_t)seed, version);
            ls_avro_buf_t out = {0};
            ls_error_t err;
            ls_err_t rc =
                ls_avro_encode_json(ls_avro_schema_root(version == 1 ? v1 : v2), r, &out, &err);
            if (rc != LS_ERR_OK)
                fprintf(stderr, "encode failed: %s\n", err.message);
            LS_CHECK_INT_EQ(rc, LS_ERR_OK);
            /* Decoding gives the record back. */
            ls_avro_json_decoder_t *d;
            LS_REQUIRE(ls_avro_json_decoder_new(ls_avro_schema_root(version == 1 ? v1 : v2), NULL,
                                                &d, &err) == LS_ERR_OK);
            json_t *back = NULL;
            LS_CHECK_INT_EQ(ls_avro_json_decode(d, out.data, out.len, &back, &err), LS_ERR_OK);
            LS_CHECK(back != NULL && json_equal(back, r));
            json_decref(back);
            ls_avro_json_decoder_free(d);
            ls_avro_buf_free(&out);
            json_decref(r);
        }
    }
    ls_avro_schema_free(v1);
    ls_avro_schema_free(v2);
}

LS_TEST(unknown_names_and_bad_counts_are_rejected)
{
    ls_vqe_rng_t rng;
    ls_vqe_rng_seed(&rng, 1);
    ls_error_t err;
    ls_vqe_params_t p = {.molecule = "CH4", .schema_version = 1};
    LS_CHECK(ls_vqe_generate(&p, &rng, &err) == NULL);
    LS_CHECK(strstr(err.message, "CH4") != NULL);
    ls_vqe_params_t q = {.basis_set = "def2-svp", .schema_version = 1};
    LS_CHECK(ls_vqe_generate(&q, &rng, &err) == NULL);
    ls_vqe_params_t o = {.optimizer = "ADAM", .schema_version = 1};
    LS_CHECK(ls_vqe_generate(&o, &rng, &err) == NULL);
    ls_vqe_params_t i = {.iterations = -3, .schema_version = 1};
    LS_CHECK(ls_vqe_generate(&i, &rng, &err) == NULL);
    ls_vqe_params_t v = {.schema_version = 3};
    LS_CHECK(ls_vqe_generate(&v, &rng, &err) == NULL);
}

LS_TEST_MAIN(LS_T(same_seed_gives_the_same_record_and_another_seed_does_not),
             LS_T(molecules_have_the_reference_qubit_and_term_counts),
             LS_T(energies_fall_toward_the_minimum_as_std_shrinks),
             LS_T(records_encode_with_both_schema_versions),
             LS_T(unknown_names_and_bad_counts_are_rejected))
