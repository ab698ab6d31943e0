// The registry's state lives in PostgreSQL: it survives a restart, two
// instances sharing one database hand out distinct ids and gap-free
// versions under concurrent registration (per-subject advisory lock), a
// permanent delete on one instance evicts the schema from the other's
// cache (NOTIFY), and a PostgreSQL outage gives Confluent's 50001 while
// cached schemas are still served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, waitFor, createDatabase, baseDsn } from './lib/harness.mjs';
import { startProxy } from './lib/tcp_proxy.mjs';

const CT = 'application/vnd.schemaregistry.v1+json';

function registryOf(server) {
  return `http://${server.logs.find((l) => l.msg?.startsWith('lakestreamd started')).listeners.registry}`;
}

async function reg(base, method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = CT;
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, json, text };
}

const fieldSchema = (name) => JSON.stringify({
  type: 'record', name: 'Evolving', fields: [{ name, type: 'int', default: 0 }],
});

test('registry state survives a restart; a restarted instance serves ids from PostgreSQL', async () => {
  const db = createDatabase();
  const a = await startServer({ db });
  let id;
  try {
    await waitReady(a);
    const base = registryOf(a);
    id = (await reg(base, 'POST', '/subjects/keep-value/versions', { schema: fieldSchema('f1') })).json.id;
    assert.equal((await reg(base, 'POST', '/subjects/keep-value/versions', { schema: fieldSchema('f2') })).status, 200);
    assert.equal((await reg(base, 'PUT', '/config/keep-value', { compatibility: 'FULL' })).status, 200);
    assert.equal((await reg(base, 'DELETE', '/subjects/keep-value/versions/2')).status, 200);
  } finally {
    assert.equal((await a.stop()).code, 0);
  }
  const b = await startServer({ db });
  try {
    await waitReady(b);
    const base = registryOf(b);
    assert.deepEqual((await reg(base, 'GET', '/subjects')).json, ['keep-value']);
    assert.deepEqual((await reg(base, 'GET', '/subjects/keep-value/versions')).json, [1]);
    assert.deepEqual((await reg(base, 'GET', '/subjects/keep-value/versions?deleted=true')).json, [1, 2]);
    assert.deepEqual((await reg(base, 'GET', `/schemas/ids/${id}`)).json, { schema: fieldSchema('f1') });
    assert.deepEqual((await reg(base, 'GET', '/config/keep-value')).json, { compatibilityLevel: 'FULL' });
    // Version numbers continue after the soft-deleted one; ids keep rising.
    const r = await reg(base, 'POST', '/subjects/keep-value/versions', { schema: fieldSchema('f3') });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.id > id + 1);
    assert.equal((await reg(base, 'GET', '/subjects/keep-value/versions/latest')).json.version, 3);
  } finally {
    assert.equal((await b.stop()).code, 0);
  }
});

test('two instances on one database: concurrent registrations get distinct ids and gap-free versions', async () => {
  const db = createDatabase();
  const [a, b] = await Promise.all([startServer({ db }), startServer({ db })]);
  try {
    await Promise.all([waitReady(a), waitReady(b)]);
    const bases = [registryOf(a), registryOf(b)];
    const subjects = ['s0', 's1', 's2', 's3', 's4'];
    const jobs = [];
    for (let i = 0; i < 50; i++) {
      const subject = subjects[i % subjects.length];
      jobs.push(reg(bases[i % 2], 'POST', `/subjects/${subject}/versions`, { schema: fieldSchema(`f${i}`) })
        .then((r) => ({ i, subject, r })));
    }
    // The same schema under two subjects at once, from both instances.
    const shared = JSON.stringify({ type: 'enum', name: 'Shared', symbols: ['A', 'B'] });
    jobs.push(reg(bases[0], 'POST', '/subjects/shared-a/versions', { schema: shared }).then((r) => ({ subject: 'shared-a', r })));
    jobs.push(reg(bases[1], 'POST', '/subjects/shared-b/versions', { schema: shared }).then((r) => ({ subject: 'shared-b', r })));
    const results = await Promise.all(jobs);
    for (const { r } of results) assert.equal(r.status, 200, r.text);
    const evolving = results.filter((x) => x.i !== undefined);
    const ids = evolving.map((x) => x.r.json.id);
    assert.equal(new Set(ids).size, 50, `ids not distinct: ${ids}`);
    const sharedIds = results.filter((x) => x.i === undefined).map((x) => x.r.json.id);
    assert.equal(sharedIds[0], sharedIds[1], 'one canonical schema, one id');
    assert.ok(!ids.includes(sharedIds[0]));

    // The same schema under one subject ten times at once: one version.
    const same = JSON.stringify({ type: 'record', name: 'Same', fields: [{ name: 'n', type: 'long' }] });
    const dupes = await Promise.all([...Array(10).keys()].map((k) =>
      reg(bases[k % 2], 'POST', '/subjects/same-value/versions', { schema: same })));
    assert.equal(new Set(dupes.map((r) => r.json?.id)).size, 1, dupes.map((r) => r.text).join());
    assert.deepEqual((await reg(bases[1], 'GET', '/subjects/same-value/versions')).json, [1]);

    for (const subject of subjects) {
      const versions = (await reg(bases[0], 'GET', `/subjects/${subject}/versions`)).json;
      assert.deepEqual(versions, [...Array(10).keys()].map((k) => k + 1), subject);
      // Both instances tell the same story, and each version maps to the
      // id its registration was given.
      const expected = new Set(evolving.filter((x) => x.subject === subject).map((x) => x.r.json.id));
      const seen = new Set();
      for (const v of versions) {
        const [fromA, fromB] = await Promise.all(bases.map((base) => reg(base, 'GET', `/subjects/${subject}/versions/${v}`)));
        assert.deepEqual(fromA.json, fromB.json);
        seen.add(fromA.json.id);
      }
      assert.deepEqual(seen, expected);
    }
  } finally {
    assert.equal((await a.stop()).code, 0);
    assert.equal((await b.stop()).code, 0);
  }
});

test('a permanent delete on one instance evicts the schema from the other instance\'s cache', async () => {
  const db = createDatabase();
  const [a, b] = await Promise.all([startServer({ db }), startServer({ db })]);
  try {
    await Promise.all([waitReady(a), waitReady(b)]);
    const [baseA, baseB] = [registryOf(a), registryOf(b)];
    const schema = JSON.stringify({ type: 'fixed', name: 'Hash', size: 16 });
    const { id } = (await reg(baseA, 'POST', '/subjects/solo-value/versions', { schema })).json;
    // b reads it (cached from now on) and serves it again from memory.
    assert.equal((await reg(baseB, 'GET', `/schemas/ids/${id}`)).status, 200);
    const hits = async () => {
      const text = await (await fetch(`${b.http}/metrics`)).text();
      return Number(text.match(/lakestream_registry_cache_lookups_total\{result="hit"\} (\d+)/)[1]);
    };
    const before = await hits();
    assert.equal((await reg(baseB, 'GET', `/schemas/ids/${id}`)).status, 200);
    assert.equal(await hits(), before + 1, 'second read is a cache hit');

    assert.equal((await reg(baseA, 'DELETE', '/subjects/solo-value')).status, 200);
    assert.equal((await reg(baseB, 'GET', `/schemas/ids/${id}`)).status, 200, 'soft delete keeps the schema');
    assert.equal((await reg(baseA, 'DELETE', '/subjects/solo-value?permanent=true')).status, 200);
    await waitFor('instance b to drop the deleted schema', async () =>
      (await reg(baseB, 'GET', `/schemas/ids/${id}`)).json?.error_code === 40403, 10000);
  } finally {
    assert.equal((await a.stop()).code, 0);
    assert.equal((await b.stop()).code, 0);
  }
});

test('PostgreSQL down: writes and uncached reads get 500/50001, cached schemas are still served', async () => {
  const port = Number(baseDsn().match(/port=(\d+)/)[1]);
  const proxy = await startProxy('127.0.0.1', port, { up: true });
  const db = createDatabase();
  const server = await startServer({ pgDsn: `host=127.0.0.1 port=${proxy.port} dbname=${db} user=postgres connect_timeout=2` });
  try {
    await waitReady(server);
    const base = registryOf(server);
    const { id } = (await reg(base, 'POST', '/subjects/out-value/versions', { schema: '"string"' })).json;
    assert.equal((await reg(base, 'GET', `/schemas/ids/${id}`)).status, 200);

    proxy.setDown();
    await waitFor('the server to notice', async () => (await fetch(`${server.http}/readyz`)).status === 503, 15000);
    for (const [method, path, body] of [
      ['POST', '/subjects/out-value/versions', { schema: '"int"' }],
      ['GET', '/subjects'],
      ['GET', '/subjects/out-value/versions/latest'],
      ['GET', `/schemas/ids/${id + 100}`],
      ['PUT', '/config', { compatibility: 'NONE' }],
    ]) {
      const r = await reg(base, method, path, body);
      assert.equal(r.status, 500, `${method} ${path}: ${r.text}`);
      assert.equal(r.json.error_code, 50001);
    }
    assert.deepEqual((await reg(base, 'GET', `/schemas/ids/${id}`)).json, { schema: '"string"' });

    proxy.setUp();
    await waitFor('registry writes to work again', async () =>
      (await reg(base, 'POST', '/subjects/out-value/versions', { schema: '"int"', })).status === 409, 20000);
  } finally {
    const exit = await server.stop();
    await proxy.close();
    assert.equal(exit.code, 0);
  }
});
