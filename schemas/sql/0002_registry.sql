-- Schema registry state (server/registry/). Schemas are global and keyed by
-- their Avro Parsing Canonical Form: the same canonical schema under two
-- subjects has one id. Ids come from a sequence, so they are never reused even
-- after a permanent delete; the schema row itself is kept forever so a schema
-- registered again gets its old id back. Every write to a subject holds
-- pg_advisory_xact_lock(1919252339, hashtext(subject)) for its transaction.

CREATE SEQUENCE registry_schema_ids AS integer START 1;

CREATE TABLE registry_schemas (
    id integer PRIMARY KEY,
    schema_type text NOT NULL DEFAULT 'AVRO',
    canonical_md5 text NOT NULL UNIQUE,
    canonical text NOT NULL,
    schema_text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per subject version; soft-deleted versions keep their row with
-- deleted = true until a permanent delete removes it.
CREATE TABLE registry_subject_versions (
    subject text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    schema_id integer NOT NULL REFERENCES registry_schemas (id),
    deleted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, version)
);
CREATE INDEX registry_subject_versions_schema_id ON registry_subject_versions (schema_id);

-- Compatibility level and mode; subject '' is the global setting (a subject
-- name is never empty).
CREATE TABLE registry_config (
    subject text PRIMARY KEY,
    compatibility text NOT NULL
);

CREATE TABLE registry_mode (
    subject text PRIMARY KEY,
    mode text NOT NULL
);
