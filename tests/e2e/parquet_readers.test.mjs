// Independent-reader check of lakestream's Parquet writer: parquet_gen writes
// random schemas and data plus the expected values as JSON; DuckDB and
// hyparquet must read every value back equal, DuckDB must see our field ids
// and types in the schema, and the statistics in our footer must match what
// DuckDB computes from the data itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(process.env.LS_SOURCE_DIR + '/tests/e2e/package.json');
const { DuckDBInstance } = require('@duckdb/node-api');
const hyparquet = await import(require.resolve('hyparquet'));
const { compressors } = await import(require.resolve('hyparquet-compressors'));

const SEED = process.env.LS_PARQUET_SEED || '20261122';
const FILES = 40;
let dir, conn, instance;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-parquet-'));
  execFileSync(path.join(process.env.LS_BUILD_DIR, 'tests', 'parquet_gen'), [SEED, dir, String(FILES)]);
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
});

after(() => {
  conn?.closeSync?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const sameNumber = (a, b) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);

// Compares one reader's value against the canonical expected value of schema node `node`.
function check(node, exp, got, where, reader) {
  if (exp === null) {
    assert.ok(got === null || got === undefined, `${where}: expected null, got ${String(got)}`);
    return;
  }
  assert.ok(got !== null && got !== undefined, `${where}: expected ${JSON.stringify(exp)}, got null`);
  const duck = reader === 'duckdb';
  switch (node.type) {
    case 'boolean':
    case 'int32':
    case 'string':
      assert.equal(got, exp, where);
      break;
    case 'int64':
      assert.equal(String(got), exp, where);
      break;
    case 'float':
      assert.ok(sameNumber(got, Math.fround(Number(exp))), `${where}: ${got} != ${exp}`);
      break;
    case 'double':
      assert.ok(sameNumber(got, Number(exp)), `${where}: ${got} != ${exp}`);
      break;
    case 'binary':
    case 'fixed':
      assert.equal(hex(duck ? got.bytes : got), exp, where);
      break;
    case 'uuid': // both readers hand out the 8-4-4-4-12 text form
      assert.equal(String(got).replaceAll('-', ''), exp, where);
      break;
    case 'time':
      assert.equal(String(duck ? got.micros : got), exp, where);
      break;
    case 'date': // hyparquet runs with identity parsers: days and microseconds as stored
      assert.equal(duck ? got.days : got, exp, where);
      break;
    case 'timestamp':
    case 'timestamptz':
      assert.equal(String(duck ? got.micros : got), exp, where);
      break;
    case 'decimal':
      if (duck) assert.equal(String(got.value), exp, where);
      else {
        // hyparquet converts decimals to a JS number: equal up to double rounding
        const want = Number(exp) / 10 ** node.scale;
        assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${where}: ${got} != ${want}`);
      }
      break;
    case 'list': {
      const items = duck ? got.items : got;
      assert.ok(Array.isArray(items), `${where}: not a list`);
      assert.equal(items.length, exp.length, `${where}: list length`);
      exp.forEach((e, i) => check(node.element, e, items[i], `${where}[${i}]`, reader));
      break;
    }
    case 'map': {
      if (duck) {
        // DuckDBMapValue: entries [{key, value}] in file order
        assert.equal(got.entries.length, exp.length, `${where}: map size`);
        exp.forEach(([k, v], i) => {
          check(node.key, k, got.entries[i].key, `${where}{key ${i}}`, reader);
          check(node.value, v, got.entries[i].value, `${where}{value ${i}}`, reader);
        });
      } else {
        // hyparquet: a plain object keyed by the key's string form
        assert.equal(Object.keys(got).length, exp.length, `${where}: map size`);
        for (const [k, v] of exp) check(node.value, v, got[String(k)], `${where}{${k}}`, reader);
      }
      break;
    }
    case 'struct': {
      const entries = duck ? got.entries : got;
      for (const f of node.fields) check(f, exp[f.name], entries[f.name], `${where}.${f.name}`, reader);
      break;
    }
    default:
      assert.fail(`unknown type ${node.type}`);
  }
}

function checkRows(expected, rows, reader) {
  assert.equal(rows.length, expected.rows, `${expected.file}: row count (${reader})`);
  expected.data.forEach((row, r) => {
    for (const node of expected.schema)
      check(node, row[node.name], rows[r][node.name], `${expected.file}[${r}].${node.name} (${reader})`, reader);
  });
}

async function all(sql) {
  return (await conn.runAndReadAll(sql)).getRowObjects();
}

const duckType = (n) => ({
  boolean: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
  string: 'VARCHAR', binary: 'BLOB', date: 'DATE', timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMP WITH TIME ZONE', decimal: `DECIMAL(${n.precision},${n.scale})`,
  time: 'TIME', uuid: 'UUID', fixed: 'BLOB',
})[n.type];

function flatten(nodes, out = []) {
  for (const n of nodes) {
    out.push([n.name, n.field_id]);
    if (n.type === 'list') flatten([n.element], out);
    if (n.type === 'map') flatten([n.key, n.value], out);
    if (n.type === 'struct') flatten(n.fields, out);
  }
  return out;
}

for (let i = 0; i < FILES; i++) {
  test(`file ${i}: DuckDB and hyparquet read every value; schema and statistics match`, async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(dir, `f${i}.json`), 'utf8'));
    const file = path.join(dir, expected.file);
    const q = file.replaceAll("'", "''");

    // values, DuckDB
    checkRows(expected, await all(`SELECT * FROM read_parquet('${q}')`), 'duckdb');

    // values, hyparquet
    const buf = fs.readFileSync(file);
    assert.equal(buf.length, expected.file_size);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const parsers = { dateFromDays: (d) => d, timestampFromMicroseconds: (us) => us };
    const hrows = await hyparquet.parquetReadObjects({ file: ab, compressors, utf8: false, parsers });
    checkRows(expected, hrows, 'hyparquet');

    // file metadata: rows, row groups, created_by
    const [fm] = await all(`SELECT * FROM parquet_file_metadata('${q}')`);
    assert.equal(Number(fm.num_rows), expected.rows);
    assert.equal(Number(fm.num_row_groups), expected.row_groups);
    assert.match(fm.created_by, /^lakestream version /);
    const kv = await all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${q}')`);
    assert.deepEqual(kv, [{ k: 'lakestream.gen', v: expected.gen }]);

    // schema: every node's name and Iceberg field id, in order; top-level types
    const schemaRows = (await all(`SELECT name, field_id FROM parquet_schema('${q}')`))
      .slice(1).filter((r) => r.name !== 'list' && r.name !== 'key_value').map((r) => [r.name, Number(r.field_id)]);
    assert.deepEqual(schemaRows, flatten(expected.schema));
    const desc = await all(`DESCRIBE SELECT * FROM read_parquet('${q}')`);
    for (const n of expected.schema)
      if (duckType(n)) assert.equal(desc.find((d) => d.column_name === n.name).column_type, duckType(n), n.name);

    // statistics: per-leaf totals equal the writer's results
    const meta = await all(`SELECT row_group_id, row_group_num_rows, path_in_schema, num_values,
      stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${q}')
      ORDER BY row_group_id, column_id`);
    for (const leaf of expected.leaves) {
      const dotted = (m) => m.path_in_schema.split(', ').join('.');
      const chunks = meta.filter((m) => dotted(m) === leaf.path);
      assert.equal(chunks.length, expected.row_groups, leaf.path);
      assert.equal(chunks.reduce((s, m) => s + Number(m.stats_null_count), 0), leaf.null_count, `${leaf.path} nulls`);
      assert.equal(chunks.reduce((s, m) => s + Number(m.num_values), 0), leaf.value_count, `${leaf.path} values`);
    }

    // the writer's per-file results (what Iceberg manifests get) equal DuckDB's aggregates over
    // the whole column, NaNs excluded and counted
    for (const n of expected.schema) {
      if (!duckType(n) || expected.rows === 0) continue;
      const leaf = expected.leaves.find((l) => l.path === n.name);
      const col = `"${n.name}"`;
      const fp = n.type === 'float' || n.type === 'double';
      const notNan = fp ? `FILTER (WHERE NOT isnan(${col}))` : '';
      const [agg] = await all(`SELECT min(${col}) ${notNan} AS mn, max(${col}) ${notNan} AS mx,
        count(*) - count(${col}) AS nulls, ${fp ? `count(*) FILTER (WHERE isnan(${col}))` : '0'} AS nans
        FROM read_parquet('${q}')`);
      assert.equal(leaf.null_count, Number(agg.nulls), `${n.name} result null_count`);
      assert.equal(leaf.nan_count, Number(agg.nans), `${n.name} result nan_count`);
      assert.equal(leaf.value_count, expected.rows, `${n.name} result value_count`);
      assert.ok(leaf.compressed_size > 0);
      if (agg.mn === null) {
        assert.equal(leaf.min, undefined, `${n.name}: no min/max when every value is null or NaN`);
        continue;
      }
      if (fp) {
        // -0.0 and +0.0 are equal bounds
        const round = n.type === 'float' ? Math.fround : (x) => x;
        assert.ok(round(Number(leaf.min)) === agg.mn && round(Number(leaf.max)) === agg.mx, `${n.name} result min/max`);
      } else {
        check(n, leaf.min, agg.mn, `${expected.file} ${n.name} result min`, 'duckdb');
        check(n, leaf.max, agg.mx, `${expected.file} ${n.name} result max`, 'duckdb');
      }
    }

    // statistics: for top-level primitive columns, footer min/max/null_count per row group equal
    // what DuckDB computes from the rows of that row group
    const hmeta = hyparquet.parquetMetadata(ab);
    const hcol = (name) => hmeta.row_groups[0].columns.findIndex((c) => c.meta_data.path_in_schema.join('.') === name);
    let start = 0;
    const groups = [...new Set(meta.map((m) => Number(m.row_group_id)))];
    for (const g of groups) {
      const rows = Number(meta.find((m) => Number(m.row_group_id) === g).row_group_num_rows);
      for (const n of expected.schema) {
        if (!duckType(n)) continue;
        const m = meta.find((x) => Number(x.row_group_id) === g && x.path_in_schema === n.name);
        const col = `"${n.name}"`;
        const notNan = n.type === 'float' || n.type === 'double' ? `FILTER (WHERE NOT isnan(${col}))` : '';
        const [agg] = await all(`SELECT min(${col}) ${notNan} :: VARCHAR AS mn, max(${col}) ${notNan} :: VARCHAR AS mx,
          count(*) - count(${col}) AS nulls FROM read_parquet('${q}', file_row_number = true)
          WHERE file_row_number >= ${start} AND file_row_number < ${start + rows}`);
        const where = `${expected.file} rg ${g} ${n.name}`;
        assert.equal(Number(m.stats_null_count), Number(agg.nulls), `${where} null_count`);
        if (n.type === 'float' || n.type === 'double') {
          // DuckDB leaves infinite float statistics out of parquet_metadata, so the footer values
          // are compared through hyparquet's decoder; -0.0 and +0.0 are equal (our writer uses
          // -0.0 for a zero minimum, as the spec asks).
          const round = n.type === 'float' ? Math.fround : (x) => x;
          const num = (s) => (s === null ? null : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : round(Number(s)));
          const hstats = hmeta.row_groups[g].columns[hcol(n.name)].meta_data.statistics;
          const same = (a, b) => a === b || (a !== null && b !== null && a === b);
          assert.ok(same(hstats.min_value ?? null, num(agg.mn)), `${where} min ${hstats.min_value} != ${agg.mn}`);
          assert.ok(same(hstats.max_value ?? null, num(agg.mx)), `${where} max ${hstats.max_value} != ${agg.mx}`);
          if (m.stats_min_value !== null) assert.ok(same(num(m.stats_min_value), num(agg.mn)), `${where} duckdb min`);
          if (m.stats_max_value !== null) assert.ok(same(num(m.stats_max_value), num(agg.mx)), `${where} duckdb max`);
          if (Number.isFinite(num(agg.mn)) && Number.isFinite(num(agg.mx)))
            assert.ok(m.stats_min_value !== null && m.stats_max_value !== null, `${where} duckdb sees finite stats`);
        } else {
          assert.equal(m.stats_min_value, agg.mn, `${where} min`);
          assert.equal(m.stats_max_value, agg.mx, `${where} max`);
        }
      }
      start += rows;
    }
  });
}

// The other direction: lakestream's reader (through parquet_dump) against the writer's
// expected values, with and without projection, and against files DuckDB wrote.
const dump = (file, ids = []) => {
  const out = execFileSync(path.join(process.env.LS_BUILD_DIR, 'tests', 'parquet_dump'), [file, ...ids.map(String)],
    { maxBuffer: 1 << 28 }).toString();
  return JSON.parse(out);
};

test('lakestream reader reads every generated file back equal, whole and projected by field id', () => {
  for (let i = 0; i < FILES; i++) {
    const expected = JSON.parse(fs.readFileSync(path.join(dir, `f${i}.json`), 'utf8'));
    const got = dump(path.join(dir, expected.file));
    assert.deepEqual(got.schema, expected.schema, expected.file);
    assert.deepEqual(got.rows, expected.data, expected.file);
    // project onto every other top-level field
    const keep = expected.schema.filter((_, k) => k % 2 === 1);
    if (keep.length === 0) continue;
    const projected = dump(path.join(dir, expected.file), keep.map((n) => n.field_id));
    const want = expected.data.map((row) => Object.fromEntries(keep.map((n) => [n.name, row[n.name]])));
    assert.deepEqual(projected.rows, want, `${expected.file} projected`);
  }
});

test('lakestream reader reads files DuckDB wrote, every value equal to DuckDB reading them', async () => {
  const select = `SELECT i::INTEGER AS i32, (i * 1000003 - 500000000)::BIGINT AS i64,
      CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
      (i / 3.0)::FLOAT AS f, CASE WHEN i % 11 = 0 THEN 'nan'::DOUBLE ELSE i * 1.5e-3 END AS d,
      CASE WHEN i % 5 = 0 THEN NULL ELSE 'str-' || (i % 13) || '-ünï' END AS s,
      encode('b' || i)::BLOB AS bin, DATE '1970-01-01' + (i * 37 - 3000)::INTEGER AS dt,
      TIMESTAMP '2001-02-03 04:05:06' + to_microseconds(i * 123456789) AS ts,
      TIMESTAMPTZ '1999-12-31 23:59:59+00' + to_microseconds(i * 987654321) AS tstz,
      (i * 7 - 300)::DECIMAL(9,2) AS dec9, (i * 123456789)::DECIMAL(18,4) AS dec18,
      (i::HUGEINT * 1000000000000000000 + i)::DECIMAL(30,5) AS dec30,
      CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN [] ELSE [[i * 0.5, NULL], [], [i::DOUBLE]] END AS matrix,
      {'a': i % 3, 'tags': CASE WHEN i % 6 = 0 THEN NULL ELSE ['x' || i, NULL, ''] END} AS st,
      [{'k': i, 'v': 'v' || i}, NULL] AS pairs,
      TIME '00:00:00' + to_microseconds((i * 1000003) % 86400000000) AS tm,
      md5(i::VARCHAR)::UUID AS u,
      CASE WHEN i % 9 = 0 THEN NULL ELSE MAP {'a': i, 'b' || i: NULL} END AS mp
    FROM range(3000) t(i)`;
  for (const codec of ['zstd', 'snappy', 'uncompressed']) {
    const file = path.join(dir, `duck_${codec}.parquet`);
    await conn.run(`COPY (${select}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 1000)`);
    const ours = dump(file);
    const theirs = await all(`SELECT * FROM read_parquet('${file}')`);
    assert.equal(ours.rows.length, 3000);
    assert.deepEqual(ours.schema.map((n) => n.type), ['int32', 'int64', 'boolean', 'float', 'double', 'string',
      'binary', 'date', 'timestamp', 'timestamptz', 'decimal', 'decimal', 'decimal', 'list', 'struct', 'list',
      'time', 'uuid', 'map']);
    ours.rows.forEach((row, r) => {
      for (const node of ours.schema) check(node, row[node.name], theirs[r][node.name], `${codec}[${r}].${node.name}`, 'duckdb');
    });
  }
});
