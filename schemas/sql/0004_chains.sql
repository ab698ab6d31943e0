-- Filter chains deployed over the API (server/services/chains.c). The spec
-- is stored exactly as validated; every instance restarts the chains it
-- finds here at start. Offsets live in Kafka's consumer groups, not here.
CREATE TABLE chains (
    name text PRIMARY KEY,
    spec jsonb NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
