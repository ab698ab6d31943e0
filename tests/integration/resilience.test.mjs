// PostgreSQL down at start and mid-run: /readyz names it, requests that need
// it get 503 with the API.md error body, the server keeps serving, and it
// recovers by itself when the database returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, request, waitFor, createDatabase, baseDsn } from './lib/harness.mjs';
import { startProxy } from './lib/tcp_proxy.mjs';

function pgPort() {
  const m = baseDsn().match(/port=(\d+)/);
  if (!m) throw new Error(`no port in ${baseDsn()}`);
  return Number(m[1]);
}

async function readiness(server) {
  const r = await request(server, 'GET', '/readyz');
  return { status: r.status, failing: (r.json?.failing ?? []).map((f) => f.component) };
}

test('PostgreSQL down at start, then up, then down and up again mid-run', async () => {
  const proxy = await startProxy('127.0.0.1', pgPort(), { up: false });
  const db = createDatabase();
  const server = await startServer({
    pgDsn: `host=127.0.0.1 port=${proxy.port} dbname=${db} user=postgres connect_timeout=2`,
  });
  try {
    // Down at start: the listener is up, health is fine, readiness names postgres.
    assert.equal((await request(server, 'GET', '/healthz')).status, 200);
    // Kafka (embedded) comes up on its own; PostgreSQL stays the one named.
    const r0 = await waitFor('readyz to name only postgres', async () => {
      const r = await readiness(server);
      return r.failing.length === 1 ? r : null;
    });
    assert.equal(r0.status, 503);
    assert.deepEqual(r0.failing, ['postgres']);
    const c0 = await request(server, 'POST', '/api/v1/topics', { name: 'while-down' });
    assert.equal(c0.status, 503, c0.text);
    assert.equal(c0.json.error.code, 'unavailable');
    const l0 = await request(server, 'GET', '/api/v1/topics');
    assert.equal(l0.status, 503);
    assert.equal(l0.json.error.code, 'unavailable');

    // It returns: migrations run, state loads, requests work.
    proxy.setUp();
    await waitFor('ready after PostgreSQL came up', async () => (await readiness(server)).status === 200, 20000);
    assert.equal((await request(server, 'POST', '/api/v1/topics', { name: 'after-up' })).status, 201);

    // Mid-run outage.
    proxy.setDown();
    await waitFor('readyz to name postgres', async () => {
      const r = await readiness(server);
      return r.status === 503 && r.failing.includes('postgres');
    }, 15000);
    const c1 = await request(server, 'POST', '/api/v1/topics', { name: 'during-outage' });
    assert.equal(c1.status, 503, c1.text);
    assert.equal(c1.json.error.code, 'unavailable');
    assert.equal((await request(server, 'GET', '/healthz')).status, 200);
    // Reads served from memory still answer during the outage.
    const l1 = await request(server, 'GET', '/api/v1/topics');
    assert.equal(l1.status, 200);
    assert.deepEqual(l1.json.items.map((t) => t.name), ['after-up']);

    proxy.setUp();
    await waitFor('ready again', async () => (await readiness(server)).status === 200, 20000);
    const c2 = await request(server, 'POST', '/api/v1/topics', { name: 'after-recovery', partitions: 2 });
    assert.equal(c2.status, 201, c2.text);
    const names = (await request(server, 'GET', '/api/v1/topics')).json.items.map((t) => t.name);
    assert.deepEqual(names, ['after-recovery', 'after-up']);
  } finally {
    const exit = await server.stop();
    await proxy.close();
    assert.equal(exit.code, 0, server.raw.slice(-2000));
  }
});
