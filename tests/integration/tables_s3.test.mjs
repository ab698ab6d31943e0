// Tables in an s3:// warehouse (s3rver as the endpoint): lakestream writes
// data files, manifests and metadata through its S3 client, reads them back
// as of a tag, and icebird, an independent reader, reads the same table over
// S3's HTTP interface with every value equal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, existsSync } from 'node:fs';
import { startS3rver } from './lib/s3rver.mjs';
import path from 'node:path';
import { startServer, waitReady, request } from './lib/harness.mjs';

const sourceDir = process.env.LS_SOURCE_DIR;
let s3rver, s3dir, port, server;

before(async () => {
  ({ proc: s3rver, port, directory: s3dir } = await startS3rver({ bucket: 'lake', prefix: 'ls-s3rver-tables-' }));
  server = await startServer({
    args: ['--warehouse', 's3://lake/warehouse'],
    env: { LAKESTREAM_S3_ENDPOINT: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
  });
  await waitReady(server);
});

after(async () => {
  if (server) assert.equal((await server.stop()).code, 0);
  s3rver?.kill();
  if (s3dir) rmSync(s3dir, { recursive: true, force: true });
});

test('an s3:// table is written, time-travelled, compacted and read by icebird over S3', async () => {
  const schema = { type: 'struct', fields: [{ name: 'id', type: 'long', required: true }, { name: 'name', type: 'string' }] };
  let r = await request(server, 'POST', '/api/v1/tables', { name: 'lake.people', schema, partition_spec: [{ source: 'id', transform: 'truncate[10]' }] });
  assert.equal(r.status, 201, r.text);
  assert.ok(r.json.metadata_location.startsWith('s3://lake/warehouse/lake/people/metadata/00000-'));
  const first = Array.from({ length: 25 }, (_, i) => ({ id: i, name: `p${i}` }));
  const second = Array.from({ length: 5 }, (_, i) => ({ id: 100 + i, name: null }));
  assert.equal((await request(server, 'POST', '/api/v1/tables/lake.people/rows', { rows: first })).status, 201);
  assert.equal((await request(server, 'POST', '/api/v1/tables/lake.people/tags', { name: 'first' })).status, 201);
  assert.equal((await request(server, 'POST', '/api/v1/tables/lake.people/rows', { rows: second })).status, 201);
  const byId = (a, b) => a.id - b.id;
  assert.deepEqual((await request(server, 'GET', '/api/v1/tables/lake.people/rows?tag=first')).json.rows.sort(byId), first);
  assert.deepEqual((await request(server, 'GET', '/api/v1/tables/lake.people/rows')).json.rows.sort(byId), [...first, ...second]);
  const files = (await request(server, 'GET', '/api/v1/tables/lake.people/files')).json.files;
  assert.equal(files.length, 4); // truncate[10]: 0, 10, 20 and 100
  assert.ok(files.every((f) => f.file_path.startsWith('s3://lake/warehouse/lake/people/data/')));
  assert.ok(existsSync(path.join(s3dir, 'lake')));

  // icebird over S3's HTTP interface: its s3:// -> https://<bucket>.s3.amazonaws.com URLs go
  // to s3rver instead
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) => realFetch(String(url).replace('https://lake.s3.amazonaws.com/', `http://127.0.0.1:${port}/lake/`), init);
  try {
    const icebird = await import(path.join(sourceDir, 'tests/e2e/node_modules/icebird/src/index.js'));
    const detail = (await request(server, 'GET', '/iceberg/v1/namespaces/lake/tables/people')).json;
    const got = (await icebird.icebergRead({ tableUrl: detail.metadata.location, metadata: detail.metadata }))
      .map((x) => ({ id: Number(x.id), name: x.name ?? null })).sort(byId);
    assert.deepEqual(got, [...first, ...second]);
  } finally {
    globalThis.fetch = realFetch;
  }

  // orphans and compaction work on S3 too
  const c = await request(server, 'POST', '/api/v1/tables/lake.people/maintenance', { action: 'compact', min_input_files: 2 });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual((await request(server, 'GET', '/api/v1/tables/lake.people/rows')).json.rows.sort(byId), [...first, ...second]);
  const o = await request(server, 'POST', '/api/v1/tables/lake.people/maintenance', { action: 'orphans' });
  assert.equal(o.status, 200, o.text);
  assert.deepEqual(o.json.orphans, []);
});
