// State lives in PostgreSQL: topics survive a restart, migrations are
// applied once, and two instances sharing one database see each other's
// changes (LISTEN/NOTIFY refreshes the in-memory copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, request, waitFor, createDatabase, psql } from './lib/harness.mjs';

test('topics survive a restart and migrations run once', async () => {
  const db = createDatabase();
  const a = await startServer({ db });
  await waitReady(a);
  // A topic's value_subject must exist in the schema registry first.
  const registry = a.logs.find((l) => l.msg && l.msg.startsWith('lakestreamd started')).listeners.registry;
  const missing = await request(a, 'POST', '/api/v1/topics', { name: 'durable', partitions: 5, value_subject: 'durable-value' });
  assert.equal(missing.status, 412, missing.text);
  assert.match(missing.json.error.message, /durable-value/);
  const reg = await fetch(`http://${registry}/subjects/durable-value/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: '{"type":"record","name":"Durable","fields":[{"name":"n","type":"long"}]}' }),
  });
  assert.equal(reg.status, 200, await reg.text());
  assert.equal((await request(a, 'POST', '/api/v1/topics', { name: 'durable', partitions: 5, value_subject: 'durable-value' })).status, 201);
  assert.equal((await a.stop()).code, 0);
  const versions = psql(db, 'SELECT count(*) FROM lakestream_schema_version');

  const b = await startServer({ db });
  await waitReady(b);
  const l = await request(b, 'GET', '/api/v1/topics');
  assert.equal(l.json.items.length, 1);
  assert.equal(l.json.items[0].name, 'durable');
  assert.equal(l.json.items[0].partitions, 5);
  assert.equal(l.json.items[0].value_subject, 'durable-value');
  // The embedded broker starts empty; registered topics are given back to it.
  const g = await waitFor('the topic to be back in the embedded broker', async () => {
    const r = await request(b, 'GET', '/api/v1/topics/durable');
    return r.status === 200 ? r : null;
  });
  assert.equal(g.json.partition_offsets.length, 5);
  assert.equal(psql(db, 'SELECT count(*) FROM lakestream_schema_version'), versions);
  assert.equal((await b.stop()).code, 0);
});

test('two instances on one database see each other\'s topics', async () => {
  const db = createDatabase();
  const [a, b] = await Promise.all([startServer({ db }), startServer({ db })]);
  try {
    await Promise.all([waitReady(a), waitReady(b)]);
    assert.equal((await request(a, 'POST', '/api/v1/topics', { name: 'shared' })).status, 201);
    await waitFor('instance b to see the topic', async () =>
      (await request(b, 'GET', '/api/v1/topics')).json.items.some((t) => t.name === 'shared'), 10000);
    // The database's unique key arbitrates: b cannot create it again.
    const dup = await request(b, 'POST', '/api/v1/topics', { name: 'shared' });
    assert.equal(dup.status, 409, dup.text);
    assert.equal((await request(b, 'DELETE', '/api/v1/topics/shared')).status, 204);
    await waitFor('instance a to see the delete', async () =>
      !(await request(a, 'GET', '/api/v1/topics')).json.items.some((t) => t.name === 'shared'), 10000);
  } finally {
    assert.equal((await a.stop()).code, 0);
    assert.equal((await b.stop()).code, 0);
  }
});
