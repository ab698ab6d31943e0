-- Server state, first tables. Applied by server/store/migrate.c inside one
-- transaction holding the migration advisory lock; no BEGIN/COMMIT here.

-- Kafka topics registered through the API: the lake's source of truth for
-- partitioning, per-topic config and the value schema's registry subject.
CREATE TABLE topics (
    name text PRIMARY KEY,
    partitions int NOT NULL,
    replication_factor int NOT NULL,
    config jsonb NOT NULL DEFAULT '{}',
    value_subject text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
