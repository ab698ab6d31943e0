-- CDC sources (server/services/sources.c): one row per source polling a
-- PostgreSQL table into a Kafka topic, with its composite watermark. The
-- watermark is written only after Kafka acknowledged every record up to it,
-- so a restart resumes from here with at most the unacknowledged tail sent
-- again.
CREATE TABLE cdc_sources (
    name text PRIMARY KEY,
    dsn text,                    -- NULL: the server's own database
    schema_name text NOT NULL,
    table_name text NOT NULL,
    key_column text NOT NULL,
    timestamp_column text NOT NULL,
    poll_interval_ms int NOT NULL,
    topic text NOT NULL,
    format text NOT NULL DEFAULT 'json',
    safety_delay_ms int NOT NULL,
    batch_size int NOT NULL,
    notify boolean NOT NULL DEFAULT false,
    watermark_us bigint,         -- timestamp, microseconds since the epoch; NULL: from the start
    watermark_key text,          -- the key column's text form at that timestamp
    rows_emitted bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
