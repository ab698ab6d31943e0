// Iceberg tables through the REST API of a real lakestreamd: create, append,
// tags and time travel, filters, branches, overwrite, schema evolution,
// expiry, compaction, orphans, the JDBC catalog rows and the Iceberg REST
// catalog, plus the bad-input answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, waitReady, request, psql } from './lib/harness.mjs';

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
    { name: 'day', type: 'date' },
    { name: 'city', type: 'string' },
    { name: 'amount', type: 'decimal(9,2)' },
    { name: 'ts', type: 'timestamptz' },
  ],
};

async function ok(res, status = 200) {
  assert.equal(res.status, status, res.text);
  return res.json;
}

async function create(name, partition_spec = [{ source: 'day', transform: 'day' }], properties = {}) {
  return ok(await request(server, 'POST', '/api/v1/tables', { name, schema, partition_spec, properties }), 201);
}

async function append(name, rows, extra = {}) {
  return ok(await request(server, 'POST', `/api/v1/tables/${name}/rows`, { rows, ...extra }), 201);
}

async function rows(name, query = '') {
  return ok(await request(server, 'GET', `/api/v1/tables/${name}/rows${query}`));
}

const byId = (a, b) => a.id - b.id;

function batch(start, n, day) {
  return Array.from({ length: n }, (_, i) => ({
    id: start + i,
    day,
    city: ['Oslo', 'Rome', 'Lima'][(start + i) % 3],
    amount: `${start + i}.25`,
    ts: `${day}T0${i % 10}:00:00+00:00`,
  }));
}

test('create, append, tag and read every tag back exactly as it was', async () => {
  const t = await create('feat.energy', [{ source: 'day', transform: 'day' }, { source: 'city', transform: 'bucket[4]' }],
    { owner: 'tests' });
  assert.equal(t.format_version, 2);
  assert.equal(t.current_snapshot_id, undefined);
  assert.deepEqual(t.partition_spec.map((f) => f.transform), ['day', 'bucket[4]']);
  assert.equal(t.properties.owner, 'tests');

  const expected = [];
  const tags = [];
  for (let run = 0; run < 3; run++) {
    const b = batch(run * 10, 10, `2024-01-0${run + 1}`);
    const r = await append('feat.energy', b);
    assert.equal(r.added_records, 10);
    assert.equal(r.sequence_number, run + 1);
    expected.push(...b);
    const tag = await ok(await request(server, 'POST', '/api/v1/tables/feat.energy/tags', { name: `run-${run}`, snapshot_id: r.snapshot_id }), 201);
    assert.equal(tag.snapshot_id, r.snapshot_id);
    tags.push({ name: `run-${run}`, count: expected.length, snapshot: r.snapshot_id });
  }
  for (const tag of tags) {
    const got = await rows('feat.energy', `?tag=${tag.name}`);
    assert.equal(got.snapshot_id, tag.snapshot);
    assert.deepEqual(got.rows.sort(byId), expected.slice(0, tag.count).map((r) => ({ ...r, ts: r.ts.replace('+00:00', '.000000+00:00') })));
    const bySnap = await rows('feat.energy', `?snapshot_id=${tag.snapshot}`);
    assert.equal(bySnap.rows.length, tag.count);
  }
  const listed = await ok(await request(server, 'GET', '/api/v1/tables/feat.energy/tags'));
  assert.deepEqual(listed.map((x) => x.name).sort(), ['run-0', 'run-1', 'run-2']);
  assert.ok(listed.every((x) => typeof x.timestamp_ms === 'number'));

  // as_of a time between the first and second commit sees the first run only
  const snaps = (await ok(await request(server, 'GET', '/api/v1/tables/feat.energy/snapshots'))).snapshots;
  assert.equal(snaps.length, 3);
  assert.equal(snaps[0].operation, 'append');
  assert.equal(snaps[2].summary['total-records'], '30');
  const asOf = await rows('feat.energy', `?as_of=${snaps[1].timestamp_ms - 1}`);
  assert.ok(asOf.snapshot_id === snaps[0].snapshot_id || snaps[1].timestamp_ms === snaps[0].timestamp_ms);

  // the catalog row is the JDBC catalog's own
  const row = psql(server.db, "SELECT catalog_name||'|'||table_namespace||'|'||table_name||'|'||coalesce(iceberg_type,'')||'|'||metadata_location FROM iceberg_tables");
  const detail = await ok(await request(server, 'GET', '/api/v1/tables/feat.energy'));
  assert.equal(row, `lakestream|feat|energy|TABLE|${detail.metadata_location}`);
  assert.ok(psql(server.db, 'SELECT previous_metadata_location FROM iceberg_tables').endsWith('.metadata.json'));
  assert.equal(psql(server.db, "SELECT property_value FROM iceberg_namespace_properties WHERE namespace='feat' AND property_key='exists'"), 'true');
  const meta = JSON.parse(fs.readFileSync(new URL(detail.metadata_location)));
  assert.equal(meta['last-sequence-number'], 3);
  assert.equal(meta['snapshot-log'].length, 3);
  assert.ok(meta['metadata-log'].length >= 5);
  assert.equal(meta.refs.main.snapshot_id ?? meta.refs.main['snapshot-id'], snaps[2].snapshot_id);
  assert.equal(meta.refs['run-0'].type, 'tag');
});

test('filters, projection and limits; files are pruned by partition and bounds', async () => {
  const all = await rows('feat.energy');
  assert.equal(all.rows.length, 30);
  const f = await rows('feat.energy', `?filter=${encodeURIComponent("day = '2024-01-02' AND amount >= 15")}&columns=id,amount`);
  assert.deepEqual(f.rows.sort(byId), [15, 16, 17, 18, 19].map((id) => ({ id, amount: `${id}.25` })));
  assert.equal(f.manifests_pruned, 2, JSON.stringify(f)); // the other two days' manifests
  const byBounds = await rows('feat.energy', `?filter=${encodeURIComponent('id > 25')}`);
  assert.ok(byBounds.files_pruned > 0, JSON.stringify(byBounds));
  assert.deepEqual(byBounds.rows.map((r) => r.id).sort(), [26, 27, 28, 29]);
  const one = await rows('feat.energy', `?filter=${encodeURIComponent("city != 'Oslo' AND id < 3")}`);
  assert.deepEqual(one.rows.map((r) => r.id).sort(), [1, 2]);
  assert.equal((await rows('feat.energy', '?limit=7')).rows.length, 7);
  const files = await ok(await request(server, 'GET', '/api/v1/tables/feat.energy/files?tag=run-0'));
  assert.equal(files.files.reduce((s, x) => s + x.record_count, 0), 10);
  assert.ok(files.files.every((x) => x.partition.day_day === '2024-01-01'));
});

test('bad input gets clear 4xx answers', async () => {
  const cases = [
    ['GET', '/api/v1/tables/feat.nope', 404],
    ['GET', '/api/v1/tables/nodot', 400],
    ['GET', '/api/v1/tables/feat.energy/rows?tag=missing', 404],
    ['GET', '/api/v1/tables/feat.energy/rows?snapshot_id=123', 404],
    ['GET', '/api/v1/tables/feat.energy/rows?snapshot_id=abc', 400],
    ['GET', `/api/v1/tables/feat.energy/rows?filter=${encodeURIComponent('id >> 3')}`, 400],
    ['GET', `/api/v1/tables/feat.energy/rows?filter=${encodeURIComponent('nope = 3')}`, 400],
    ['GET', '/api/v1/tables/feat.energy/rows?columns=id,nope', 400],
    ['GET', '/api/v1/tables/feat.energy/rows?tag=run-0&snapshot_id=1', 400],
    ['GET', '/api/v1/tables/feat.energy/rows?limit=0', 400],
    ['POST', '/api/v1/tables/feat.energy/tags', 409, { name: 'run-0' }],
    ['POST', '/api/v1/tables/feat.energy/tags', 404, { name: 'x', snapshot_id: 42 }],
    ['POST', '/api/v1/tables/feat.energy/tags', 400, { name: 'main' }],
    ['DELETE', '/api/v1/tables/feat.energy/tags/missing', 404],
    ['POST', '/api/v1/tables/feat.energy/rows', 400, { rows: [{ id: 'x' }] }],
    ['POST', '/api/v1/tables/feat.energy/rows', 400, { rows: [{ id: 1, bogus: 1 }] }],
    ['POST', '/api/v1/tables/feat.energy/rows', 400, { rows: [] }],
    ['POST', '/api/v1/tables', 409, { name: 'feat.energy', schema }],
    ['POST', '/api/v1/tables', 400, { name: 'feat.bad', schema: { type: 'struct', fields: [{ name: 'x', type: 'varchar' }] } }],
    ['POST', '/api/v1/tables', 400, { name: 'feat.bad', schema, partition_spec: [{ source: 'city', transform: 'year' }] }],
  ];
  for (const [method, path, status, body] of cases) {
    const r = await request(server, method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} -> ${r.text}`);
    assert.ok(r.json.error.message.length > 0);
  }
  // nothing of that changed the table
  assert.equal((await rows('feat.energy')).rows.length, 30);
});

test('branches, overwrite by partition and schema evolution', async () => {
  await create('feat.evolve', [{ source: 'day', transform: 'identity' }]);
  await append('feat.evolve', batch(0, 4, '2024-02-01'));
  await append('feat.evolve', batch(4, 4, '2024-02-02'));
  await ok(await request(server, 'POST', '/api/v1/tables/feat.evolve/branches', { name: 'dev' }), 201);
  await append('feat.evolve', batch(100, 2, '2024-02-03'), { branch: 'dev' });
  assert.equal((await rows('feat.evolve')).rows.length, 8);
  assert.equal((await rows('feat.evolve', '?branch=dev')).rows.length, 10);

  // overwrite replaces only the partitions the new rows touch
  const ow = await append('feat.evolve', batch(50, 1, '2024-02-01'), { mode: 'overwrite' });
  assert.equal(ow.deleted_files, 1);
  const now = (await rows('feat.evolve')).rows.map((r) => r.id).sort((a, b) => a - b);
  assert.deepEqual(now, [4, 5, 6, 7, 50]);
  const snaps = (await ok(await request(server, 'GET', '/api/v1/tables/feat.evolve/snapshots'))).snapshots;
  assert.equal(snaps.at(-1).operation, 'overwrite');
  assert.equal(snaps.at(-1).summary['deleted-records'], '4');

  const s1 = await ok(await request(server, 'POST', '/api/v1/tables/feat.evolve/schema', { add_column: { name: 'score', type: 'int' } }));
  assert.equal(s1.fields.at(-1).name, 'score');
  await append('feat.evolve', [{ id: 60, day: '2024-02-04', score: 7 }]);
  const s2 = await ok(await request(server, 'POST', '/api/v1/tables/feat.evolve/schema', { widen_column: { name: 'score', type: 'long' } }));
  assert.equal(s2.fields.at(-1).type, 'long');
  assert.equal((await request(server, 'POST', '/api/v1/tables/feat.evolve/schema', { widen_column: { name: 'city', type: 'long' } })).status, 400);
  const ev = (await rows('feat.evolve', '?columns=id,score')).rows.sort(byId);
  assert.deepEqual(ev, [4, 5, 6, 7, 50].map((id) => ({ id, score: null })).concat([{ id: 60, score: 7 }]));
});

test('expiry never drops a tagged snapshot; compaction keeps every row; orphans are listed', async () => {
  await create('feat.maint', []);
  for (let i = 0; i < 4; i++) await append('feat.maint', batch(i * 5, 5, '2024-03-01'));
  const snaps = (await ok(await request(server, 'GET', '/api/v1/tables/feat.maint/snapshots'))).snapshots;
  await ok(await request(server, 'POST', '/api/v1/tables/feat.maint/tags', { name: 'keep', snapshot_id: snaps[0].snapshot_id }), 201);
  const ex = await ok(await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance', { action: 'expire_snapshots', retain_last: 1 }));
  assert.deepEqual(ex.expired_snapshot_ids.sort(), [snaps[1].snapshot_id, snaps[2].snapshot_id].sort());
  assert.equal((await rows('feat.maint', '?tag=keep')).rows.length, 5);
  assert.equal((await rows('feat.maint')).rows.length, 20);

  const before = await ok(await request(server, 'GET', '/api/v1/tables/feat.maint/files'));
  assert.equal(before.files.length, 4);
  // a target of 2.5 input files' size: the 20 rows are rewritten into 2 files (12 + 8 rows)
  const avg = before.files.reduce((s, f) => s + f.file_size_in_bytes, 0) / before.files.length;
  const c = await ok(await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance',
    { action: 'compact', target_file_size_bytes: Math.floor(avg * 2.5) }));
  assert.equal(c.rewritten_files, 4);
  assert.equal(c.added_files, 2);
  assert.equal(c.records, 20);
  const afterFiles = await ok(await request(server, 'GET', '/api/v1/tables/feat.maint/files'));
  assert.deepEqual(afterFiles.files.map((f) => f.record_count).sort(), [12, 8].sort());
  const all = (await rows('feat.maint')).rows.sort(byId);
  assert.deepEqual(all.map((r) => r.id), Array.from({ length: 20 }, (_, i) => i));
  const last = (await ok(await request(server, 'GET', '/api/v1/tables/feat.maint/snapshots'))).snapshots.at(-1);
  assert.equal(last.operation, 'replace');
  assert.equal(last.summary['total-records'], '20');
  assert.equal((await rows('feat.maint', '?tag=keep')).rows.length, 5);

  // delete_files removes whole files in a "delete" snapshot; unknown paths are 404
  const victim = afterFiles.files.find((f) => f.record_count === 8);
  const d = await ok(await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance', { action: 'delete_files', files: [victim.file_path] }));
  assert.equal(d.deleted_files, 1);
  assert.equal(d.deleted_records, 8);
  assert.equal((await rows('feat.maint')).rows.length, 12);
  assert.equal((await ok(await request(server, 'GET', '/api/v1/tables/feat.maint/snapshots'))).snapshots.at(-1).operation, 'delete');
  assert.equal((await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance', { action: 'delete_files', files: [victim.file_path] })).status, 404);
  assert.equal((await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance', { action: 'delete_files', files: [] })).status, 400);

  // the files of the expired snapshots' ancestry are still referenced by the tag or the
  // current snapshot; an object nobody references is an orphan
  const dir = new URL(`${JSON.parse(fs.readFileSync(new URL((await ok(await request(server, 'GET', '/api/v1/tables/feat.maint'))).metadata_location))).location}/data/stray.parquet`);
  fs.writeFileSync(dir, 'x');
  const o = await ok(await request(server, 'POST', '/api/v1/tables/feat.maint/maintenance', { action: 'orphans' }));
  const locs = o.orphans.map((x) => x.location);
  assert.ok(locs.includes(dir.href), JSON.stringify(locs));
  const referenced = new Set(afterFiles.files.filter((f) => f !== victim).map((f) => f.file_path));
  assert.ok(locs.every((l) => !referenced.has(l)));
});

test('Iceberg REST catalog read side', async () => {
  const cfg = await ok(await request(server, 'GET', '/iceberg/v1/config'));
  assert.ok(cfg.defaults && cfg.overrides);
  const ns = await ok(await request(server, 'GET', '/iceberg/v1/namespaces'));
  assert.deepEqual(ns.namespaces, [['feat']]);
  assert.deepEqual((await ok(await request(server, 'GET', '/iceberg/v1/namespaces/feat'))).namespace, ['feat']);
  const ids = await ok(await request(server, 'GET', '/iceberg/v1/namespaces/feat/tables'));
  assert.ok(ids.identifiers.some((i) => i.name === 'energy' && i.namespace[0] === 'feat'));
  const t = await ok(await request(server, 'GET', '/iceberg/v1/namespaces/feat/tables/energy'));
  const detail = await ok(await request(server, 'GET', '/api/v1/tables/feat.energy'));
  assert.equal(t['metadata-location'], detail.metadata_location);
  assert.equal(t.metadata['format-version'], 2);
  const missing = await request(server, 'GET', '/iceberg/v1/namespaces/feat/tables/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.type, 'NoSuchTableException');
  assert.equal((await request(server, 'GET', '/iceberg/v1/namespaces/zzz')).json.error.type, 'NoSuchNamespaceException');
  assert.equal((await request(server, 'HEAD', '/iceberg/v1/namespaces/feat/tables/energy')).status, 204);
});
