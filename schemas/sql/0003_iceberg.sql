-- The Iceberg JDBC catalog's own tables, created exactly as Apache Iceberg's
-- JdbcCatalog (JdbcUtil: V0 schema plus the V1 iceberg_type column) creates
-- them, so Spark, Trino or pyiceberg configured with a JDBC catalog on this
-- database (same catalog name) see lakestream's tables and commit with the
-- same compare-and-swap on metadata_location. IF NOT EXISTS: a database that
-- already hosts a JDBC catalog keeps its rows.
CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
);
ALTER TABLE iceberg_tables ADD COLUMN IF NOT EXISTS iceberg_type VARCHAR(5);

CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255),
    property_value VARCHAR(1000),
    PRIMARY KEY (catalog_name, namespace, property_key)
);
