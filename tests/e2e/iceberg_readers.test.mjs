// Outside readers agree with lakestream on the Iceberg tables it writes:
// icebird (an independent Iceberg reader) reads the current snapshot and the
// snapshot of every tag with every value equal to what was appended; avsc
// decodes the manifests and manifest lists and finds the spec's field ids in
// their header schemas; DuckDB reads the data files the manifests list and
// counts exactly the records the manifests claim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, waitReady, request, requireClient } from '../integration/lib/harness.mjs';

const require = requireClient;
const icebird = await import(path.join(process.env.LS_SOURCE_DIR, 'tests/e2e/node_modules/icebird/src/index.js'));
const avro = require('avsc');
const { DuckDBInstance } = require('@duckdb/node-api');

// icebird fetches over HTTP; our test warehouse is a directory, so file:// URLs are served
// from disk (with Range support) and everything else goes to the real fetch.
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const u = String(url);
  if (!u.startsWith('file://')) return realFetch(url, init);
  const p = decodeURIComponent(new URL(u).pathname);
  if (!fs.existsSync(p)) return new Response('not found', { status: 404 });
  const buf = fs.readFileSync(p);
  const range = new Headers(init.headers).get('range');
  if (range) {
    const m = /bytes=(\d+)-(\d*)/.exec(range);
    const s = Number(m[1]);
    const e = m[2] ? Math.min(Number(m[2]), buf.length - 1) : buf.length - 1;
    return new Response(buf.subarray(s, e + 1), {
      status: 206, headers: { 'content-range': `bytes ${s}-${e}/${buf.length}`, 'content-length': String(e - s + 1) },
    });
  }
  return new Response(buf, { status: 200, headers: { 'content-length': String(buf.length) } });
};

let server;
before(async () => {
  server = await startServer();
  await waitReady(server);
});
after(async () => {
  if (server) assert.equal((await server.stop()).code, 0);
});

const schema = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', required: true },
    { name: 'n', type: 'int' },
    { name: 'x', type: 'double' },
    { name: 'label', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'ok', type: 'boolean' },
  ],
};

function makeRows(start, count, day) {
  return Array.from({ length: count }, (_, i) => {
    const id = start + i;
    return {
      id,
      n: id % 7 === 0 ? null : id * 3 - 50,
      x: id / 8,
      label: id % 5 === 0 ? null : `row-${id}-é`,
      day,
      ok: id % 2 === 0,
    };
  });
}

// icebird's values -> our JSON form
function normalize(r) {
  return {
    id: Number(r.id),
    n: r.n ?? null,
    x: r.x,
    label: r.label ?? null,
    day: r.day instanceof Date ? r.day.toISOString().slice(0, 10) : r.day,
    ok: r.ok,
  };
}
const byId = (a, b) => a.id - b.id;

function metadataOf(loc) {
  return JSON.parse(fs.readFileSync(new URL(loc)));
}

async function readAvro(file) {
  return new Promise((resolve, reject) => {
    const records = [];
    let header;
    avro.createFileDecoder(file)
      .on('metadata', (type, codec, h) => { header = h; })
      .on('data', (r) => records.push(r))
      .on('end', () => resolve({ header, records }))
      .on('error', reject);
  });
}

test('icebird reads the current snapshot and every tag with every value equal; avsc and DuckDB agree with the manifests', async () => {
  const name = 'ext.readings';
  let r = await request(server, 'POST', '/api/v1/tables', {
    name, schema, partition_spec: [{ source: 'day', transform: 'identity' }, { source: 'id', transform: 'bucket[3]' }],
  });
  assert.equal(r.status, 201, r.text);
  const appended = [];
  const tags = [];
  for (let run = 0; run < 3; run++) {
    const rows = makeRows(run * 40, 40, `2024-05-0${run + 1}`);
    r = await request(server, 'POST', `/api/v1/tables/${name}/rows`, { rows });
    assert.equal(r.status, 201, r.text);
    appended.push(...rows);
    const tag = `v${run}`;
    assert.equal((await request(server, 'POST', `/api/v1/tables/${name}/tags`, { name: tag })).status, 201);
    tags.push({ tag, snapshot: r.json.snapshot_id, rows: appended.slice() });
  }
  const detail = (await request(server, 'GET', `/api/v1/tables/${name}`)).json;
  const meta = metadataOf(detail.metadata_location);

  // current snapshot
  const current = (await icebird.icebergRead({ tableUrl: meta.location, metadata: meta })).map(normalize).sort(byId);
  assert.deepEqual(current, appended);
  // what lakestream itself returns is the same
  const ours = (await request(server, 'GET', `/api/v1/tables/${name}/rows`)).json.rows.sort(byId);
  assert.deepEqual(ours, appended);

  // every tag: icebird reads the tagged snapshot (metadata with that snapshot current)
  for (const t of tags) {
    assert.equal(meta.refs[t.tag]['snapshot-id'], t.snapshot);
    const asTag = { ...meta, 'current-snapshot-id': meta.refs[t.tag]['snapshot-id'] };
    const got = (await icebird.icebergRead({ tableUrl: meta.location, metadata: asTag })).map(normalize).sort(byId);
    assert.deepEqual(got, t.rows, `tag ${t.tag}`);
    const viaApi = (await request(server, 'GET', `/api/v1/tables/${name}/rows?tag=${t.tag}`)).json.rows.sort(byId);
    assert.deepEqual(viaApi, t.rows);
  }
  // an older metadata file (time travel by metadata version) reads as it was
  const firstMeta = meta['metadata-log'].map((m) => m['metadata-file']).find((f) => metadataOf(f)['current-snapshot-id'] === tags[0].snapshot);
  const old = (await icebird.icebergRead({ tableUrl: meta.location, metadata: metadataOf(firstMeta) })).map(normalize).sort(byId);
  assert.deepEqual(old, tags[0].rows);

  // avsc: manifest list and manifests decode; header schemas carry the spec's field ids
  const snap = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id']);
  const list = await readAvro(new URL(snap['manifest-list']).pathname);
  assert.equal(list.header.meta['format-version'].toString(), '2');
  assert.equal(list.header.meta['snapshot-id'].toString(), String(snap['snapshot-id']));
  const listSchema = JSON.parse(list.header.meta['avro.schema'].toString());
  const ids = Object.fromEntries(listSchema.fields.map((f) => [f.name, f['field-id']]));
  assert.deepEqual([ids.manifest_path, ids.manifest_length, ids.partition_spec_id, ids.added_snapshot_id, ids.sequence_number, ids.content, ids.partitions],
    [500, 501, 502, 503, 515, 517, 507]);
  assert.equal(list.records.length, 3);
  const dataFiles = [];
  let claimed = 0;
  for (const m of list.records) {
    const mf = await readAvro(new URL(m.manifest_path).pathname);
    assert.equal(mf.header.meta.content.toString(), 'data');
    assert.equal(mf.header.meta['format-version'].toString(), '2');
    assert.ok(JSON.parse(mf.header.meta['partition-spec'].toString()).length === 2);
    assert.equal(JSON.parse(mf.header.meta.schema.toString()).fields.length, 6);
    const s = JSON.parse(mf.header.meta['avro.schema'].toString());
    const df = s.fields.find((f) => f.name === 'data_file');
    assert.equal(df['field-id'], 2);
    const dff = Object.fromEntries(df.type.fields.map((f) => [f.name, f['field-id']]));
    assert.deepEqual([dff.file_path, dff.partition, dff.record_count, dff.lower_bounds, dff.nan_value_counts], [100, 102, 103, 125, 137]);
    const partFields = df.type.fields.find((f) => f.name === 'partition').type.fields.map((f) => f['field-id']);
    assert.deepEqual(partFields, [1000, 1001]);
    assert.equal(m.added_files_count, mf.records.length);
    for (const e of mf.records) {
      assert.equal(e.status, 1);
      dataFiles.push(e.data_file);
      claimed += Number(e.data_file.record_count);
      // value/null counts agree with what we appended to this file's partition
      const nulls = Object.fromEntries(e.data_file.null_value_counts.map((kv) => [kv.key, Number(kv.value)]));
      assert.ok(nulls[1] === 0);
    }
  }
  assert.equal(claimed, appended.length);

  // DuckDB reads exactly the listed files and counts the claimed records, per file
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  for (const f of dataFiles) {
    const p = new URL(f.file_path).pathname;
    const rows = (await duck.runAndReadAll(`SELECT count(*)::BIGINT AS c, min(id)::BIGINT AS lo, max(id)::BIGINT AS hi, count(label)::BIGINT AS labels FROM read_parquet('${p}')`)).getRowObjects();
    assert.equal(Number(rows[0].c), Number(f.record_count));
    assert.equal(fs.statSync(p).size, Number(f.file_size_in_bytes));
    // bounds in the manifest are the data's real min/max (8-byte little-endian longs)
    const lb = f.lower_bounds.find((kv) => kv.key === 1).value;
    const ub = f.upper_bounds.find((kv) => kv.key === 1).value;
    assert.equal(lb.readBigInt64LE(0), BigInt(rows[0].lo));
    assert.equal(ub.readBigInt64LE(0), BigInt(rows[0].hi));
    const values = f.value_counts.find((kv) => kv.key === 4).value;
    const labelNulls = f.null_value_counts.find((kv) => kv.key === 4).value;
    assert.equal(Number(values) - Number(labelNulls), Number(rows[0].labels));
  }
  const total = (await duck.runAndReadAll(`SELECT count(*)::BIGINT AS c, sum(id)::BIGINT AS s FROM read_parquet([${dataFiles.map((f) => `'${new URL(f.file_path).pathname}'`).join(',')}])`)).getRowObjects();
  assert.equal(Number(total[0].c), appended.length);
  assert.equal(Number(total[0].s), appended.reduce((s, x) => s + x.id, 0));
});
