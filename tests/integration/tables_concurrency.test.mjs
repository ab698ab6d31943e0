// Commits are compare-and-swap on the JDBC catalog row: two lakestreamd
// processes appending to one table lose nothing, and a process killed with
// SIGKILL between its data-file uploads and its catalog commit leaves the
// table unchanged, with the uploaded files listed as orphans. A kill during
// compaction neither loses nor doubles a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, waitReady, request, createDatabase, psql, waitFor } from './lib/harness.mjs';

const schema = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', required: true },
    { name: 'writer', type: 'string' },
    { name: 'part', type: 'int' },
  ],
};

function sharedWarehouse() {
  return `file://${fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-wh-'))}`;
}

function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

test('two processes append 200 times each: 400 commits, none lost', async () => {
  const db = createDatabase();
  const wh = sharedWarehouse();
  const [a, b] = await Promise.all([
    startServer({ db, args: ['--warehouse', wh] }),
    startServer({ db, args: ['--warehouse', wh] }),
  ]);
  try {
    await Promise.all([waitReady(a), waitReady(b)]);
    assert.equal((await request(a, 'POST', '/api/v1/tables', { name: 'race.t', schema })).status, 201);
    const N = 200;
    const started = Date.now();
    const latencies = [];
    async function writer(server, name, offset) {
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        const r = await request(server, 'POST', '/api/v1/tables/race.t/rows', { rows: [{ id: offset + i, writer: name, part: i % 4 }] });
        latencies.push(performance.now() - t0);
        assert.equal(r.status, 201, r.text);
      }
    }
    await Promise.all([writer(a, 'a', 0), writer(b, 'b', 100000)]);
    const elapsed = Date.now() - started;
    const snaps = (await request(a, 'GET', '/api/v1/tables/race.t/snapshots')).json.snapshots;
    assert.equal(snaps.length, 2 * N);
    assert.deepEqual(snaps.map((s) => s.sequence_number), Array.from({ length: 2 * N }, (_, i) => i + 1));
    // every snapshot's parent is the one before it: a straight line, nothing lost or forked
    for (let i = 1; i < snaps.length; i++) assert.equal(snaps[i].parent_snapshot_id, snaps[i - 1].snapshot_id);
    const rows = (await request(b, 'GET', '/api/v1/tables/race.t/rows?limit=100000')).json.rows;
    assert.equal(rows.length, 2 * N);
    assert.equal(new Set(rows.map((r) => r.id)).size, 2 * N);
    assert.equal(snaps.at(-1).summary['total-records'], String(2 * N));
    const conflicts = metric((await request(a, 'GET', '/metrics')).text, 'lakestream_iceberg_commit_conflicts_total') +
      metric((await request(b, 'GET', '/metrics')).text, 'lakestream_iceberg_commit_conflicts_total');
    latencies.sort((x, y) => x - y);
    console.log(`400 concurrent appends in ${elapsed} ms; ${conflicts} CAS conflicts re-applied; ` +
      `append latency median ${latencies[N].toFixed(1)} ms p99 ${latencies[Math.floor(2 * N * 0.99)].toFixed(1)} ms`);
    assert.ok(conflicts >= 0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  // completed objects only: the store's in-flight temp files (.lstmp.*) are not objects
  return fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.parquet') && !path.basename(f).startsWith('.lstmp.'));
}

test('kill -9 between data-file upload and commit: table unchanged, orphans listed', async () => {
  const db = createDatabase();
  const wh = sharedWarehouse();
  let s = await startServer({ db, args: ['--warehouse', wh] });
  try {
    await crashBeforeCommit(db, wh, s);
  } finally {
    if (!s.exited) await s.stop();
  }
});

async function crashBeforeCommit(db, wh, first) {
  let s = first;
  await waitReady(s);
  assert.equal((await request(s, 'POST', '/api/v1/tables', { name: 'crash.t', schema, partition_spec: [{ source: 'part', transform: 'identity' }] })).status, 201);
  assert.equal((await request(s, 'POST', '/api/v1/tables/crash.t/rows', { rows: [{ id: -1, writer: 'seed', part: 0 }] })).status, 201);
  const before = psql(db, 'SELECT metadata_location FROM iceberg_tables');
  const dataDir = path.join(new URL(wh).pathname, 'crash', 't', 'data');
  const seedFiles = new Set(filesUnder(dataDir));
  // 16 partitions -> 16 files uploaded one after another before the commit; the kill lands
  // as soon as the first new one exists
  const rows = Array.from({ length: 16000 }, (_, i) => ({ id: i, part: i % 16 }));
  const pending = request(s, 'POST', '/api/v1/tables/crash.t/rows', { rows }).catch(() => null);
  await waitFor('a new data file', () => filesUnder(dataDir).some((f) => !seedFiles.has(f)), 20000, 1);
  s.proc.kill('SIGKILL');
  await s.exitPromise;
  await pending;
  assert.equal(psql(db, 'SELECT metadata_location FROM iceberg_tables'), before);

  s = await startServer({ db, args: ['--warehouse', wh] });
  try {
    await waitReady(s);
    const got = (await request(s, 'GET', '/api/v1/tables/crash.t/rows')).json.rows;
    assert.deepEqual(got.map((r) => r.id), [-1]);
    const orphans = (await request(s, 'POST', '/api/v1/tables/crash.t/maintenance', { action: 'orphans' })).json.orphans.map((o) => o.location);
    const uploaded = filesUnder(dataDir).filter((f) => !seedFiles.has(f));
    assert.ok(uploaded.length >= 1);
    for (const f of uploaded) assert.ok(orphans.includes(`${wh}/crash/t/data/${f}`), `${f} not in ${orphans}`);
    // the table still takes commits
    assert.equal((await request(s, 'POST', '/api/v1/tables/crash.t/rows', { rows: [{ id: 7, part: 1 }] })).status, 201);
    assert.equal((await request(s, 'GET', '/api/v1/tables/crash.t/rows')).json.rows.length, 2);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
}

test('kill -9 during compaction: no row lost or doubled', async () => {
  const db = createDatabase();
  const wh = sharedWarehouse();
  let s = await startServer({ db, args: ['--warehouse', wh] });
  await waitReady(s);
  const created = await request(s, 'POST', '/api/v1/tables', { name: 'compact.t', schema });
  if (created.status !== 201) await s.stop();
  assert.equal(created.status, 201, created.text);
  let next = 0;
  for (let i = 0; i < 12; i++) {
    const rows = Array.from({ length: 2000 }, () => ({ id: next++, writer: 'w', part: 0 }));
    assert.equal((await request(s, 'POST', '/api/v1/tables/compact.t/rows', { rows })).status, 201);
  }
  const dataDir = path.join(new URL(wh).pathname, 'compact', 't', 'data');
  const old = new Set(filesUnder(dataDir));
  const pending = request(s, 'POST', '/api/v1/tables/compact.t/maintenance', { action: 'compact' }).catch(() => null);
  await waitFor('compaction to start writing', () => filesUnder(dataDir).some((f) => !old.has(f)) || s.exited, 20000, 1);
  s.proc.kill('SIGKILL');
  await s.exitPromise;
  await pending;
  s = await startServer({ db, args: ['--warehouse', wh] });
  try {
    await waitReady(s);
    const ids = (await request(s, 'GET', '/api/v1/tables/compact.t/rows?columns=id&limit=100000')).json.rows.map((r) => r.id);
    assert.equal(ids.length, next);
    assert.equal(new Set(ids).size, next);
    // and a compaction run to the end keeps them all too
    const c = await request(s, 'POST', '/api/v1/tables/compact.t/maintenance', { action: 'compact' });
    assert.equal(c.status, 200, c.text);
    const after = (await request(s, 'GET', '/api/v1/tables/compact.t/rows?columns=id&limit=100000')).json.rows.map((r) => r.id);
    assert.equal(new Set(after).size, next);
    assert.equal(after.length, next);
    assert.equal((await request(s, 'GET', '/api/v1/tables/compact.t/files')).json.files.length, 1);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});
