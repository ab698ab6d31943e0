// DuckDB side of the Parquet write benchmark: single-threaded COPY of the same generated rows
// as tests/tools/parquet_bench.c to Parquet with ZSTD. Prints one JSON line like parquet_bench.
// Usage: node duckdb_write.mjs OUT.parquet ROWS
import { createRequire } from 'node:module';
import fs from 'node:fs';

const src = process.env.LS_SOURCE_DIR || new URL('../../..', import.meta.url).pathname;
const require = createRequire(src + '/tests/e2e/package.json');
const { DuckDBInstance } = require('@duckdb/node-api');

const [out, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg || 5000000);
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run('SET threads=1');
const query = `SELECT i AS id,
  ((i * 2654435761) % 1000000)::DOUBLE / 1000.0 AS d1,
  ((i * 40503) % 65536)::DOUBLE * 0.001 AS d2,
  i::DOUBLE / 7.0 AS d3,
  'cat_' || (i % 10)::VARCHAR AS category,
  'user_' || lpad(((i * 7919) % 10000019)::VARCHAR, 11, '0') AS "user",
  list_transform(range(8), k -> (((i * 8 + k) * 2654435761) % 1000003)::DOUBLE / 100.0) AS samples
FROM range(${rows}) t(i)`;
const t0 = process.hrtime.bigint();
await conn.run(`COPY (${query}) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ rows, seconds: Number(secs.toFixed(3)), bytes: fs.statSync(out).size }));
