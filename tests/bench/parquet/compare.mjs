// Checks that the lakestream and DuckDB benchmark files hold the same rows (aggregates over every
// column, computed by DuckDB from each file). Usage: node compare.mjs A.parquet B.parquet
import { createRequire } from 'node:module';

const src = process.env.LS_SOURCE_DIR || new URL('../../..', import.meta.url).pathname;
const require = createRequire(src + '/tests/e2e/package.json');
const { DuckDBInstance } = require('@duckdb/node-api');
const conn = await (await DuckDBInstance.create(':memory:')).connect();
const agg = async (f) => (await conn.runAndReadAll(`SELECT count(*), sum(id), sum(d1), sum(d2), sum(d3),
  count(DISTINCT category), count(DISTINCT "user"), sum(list_sum(samples)), sum(len(samples))
  FROM read_parquet('${f}')`)).getRows()[0].map(String);
const [a, b] = await Promise.all(process.argv.slice(2, 4).map(agg));
const same = a.every((x, i) => x === b[i] || Math.abs(Number(x) - Number(b[i])) <= 1e-6 * Math.abs(Number(x)));
console.log(same ? 'same rows: ' + a.join(' ') : 'DIFFERENT rows:\n  ' + a.join(' ') + '\n  ' + b.join(' '));
process.exit(same ? 0 : 1);
