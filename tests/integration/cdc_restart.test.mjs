// kill -9 of lakestreamd in the middle of a CDC stream: after a restart the
// source resumes from the watermark it stored once Kafka acknowledged the
// records, so no row is missing and only the unacknowledged tail (at most
// one batch) is published twice. The broker must outlive lakestreamd, so it
// runs in its own process (tests/tools/kafka_embedded_tool) and lakestreamd
// uses it as a real cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startServer, waitReady, request, waitFor, createDatabase, dsnFor, psql } from './lib/harness.mjs';
import { createOrders, collect } from './cdc_helpers.mjs';

const TOPIC = 'orders_cdc';
const BATCH = 250;
const TOTAL = 10000;

function startBroker() {
  const child = spawn(`${process.env.LS_BUILD_DIR}/tests/kafka_embedded_tool`, [TOPIC, '1', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const info = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    child.on('exit', (code) => reject(new Error(`broker exited early with ${code}`)));
  });
  return { child, info, exited };
}

async function startAgainst(db, bootstrap) {
  const server = await startServer({ db, embedded: false, args: ['--kafka-bootstrap', bootstrap] });
  await waitReady(server);
  return server;
}

async function sourceStatus(server) {
  const r = await request(server, 'GET', '/api/v1/sources/orders');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('kill -9 mid-stream and restart: every row arrives, duplicates only from the unacknowledged tail', async () => {
  const broker = startBroker();
  const { bootstrap } = await broker.info;
  const src = createDatabase('cdcsrc');
  createOrders(src);
  const db = createDatabase();
  let server = await startAgainst(db, bootstrap);
  let consumer;
  let writer;
  try {
    // The topic exists on the broker; register it the way an operator's
    // earlier deployment would have (the mock broker has no CreateTopics).
    psql(db, `INSERT INTO topics (name, partitions, replication_factor) VALUES ('${TOPIC}', 1, 1)`);
    psql(db, `NOTIFY lakestream_topics, '${TOPIC}'`);
    await waitFor('the topic to be registered', async () =>
      (await request(server, 'GET', '/api/v1/topics')).json.items.some((t) => t.name === TOPIC));
    const created = await request(server, 'POST', '/api/v1/sources', {
      name: 'orders', dsn: dsnFor(src), table: 'orders', key_column: 'order_id',
      timestamp_column: 'created_at', poll_interval_ms: 20, topic: TOPIC, batch_size: BATCH,
    });
    assert.equal(created.status, 201, created.text);
    consumer = await collect(bootstrap, TOPIC);

    // A writer commits 40 transactions of 250 rows while lakestreamd dies.
    let written = 0;
    writer = (async () => {
      for (let i = 0; i < TOTAL / 250; i++) {
        psql(src, `INSERT INTO orders (customer_name, amount, order_status)
          SELECT 'c' || g, g % 100, 'PLACED' FROM generate_series(1, 250) g`);
        written += 250;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await waitFor('a third of the rows to be emitted',
      async () => (await sourceStatus(server)).rows_emitted >= TOTAL / 3, 20000, 5);
    const before = await sourceStatus(server);
    assert.equal((await server.stop('SIGKILL')).signal, 'SIGKILL');
    assert.ok(written < TOTAL, 'lakestreamd died while rows were still being written');
    const stored = Number(psql(db, `SELECT rows_emitted FROM cdc_sources WHERE name = 'orders'`));
    assert.ok(stored <= before.rows_emitted + BATCH);

    server = await startAgainst(db, bootstrap);
    const resumed = await waitFor('the sources to load', async () => {
      const r = await request(server, 'GET', '/api/v1/sources/orders');
      return r.status === 200 ? r.json : null;
    });
    assert.ok(resumed.rows_emitted >= stored, 'the stored watermark and count are reloaded');
    await writer;
    writer = null;
    const rows = psql(src, 'SELECT count(*) FROM orders');
    assert.equal(rows, String(TOTAL));
    await waitFor('every row in the topic',
      () => new Set(consumer.records.map((r) => r.key)).size >= TOTAL, 30000);
    const keys = new Set(consumer.records.map((r) => r.key));
    const ids = psql(src, 'SELECT string_agg(order_id::text, \',\' ORDER BY order_id) FROM orders').split(',');
    assert.deepEqual([...keys].sort((a, b) => a - b), ids, 'no row is missing');
    const duplicates = consumer.records.length - keys.size;
    console.log(`kill -9 restart: ${consumer.records.length} records for ${keys.size} rows, ${duplicates} duplicates (batch ${BATCH})`);
    assert.ok(duplicates <= BATCH, `duplicates (${duplicates}) are bounded by one unacknowledged batch`);
    // a clean stop afterwards stores the final watermark
    await waitFor('the source to catch up', async () => (await sourceStatus(server)).rows_emitted >= TOTAL);
  } finally {
    await writer?.catch(() => {});
    await consumer?.stop();
    if (server && !server.exited) assert.equal((await server.stop()).code, 0);
    broker.child.stdin.end();
    assert.equal(await broker.exited, 0);
  }
  assert.equal(psql(db, `SELECT rows_emitted FROM cdc_sources WHERE name = 'orders'`), String(TOTAL));
});

test('source database connections dropped mid-stream: the source reconnects and no row is lost or repeated', async () => {
  const src = createDatabase('cdcsrc');
  createOrders(src);
  const server = await startServer();
  let consumer;
  try {
    await waitReady(server);
    const created = await request(server, 'POST', '/api/v1/sources', {
      name: 'orders', dsn: dsnFor(src), table: 'orders', key_column: 'order_id',
      timestamp_column: 'created_at', poll_interval_ms: 20, topic: 'orders_drop', batch_size: 100,
    });
    assert.equal(created.status, 201, created.text);
    consumer = await collect(server.bootstrap, 'orders_drop');
    let terminated = 0;
    for (let i = 0; i < 30; i++) {
      psql(src, `INSERT INTO orders (customer_name, amount) SELECT 'c' || g, g FROM generate_series(1, 100) g`);
      if (i % 10 === 5) {
        terminated += Number(psql(src, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'lakestreamd-cdc%') t`));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(terminated >= 2, `the source's connections were terminated (${terminated})`);
    await waitFor('all 3000 rows', () => consumer.records.length >= 3000, 30000);
    await new Promise((r) => setTimeout(r, 300)); // would reveal late duplicates
    const keys = new Set(consumer.records.map((r) => r.key));
    assert.equal(keys.size, 3000);
    assert.equal(consumer.records.length, 3000, 'no row published twice');
    const st = (await request(server, 'GET', '/api/v1/sources/orders')).json;
    assert.equal(st.rows_emitted, 3000);
    assert.equal(st.state, 'running');
  } finally {
    await consumer?.stop();
    assert.equal((await server.stop()).code, 0);
  }
});

test('a source whose database disappears goes to state error without blocking stop or restart', async () => {
  const src = createDatabase('cdcsrc');
  createOrders(src);
  const db = createDatabase();
  let server = await startServer({ db });
  try {
    await waitReady(server);
    const created = await request(server, 'POST', '/api/v1/sources', {
      name: 'gone', dsn: dsnFor(src), table: 'orders', key_column: 'order_id',
      timestamp_column: 'created_at', poll_interval_ms: 50, topic: 'orders_gone', notify: true,
    });
    assert.equal(created.status, 201, created.text);
    execDrop(src);
    const st = await waitFor('state error', async () => {
      const j = (await request(server, 'GET', '/api/v1/sources/gone')).json;
      return j.state === 'error' ? j : null;
    }, 15000);
    assert.ok(st.errors >= 1);
    assert.match(st.last_error, /\S/);
    let t0 = Date.now();
    assert.equal((await server.stop()).code, 0);
    assert.ok(Date.now() - t0 < 4000, `graceful stop took ${Date.now() - t0} ms`);
    // a stored definition that cannot even start is listed with the reason
    psql(db, `INSERT INTO cdc_sources (name, dsn, schema_name, table_name, key_column, timestamp_column,
      poll_interval_ms, topic, safety_delay_ms, batch_size) VALUES ('broken', 'this is = not a dsn',
      'public', 'orders', 'order_id', 'created_at', 1000, 'orders_gone', 50, 10)`);
    server = await startServer({ db });
    await waitReady(server);
    const broken = await waitFor('the sources to load', async () => {
      const r = await request(server, 'GET', '/api/v1/sources/broken');
      return r.status === 200 ? r.json : null;
    });
    const again = (await request(server, 'GET', '/api/v1/sources/gone')).json;
    assert.equal(again.name, 'gone');
    assert.equal(broken.state, 'error');
    assert.match(broken.last_error, /dsn|connection|missing/i);
    assert.equal((await request(server, 'DELETE', '/api/v1/sources/broken')).status, 204);
    assert.equal(psql(db, `SELECT count(*) FROM cdc_sources WHERE name = 'broken'`), '0');
    t0 = Date.now();
    const del = await request(server, 'DELETE', '/api/v1/sources/gone');
    assert.equal(del.status, 204, del.text);
    assert.ok(Date.now() - t0 < 4000, `delete took ${Date.now() - t0} ms`);
  } finally {
    if (!server.exited) assert.equal((await server.stop()).code, 0);
  }
});

function execDrop(dbname) {
  psql('postgres', `DROP DATABASE ${dbname} WITH (FORCE)`);
}
