/*
 * VQE result generator (see vqe_generator.h). The numbers are plausible, not
 * physical: term coefficients decay like a real molecular Hamiltonian's, the
 * optimizer converges exponentially with optimizer-specific rates, and the
 * sampled standard deviation follows shot noise shrinking as the state
 * approaches an eigenstate. It must stay deterministic for a seed: no
 * clock, no global state.
 */
#include "features/vqe_generator.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

const ls_vqe_molecule_t ls_vqe_molecules[] = {
    {"H2", 4, 15, -1.1373, 2, {"H", "H"}, {{0, 0, 0}, {0, 0, 0.735}}, {1.008, 1.008}},
    {"LiH", 12, 631, -7.8823, 2, {"Li", "H"}, {{0, 0, 0}, {0, 0, 1.595}}, {6.94, 1.008}},
    {"BeH2",
     14,
     666,
     -15.5952,
     3,
     {"Be", "H", "H"},
     {{0, 0, 0}, {0, 0, 1.326}, {0, 0, -1.326}},
     {9.012, 1.008, 1.008}},
    {"H2O",
     14,
     1086,
     -75.0129,
     3,
     {"O", "H", "H"},
     {{0, 0, 0.1173}, {0, 0.7572, -0.4692}, {0, -0.7572, -0.4692}},
     {15.999, 1.008, 1.008}},
    {NULL, 0, 0, 0, 0, {NULL}, {{0}}, {0}},
};

static const struct {
    const char *name;
    double energy_shift; /* larger bases reach lower energies */
} basis_sets[] = {{"sto-3g", 0.0}, {"6-31g", -0.0087}, {"cc-pvdz", -0.0231}};

static const struct {
    const char *name;
    double rate;      /* convergence speed relative to the iteration budget */
    double overshoot; /* how far above the minimum it stops */
} optimizers[] = {{"L-BFGS-B", 7.0, 0.0004}, {"COBYLA", 4.0, 0.0021}, {"SLSQP", 6.0, 0.0009}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const ls_vqe_molecule_t *ls_vqe_molecule_find(const char *name)
{
    for (const ls_vqe_molecule_t *m = ls_vqe_molecules; m->name != NULL; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

void ls_vqe_rng_seed(ls_vqe_rng_t *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t ls_vqe_rng_next(ls_vqe_rng_t *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double ls_vqe_rng_uniform(ls_vqe_rng_t *rng)
{
    return (double)(ls_vqe_rng_next(rng) >> 11) / 9007199254740992.0;
}

static double gaussian(ls_vqe_rng_t *rng)
{
    double u = ls_vqe_rng_uniform(rng), v = ls_vqe_rng_uniform(rng);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

static int uniform_int(ls_vqe_rng_t *rng, int lo, int hi)
{
    return lo + (int)(ls_vqe_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

/* Distinct Pauli strings: the identity first, then Z/ZZ terms (the bulk of a
 * molecular Hamiltonian), then XX/YY exchange terms, as Jordan-Wigner gives. */
static json_t *hamiltonian(const ls_vqe_molecule_t *m, ls_vqe_rng_t *rng)
{
    json_t *terms = json_array();
    json_t *seen = json_object();
    char label[32];
    int n = m->num_qubits;
    for (int t = 0; json_array_size(terms) < (size_t)m->num_terms; t++) {
        if (t == 0) {
            memset(label, 'I', (size_t)n);
        } else {
            for (int q = 0; q < n; q++) {
                uint64_t r = ls_vqe_rng_next(rng) % 100;
                label[q] = t < n * 2 ? (r < 70 ? 'I' : 'Z') : (r < 55 ? 'I' : "XYZ"[r % 3]);
            }
        }
        label[n] = '\0';
        if (json_object_get(seen, label) != NULL)
            continue;
        json_object_set_new(seen, label, json_true());
        double magnitude = t == 0 ? m->ground_energy * 0.6 : 0.8 * exp(-0.012 * t) + 1e-4;
        double sign = ls_vqe_rng_uniform(rng) < 0.5 ? -1.0 : 1.0;
        json_array_append_new(terms,
                              json_pack("{s:s,s:{s:f,s:f}}", "label", label, "coefficients", "real",
                                        t == 0 ? magnitude : sign * magnitude, "imaginary", 0.0));
    }
    json_decref(seen);
    return terms;
}

/* An EfficientSU2-style circuit in OpenQASM 3 with named parameters. */
static char *ansatz_qasm(int qubits, int reps, int *num_parameters)
{
    ls_buf_t b = LS_BUF_INIT;
    int p = 0;
    ls_buf_printf(&b,
                  "OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninput float[64] theta[%d];\n"
                  "qubit[%d] q;\n",
                  2 * qubits * (reps + 1), qubits);
    for (int r = 0; r <= reps; r++) {
        for (int q = 0; q < qubits; q++)
            ls_buf_printf(&b, "ry(theta[%d]) q[%d];\n", p++, q);
        for (int q = 0; q < qubits; q++)
            ls_buf_printf(&b, "rz(theta[%d]) q[%d];\n", p++, q);
        if (r < reps)
            for (int q = 0; q + 1 < qubits; q++)
                ls_buf_printf(&b, "cx q[%d], q[%d];\n", q, q + 1);
    }
    *num_parameters = p;
    return ls_buf_steal(&b, NULL);
}

static json_t *parameter_vector(int n, ls_vqe_rng_t *rng, const double *center, double spread)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        double base = center != NULL ? center[i] : 0.0;
        json_array_append_new(a, json_real(base + spread * gaussian(rng)));
    }
    return a;
}

json_t *ls_vqe_generate(const ls_vqe_params_t *params, ls_vqe_rng_t *rng, ls_error_t *err)
{
    const ls_vqe_molecule_t *m;
    if (params->molecule != NULL) {
        m = ls_vqe_molecule_find(params->molecule);
        if (m == NULL) {
            ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                         "unknown molecule \"%s\" (known: H2, LiH, BeH2, H2O)", params->molecule);
            return NULL;
        }
    } else {
        m = &ls_vqe_molecules[ls_vqe_rng_next(rng) % (COUNT(ls_vqe_molecules) - 1)];
    }
    size_t basis = ls_vqe_rng_next(rng) % COUNT(basis_sets);
    if (params->basis_set != NULL) {
        for (basis = 0; basis < COUNT(basis_sets); basis++)
            if (strcmp(basis_sets[basis].name, params->basis_set) == 0)
                break;
        if (basis == COUNT(basis_sets)) {
            ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                         "unknown basis set \"%s\" (known: sto-3g, 6-31g, cc-pvdz)",
                         params->basis_set);
            return NULL;
        }
    }
    size_t opt = ls_vqe_rng_next(rng) % COUNT(optimizers);
    if (params->optimizer != NULL) {
        for (opt = 0; opt < COUNT(optimizers); opt++)
            if (strcmp(optimizers[opt].name, params->optimizer) == 0)
                break;
        if (opt == COUNT(optimizers)) {
            ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                         "unknown optimizer \"%s\" (known: L-BFGS-B, COBYLA, SLSQP)",
                         params->optimizer);
            return NULL;
        }
    }
    int iterations = params->iterations > 0 ? params->iterations : uniform_int(rng, 20, 500);
    if (params->iterations < 0 || iterations > 100000) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "iterations must be 1..100000");
        return NULL;
    }
    if (params->schema_version != 1 && params->schema_version != 2) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "schema_version must be 1 or 2");
        return NULL;
    }

    int reps = m->num_qubits <= 4 ? 2 : 1;
    int num_parameters;
    char *ansatz = ansatz_qasm(m->num_qubits, reps, &num_parameters);
    double *optimal = ls_malloc(sizeof(double) * (size_t)num_parameters);
    for (int i = 0; i < num_parameters; i++)
        optimal[i] = M_PI * (2.0 * ls_vqe_rng_uniform(rng) - 1.0);

    double minimum_true = m->ground_energy + basis_sets[basis].energy_shift;
    double start = minimum_true + 0.35 + 0.5 * ls_vqe_rng_uniform(rng) * fabs(minimum_true) * 0.05;
    double finish_gap = optimizers[opt].overshoot * (1.0 + ls_vqe_rng_uniform(rng));
    int shots = ls_vqe_rng_uniform(rng) < 0.5 ? 1024 : 4096;

    json_t *iteration_list = json_array();
    double best = INFINITY;
    json_t *best_params = NULL;
    for (int k = 0; k < iterations; k++) {
        double progress = (double)k / (double)(iterations > 1 ? iterations - 1 : 1);
        double decay = exp(-optimizers[opt].rate * progress);
        double std = (0.05 * decay + 0.002) * sqrt(1024.0 / shots);
        double energy = minimum_true + finish_gap + (start - minimum_true - finish_gap) * decay +
                        0.25 * std * gaussian(rng);
        json_t *p = parameter_vector(num_parameters, rng, optimal, 1.2 * decay + 0.01);
        if (energy < best) {
            best = energy;
            json_decref(best_params);
            best_params = json_incref(p);
        }
        json_array_append_new(iteration_list,
                              json_pack("{s:i,s:o,s:f,s:f}", "iteration", k + 1, "parameters", p,
                                        "result", energy, "std", std));
    }

    double mapping_time = 0.002 * m->num_terms * (1.0 + 0.2 * ls_vqe_rng_uniform(rng));
    double hamiltonian_time = 0.05 * m->num_qubits * (1.0 + 0.3 * ls_vqe_rng_uniform(rng));
    double minimization_time =
        iterations * 0.0004 * m->num_terms * (1.0 + 0.1 * ls_vqe_rng_uniform(rng));
    double vqe_time = minimization_time * 1.04;

    json_t *symbols = json_array(), *coords = json_array(), *masses = json_array();
    for (int a = 0; a < m->atom_count; a++) {
        json_array_append_new(symbols, json_string(m->symbols[a]));
        json_array_append_new(
            coords, json_pack("[f,f,f]", m->coords[a][0], m->coords[a][1], m->coords[a][2]));
        json_array_append_new(masses, json_real(m->masses[a]));
    }
    json_t *initial = json_pack(
        "{s:s,s:i,s:o,s:i,s:o,s:s,s:s,s:i,s:s,s:i}", "backend", "aer_simulator", "num_qubits",
        m->num_qubits, "hamiltonian", hamiltonian(m, rng), "num_parameters", num_parameters,
        "initial_parameters", parameter_vector(num_parameters, rng, optimal, 1.2), "optimizer",
        optimizers[opt].name, "ansatz", ansatz, "ansatz_reps", reps, "noise_backend",
        shots == 1024 ? "none" : "fake_manila", "default_shots", shots);
    json_t *maxcv = ls_vqe_rng_uniform(rng) < 0.5 ? json_null() : json_real(0.0);
    json_t *result =
        json_pack("{s:o,s:o,s:f,s:o,s:o,s:f}", "initial_data", initial, "iteration_list",
                  iteration_list, "minimum", best, "optimal_parameters", best_params, "maxcv",
                  maxcv, "minimization_time", minimization_time);
    json_t *molecule =
        json_pack("{s:o,s:o,s:i,s:i,s:s,s:o}", "symbols", symbols, "coords", coords, "multiplicity",
                  1, "charge", 0, "units", "angstrom", "masses", masses);
    json_t *record =
        json_pack("{s:o,s:o,s:s,s:f,s:f,s:f,s:f,s:i}", "vqe_result", result, "molecule", molecule,
                  "basis_set", basis_sets[basis].name, "hamiltonian_time", hamiltonian_time,
                  "mapping_time", mapping_time, "vqe_time", vqe_time, "total_time",
                  hamiltonian_time + mapping_time + vqe_time, "molecule_id", params->molecule_id);
    if (params->schema_version == 2) {
        json_object_set_new(record, "experiment_id",
                            params->experiment_id ? json_string(params->experiment_id)
                                                  : json_null());
        json_object_set_new(record, "simulator_version", json_string("qiskit-aer 0.13.3"));
    }
    free(ansatz);
    free(optimal);
    return record;
}
