/*
 * Synthetic VQE simulation results: VQEDecoratedResult records (the
 * schema in schemas/avro/vqe_decorated_result*.avsc) with the shapes a real
 * Qiskit run produces — Hamiltonians with the right qubit and Pauli-term
 * counts per molecule, an EfficientSU2-style QASM3 ansatz, optimizer
 * histories whose energies fall toward a plausible minimum while their
 * standard deviation shrinks, and stage timings. Deterministic for a seed,
 * so tests and demos can regenerate the same data. Pure: no I/O, any thread.
 */
#ifndef LS_FEATURES_VQE_GENERATOR_H
#define LS_FEATURES_VQE_GENERATOR_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
    const char *name;     /* "H2", "LiH", "BeH2", "H2O" */
    int num_qubits;       /* Jordan-Wigner qubits in the minimal basis */
    int num_terms;        /* Pauli terms of the qubit Hamiltonian (sto-3g) */
    double ground_energy; /* approximate FCI energy, hartree, sto-3g */
    int atom_count;
    const char *symbols[3];
    double coords[3][3]; /* angstrom */
    double masses[3];    /* u */
} ls_vqe_molecule_t;

/* The known molecules, NULL-name terminated. */
extern const ls_vqe_molecule_t ls_vqe_molecules[];
const ls_vqe_molecule_t *ls_vqe_molecule_find(const char *name);

/* Deterministic PRNG state (splitmix64); seed it with any value. */
typedef struct {
    uint64_t state;
} ls_vqe_rng_t;

void ls_vqe_rng_seed(ls_vqe_rng_t *rng, uint64_t seed);
uint64_t ls_vqe_rng_next(ls_vqe_rng_t *rng);
double ls_vqe_rng_uniform(ls_vqe_rng_t *rng); /* [0, 1) */

typedef struct {
    const char *molecule;      /* NULL: drawn at random */
    const char *basis_set;     /* NULL: drawn from sto-3g, 6-31g, cc-pvdz */
    const char *optimizer;     /* NULL: drawn from L-BFGS-B, COBYLA, SLSQP */
    int iterations;            /* 0: drawn from 20..500 */
    int molecule_id;           /* copied into the record */
    int schema_version;        /* 1 or 2 (v2 adds experiment_id, simulator_version) */
    const char *experiment_id; /* v2 only; NULL → null */
} ls_vqe_params_t;

/* Generates one record as JSON in the Avro JSON shape our encoder takes
 * (unions as plain values or null). Returns a new reference owned by the
 * caller, or NULL with INVALID_ARGUMENT for an unknown molecule, basis set,
 * optimizer or a bad iteration count (1..100000) or schema version. */
json_t *ls_vqe_generate(const ls_vqe_params_t *params, ls_vqe_rng_t *rng, ls_error_t *err);

#endif
