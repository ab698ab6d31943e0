// CDC sources against a real lakestreamd (embedded broker) and a source
// database in the throwaway PostgreSQL, consumed by kafkajs: rows sharing
// one timestamp and a transaction that commits late with an earlier
// timestamp each arrive exactly once with typed JSON values; notify mode
// delivers within 200 ms although the poll interval is 10 s; bad requests
// are rejected and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, request, waitFor, createDatabase, dsnFor, psql } from './lib/harness.mjs';
import { createOrders, collect, openTransaction } from './cdc_helpers.mjs';

async function getSource(server, name) {
  const r = await request(server, 'GET', `/api/v1/sources/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function ordersInDb(db) {
  const text = psql(db, `SELECT coalesce(json_agg(json_build_object(
      'order_id', order_id, 'customer_name', customer_name, 'restaurant_name', restaurant_name,
      'item', item, 'amount', amount::text, 'order_status', order_status,
      'created_at', to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US')) ORDER BY order_id), '[]')
    FROM orders`);
  return JSON.parse(text);
}

test('same-timestamp bursts and a late commit with an earlier timestamp arrive exactly once as typed JSON', async () => {
  const src = createDatabase('cdcsrc');
  createOrders(src);
  // 250 rows share one created_at and 50 another: pages of 40 must walk
  // through them by key without skipping or repeating any.
  psql(src, `INSERT INTO orders (customer_name, restaurant_name, item, amount, order_status, created_at)
    SELECT 'cust' || i, CASE WHEN i = 7 THEN NULL ELSE 'Burger Junction' END, 'Veg "Burger"',
           220.00 + i, 'PLACED', '2025-01-15 12:24:00' FROM generate_series(1, 250) i`);
  psql(src, `INSERT INTO orders (customer_name, restaurant_name, item, amount, order_status, created_at)
    SELECT 'cust' || i, 'Pizza Place', 'Margherita', 9.5, 'DELIVERED', '2025-01-15 12:24:00.5'
    FROM generate_series(251, 300) i`);
  const server = await startServer();
  let consumer;
  try {
    await waitReady(server);
    const created = await request(server, 'POST', '/api/v1/sources', {
      name: 'orders', dsn: dsnFor(src), table: 'orders', key_column: 'order_id',
      timestamp_column: 'created_at', poll_interval_ms: 100, topic: 'food_orders_raw',
      format: 'json', batch_size: 40,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.table, 'public.orders');
    assert.equal(created.json.safety_delay_ms, 50);
    // the topic did not exist: the source created it through the topics service
    const topic = await request(server, 'GET', '/api/v1/topics/food_orders_raw');
    assert.equal(topic.status, 200, topic.text);

    consumer = await collect(server.bootstrap, 'food_orders_raw');
    const { records } = consumer;
    await waitFor('the first 300 rows', () => records.length >= 300, 20000);

    // A writer opens a transaction and inserts (created_at = its start), then
    // other sessions commit rows stamped later. The late row's timestamp is
    // below theirs; the horizon must hold them back until it commits.
    const tx = openTransaction(src,
      `INSERT INTO orders (customer_name, amount, order_status) VALUES ('late', 5.25, 'PLACED');`);
    await tx.ready();
    psql(src, `INSERT INTO orders (customer_name, amount, order_status)
      SELECT 'after' || i, 1, 'PLACED' FROM generate_series(1, 20) i`);
    const polls0 = (await getSource(server, 'orders')).polls;
    await waitFor('five polls while the transaction is open',
      async () => (await getSource(server, 'orders')).polls >= polls0 + 5, 10000);
    assert.equal(records.filter((r) => r.value.customer_name.startsWith('after')).length, 0,
      'rows stamped after an open write transaction started are held back');
    assert.equal(records.length, 300);
    await tx.commit();
    await waitFor('all 321 rows', () => records.length >= 321, 15000);

    const rows = ordersInDb(src);
    assert.equal(rows.length, 321);
    // exactly once
    const byKey = new Map();
    for (const r of records) {
      assert.ok(!byKey.has(r.key), `key ${r.key} delivered twice`);
      byKey.set(r.key, r);
    }
    assert.deepEqual([...byKey.keys()].map(Number).sort((a, b) => a - b), rows.map((r) => r.order_id));
    // typed values, compared with what PostgreSQL holds
    for (const row of rows) {
      const v = byKey.get(String(row.order_id)).value;
      assert.equal(typeof v.order_id, 'number');
      assert.equal(v.order_id, row.order_id);
      assert.equal(v.customer_name, row.customer_name);
      assert.equal(v.restaurant_name, row.restaurant_name);
      assert.equal(v.item, row.item);
      assert.equal(typeof v.amount, 'number');
      assert.equal(v.amount, Number(row.amount));
      assert.equal(v.order_status, row.order_status);
      assert.equal(v.created_at, row.created_at.replace('.000000', '') + 'Z');
      assert.deepEqual(Object.keys(v), ['order_id', 'customer_name', 'restaurant_name', 'item',
        'amount', 'order_status', 'created_at']);
    }
    assert.equal(byKey.get('7').value.restaurant_name, null);
    assert.equal(byKey.get('1').value.created_at, '2025-01-15T12:24:00Z');
    assert.equal(byKey.get('300').value.created_at, '2025-01-15T12:24:00.500000Z');
    // the late row was published before every row stamped after it
    const late = records.find((r) => r.value.customer_name === 'late');
    const after = records.filter((r) => r.value.customer_name.startsWith('after'));
    assert.equal(after.length, 20);
    for (const a of after) {
      assert.ok(late.value.created_at < a.value.created_at, 'the late row carries the earlier timestamp');
      assert.ok(late.offset < a.offset, 'and is published before the rows stamped after it');
    }
    // keyset order within equal timestamps: offsets follow (created_at, order_id)
    const sorted = [...records].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < 250; i++) assert.ok(Number(sorted[i].key) > Number(sorted[i - 1].key));

    const st = await getSource(server, 'orders');
    assert.equal(st.state, 'running');
    assert.equal(st.rows_emitted, 321);
    const last = after.reduce((m, r) => (r.offset > m.offset ? r : m));
    assert.equal(st.watermark.key, last.key);
    assert.equal(st.watermark.timestamp, last.value.created_at);
    assert.equal(typeof st.lag_seconds, 'number');
    assert.equal(st.last_error, null);
    assert.ok(st.last_poll_at);
    // the watermark is stored
    assert.equal(psql(server.db, `SELECT watermark_key || ' ' || rows_emitted FROM cdc_sources WHERE name = 'orders'`),
      `${last.key} 321`);
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    assert.match(metrics, /lakestream_cdc_rows_emitted_total\{source="orders"\} 321\b/);
    assert.match(metrics, /lakestream_cdc_running\{source="orders"\} 1\b/);
  } finally {
    await consumer?.stop();
    assert.equal((await server.stop()).code, 0);
  }
});

test('notify mode publishes an insert within 200 ms while the poll interval is 10 s', async () => {
  const src = createDatabase('cdcsrc');
  createOrders(src);
  const server = await startServer();
  let consumer;
  try {
    await waitReady(server);
    const created = await request(server, 'POST', '/api/v1/sources', {
      name: 'fast', dsn: dsnFor(src), table: 'public.orders', key_column: 'order_id',
      timestamp_column: 'created_at', poll_interval_ms: 10000, topic: 'fast_orders', notify: true,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(psql(src, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal`), '1');
    await waitFor('LISTEN in effect', async () => (await getSource(server, 'fast')).listening, 10000);
    consumer = await collect(server.bootstrap, 'fast_orders');
    // The consumer's first join takes ~3 s; one warm-up row proves it reads.
    psql(src, `INSERT INTO orders (customer_name, amount) VALUES ('warmup', 1)`);
    await waitFor('the warm-up row', () => consumer.records.length === 1, 15000);
    const latencies = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const id = psql(src, `INSERT INTO orders (customer_name, amount) VALUES ('n${i}', ${i}) RETURNING order_id`);
      await waitFor(`row ${id}`, () => consumer.records.some((r) => r.key === id), 5000, 5);
      // Kafka's CreateTime is stamped when lakestreamd produced the record
      latencies.push(consumer.records.find((r) => r.key === id).timestamp - t0);
    }
    latencies.sort((a, b) => a - b);
    console.log(`notify INSERT-to-Kafka latency ms: p50 ${latencies[4]} max ${latencies[9]} (all ${latencies})`);
    assert.ok(latencies[9] < 200, `every insert published within 200 ms: ${latencies}`);
    const st = await getSource(server, 'fast');
    assert.equal(st.rows_emitted, 11);
  } finally {
    await consumer?.stop();
    assert.equal((await server.stop()).code, 0);
  }
});

test('bad source definitions are rejected with the field named and change nothing', async () => {
  const src = createDatabase('cdcsrc');
  createOrders(src);
  const server = await startServer();
  try {
    await waitReady(server);
    const good = {
      name: 'good', dsn: dsnFor(src), table: 'orders', key_column: 'order_id',
      timestamp_column: 'created_at', topic: 'good_orders', notify: true,
    };
    assert.equal((await request(server, 'POST', '/api/v1/sources', good)).status, 201);
    const triggers = () => psql(src, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal`);
    const functions = () => psql(src, `SELECT count(*) FROM pg_proc WHERE proname LIKE 'lakestream_cdc_%'`);
    assert.equal(triggers(), '1');

    const bad = [
      [{ table: 'orders; DROP TABLE orders' }, 400, '$.table'],
      [{ table: 'orders"; DROP TABLE orders; --' }, 400, '$.table'],
      [{ table: 'public.orders.x' }, 400, '$.table'],
      [{ key_column: 'order_id) OR (1=1' }, 400, '$.key_column'],
      [{ timestamp_column: 'created_at"' }, 400, '$.timestamp_column'],
      [{ timestamp_column: 'order_id' }, 400, '$.timestamp_column'],
      [{ name: '../etc' }, 400, '$.name'],
      [{ name: undefined }, 400, '$.name'],
      [{ topic: 'bad topic!' }, 400, '$.topic'],
      [{ format: 'avro' }, 400, '$.format'],
      [{ poll_interval_ms: 0 }, 400, '$.poll_interval_ms'],
      [{ batch_size: 1e9 }, 400, '$.batch_size'],
      [{ safety_delay_ms: -1 }, 400, '$.safety_delay_ms'],
      [{ notify: 'yes' }, 400, '$.notify'],
      [{ extra: 1 }, 400, null],
      [{ dsn: 'host=db.example.com dbname=x' }, 400, '$.dsn'],
      [{ dsn: 'this is = not a dsn' }, 400, '$.dsn'],
      [{ table: 'no_such_table' }, 400, '$.table'],
      [{ table: 'Orders' }, 400, '$.table'],
      [{ key_column: 'nope' }, 400, '$.key_column'],
      [{ key_column: 'customer_name' }, 400, '$.key_column'], // nullable
      [{ timestamp_column: 'customer_name' }, 400, '$.timestamp_column'],
      [{ name: 'good' }, 409, '$.name'],
    ];
    for (const [change, status, path] of bad) {
      const body = { ...good, name: 'bad', notify: true, ...change };
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const r = await request(server, 'POST', '/api/v1/sources', body);
      assert.equal(r.status, status, `${JSON.stringify(change)}: ${r.text}`);
      assert.equal(r.json.error.code, status === 409 ? 'already_exists' : 'invalid_argument');
      if (path) assert.equal(r.json.error.details?.[0]?.field, path, r.text);
    }
    // an unreachable database: a clear error within the check's timeout
    const t0 = Date.now();
    const down = await request(server, 'POST', '/api/v1/sources',
      { ...good, name: 'down', dsn: 'host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1' });
    assert.equal(down.status, 503, down.text);
    assert.match(down.json.error.message, /source database/);
    assert.ok(Date.now() - t0 < 6000);

    // nothing changed: one source, one row, one trigger, the table intact
    const list = await request(server, 'GET', '/api/v1/sources');
    assert.deepEqual(list.json.items.map((s) => s.name), ['good']);
    assert.equal(psql(server.db, 'SELECT count(*) FROM cdc_sources'), '1');
    assert.equal(triggers(), '1');
    assert.equal(psql(src, `SELECT to_regclass('orders') IS NOT NULL`), 't');
    const topics = await request(server, 'GET', '/api/v1/topics');
    assert.deepEqual(topics.json.items.map((t) => t.name), ['good_orders']);

    assert.equal((await request(server, 'GET', '/api/v1/sources/nope')).status, 404);
    assert.equal((await request(server, 'DELETE', '/api/v1/sources/nope')).status, 404);
    assert.equal((await request(server, 'DELETE', '/api/v1/sources/good')).status, 204);
    assert.equal((await request(server, 'GET', '/api/v1/sources/good')).status, 404);
    assert.equal(psql(server.db, 'SELECT count(*) FROM cdc_sources'), '0');
    assert.equal(triggers(), '0', 'the notify trigger is removed with the source');
    assert.equal(functions(), '0');
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
