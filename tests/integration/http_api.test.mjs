// The REST control plane over HTTP/1.1 and HTTP/2: health, status, metrics,
// OpenAPI, topics CRUD, and every bad-input case of the foundation issue
// (each answered with the API.md error body and no state change).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { startServer, waitReady, request, h2request, psql } from './lib/harness.mjs';

let server;
before(async () => {
  server = await startServer({ args: ['--http-max-body-bytes', '4096'] });
  await waitReady(server);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0, `clean exit expected, got ${JSON.stringify(r)}`);
});

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.ok(r.json && r.json.error, `error body expected, got ${r.text}`);
  assert.equal(r.json.error.code, code);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0);
  assert.ok(Array.isArray(r.json.error.details));
}

async function topicNames() {
  const r = await request(server, 'GET', '/api/v1/topics');
  assert.equal(r.status, 200);
  return r.json.items.map((t) => t.name);
}

test('healthz, readyz and status describe a running embedded server', async () => {
  const h = await request(server, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  assert.match(h.headers.get('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{12}$/);
  const r = await request(server, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.failing, []);
  const s = await request(server, 'GET', '/api/v1/status');
  assert.equal(s.status, 200);
  assert.equal(s.json.listeners.http, server.httpAddr);
  assert.equal(s.json.kafka.embedded, true);
  assert.match(s.json.kafka.bootstrap, /^[\w.-]+:\d+/);
  assert.equal(s.json.postgres.ok, true);
  assert.ok(s.json.warehouse.startsWith('file:///'));
  assert.equal(typeof s.json.uptime_s, 'number');
  assert.equal(typeof s.json.totals.topics, 'number');
});

test('a client-supplied request id is echoed back', async () => {
  const r = await request(server, 'GET', '/healthz', undefined, { 'x-request-id': 'abc-123' });
  assert.equal(r.headers.get('x-request-id'), 'abc-123');
});

test('topics are created, listed, read with offsets and deleted', async () => {
  const c = await request(server, 'POST', '/api/v1/topics',
    { name: 'orders.v1', partitions: 3, replication_factor: 1, config: { 'retention.ms': 60000, 'cleanup.policy': 'delete' } });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.name, 'orders.v1');
  assert.equal(c.json.partitions, 3);
  assert.equal(c.json.replication_factor, 1);
  assert.deepEqual(c.json.config, { 'retention.ms': '60000', 'cleanup.policy': 'delete' });
  assert.equal(c.json.value_subject, null);
  assert.match(c.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  assert.ok((await topicNames()).includes('orders.v1'));
  assert.equal(psql(server.db, "SELECT partitions FROM topics WHERE name = 'orders.v1'"), '3');

  const g = await request(server, 'GET', '/api/v1/topics/orders.v1');
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.partition_offsets.length, 3);
  for (const p of g.json.partition_offsets) {
    assert.equal(p.low, 0);
    assert.equal(p.high, 0);
  }
  assert.deepEqual(g.json.partition_offsets.map((p) => p.partition), [0, 1, 2]);

  const d = await request(server, 'DELETE', '/api/v1/topics/orders.v1');
  assert.equal(d.status, 204);
  assert.equal(d.text, '');
  assert.ok(!(await topicNames()).includes('orders.v1'));
  assert.equal(psql(server.db, "SELECT count(*) FROM topics WHERE name = 'orders.v1'"), '0');
  assertError(await request(server, 'GET', '/api/v1/topics/orders.v1'), 404, 'not_found');
  assertError(await request(server, 'DELETE', '/api/v1/topics/orders.v1'), 404, 'not_found');
});

test('the same API answers over HTTP/2 with prior knowledge', async () => {
  const c = await h2request(server, 'POST', '/api/v1/topics', { name: 'h2-topic', partitions: 2 });
  assert.equal(c.status, 201, c.text);
  const l = await h2request(server, 'GET', '/api/v1/topics');
  assert.equal(l.status, 200);
  assert.ok(l.json.items.some((t) => t.name === 'h2-topic' && t.partitions === 2));
  assert.equal(l.json.next_page_token, null);
  const e = await h2request(server, 'GET', '/api/v1/nope');
  assert.equal(e.status, 404);
  assert.equal(e.json.error.code, 'not_found');
});

test('HTTP/1.1 clients can upgrade to h2c', () => {
  const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version}', '--http2',
    `${server.http}/healthz`]).toString();
  assert.equal(out, '2');
});

test('malformed JSON, wrong types and unknown fields are rejected without changes', async () => {
  const before = await topicNames();
  assertError(await request(server, 'POST', '/api/v1/topics', '{"name": "x",'), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', '[1,2]'), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', '{"name":"a","name":"b"}'), 400, 'invalid_argument');
  let r = await request(server, 'POST', '/api/v1/topics', { name: 'x1', partitions: 'three' });
  assertError(r, 400, 'invalid_argument');
  assert.deepEqual(r.json.error.details, [{ field: '$.partitions' }]);
  r = await request(server, 'POST', '/api/v1/topics', { name: 'x2', partitons: 3 });
  assertError(r, 400, 'invalid_argument');
  assert.deepEqual(r.json.error.details, [{ field: '$.partitons' }]);
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 'x3', partitions: 0 }), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 'x4', partitions: 100000 }), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 'x5', config: { 'retention.ms': [1] } }), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 'x6', config: 'no' }), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', { partitions: 1 }), 400, 'invalid_argument');
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 5 }), 400, 'invalid_argument');
  assert.deepEqual(await topicNames(), before);
});

test('invalid topic names are rejected', async () => {
  const before = await topicNames();
  for (const name of ['', '.', '..', 'has space', 'slash/x', 'ü', 'x'.repeat(250), 'semi;colon']) {
    const r = await request(server, 'POST', '/api/v1/topics', { name });
    assertError(r, 400, 'invalid_argument');
    assert.deepEqual(r.json.error.details, [{ field: '$.name' }]);
  }
  const ok = await request(server, 'POST', '/api/v1/topics', { name: 'A-z_0.9' + 'x'.repeat(242) });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await topicNames()).length, before.length + 1);
});

test('duplicate creates answer 409 already_exists', async () => {
  assert.equal((await request(server, 'POST', '/api/v1/topics', { name: 'dup' })).status, 201);
  assertError(await request(server, 'POST', '/api/v1/topics', { name: 'dup', partitions: 4 }), 409, 'already_exists');
  // Concurrent creates of one new name: exactly one wins.
  const rs = await Promise.all([1, 2, 3, 4, 5].map(() =>
    request(server, 'POST', '/api/v1/topics', { name: 'race', partitions: 2 })));
  assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
  assert.equal(psql(server.db, "SELECT count(*) FROM topics WHERE name = 'race'"), '1');
});

test('missing or wrong Content-Type answers 415', async () => {
  const r1 = await fetch(`${server.http}/api/v1/topics`, { method: 'POST', body: '{"name":"ct1"}' });
  assert.equal(r1.status, 415);
  assert.equal((await r1.json()).error.code, 'invalid_argument');
  const r2 = await request(server, 'POST', '/api/v1/topics', '{"name":"ct2"}', { 'content-type': 'text/plain' });
  assertError(r2, 415, 'invalid_argument');
  const r3 = await request(server, 'POST', '/api/v1/topics', '{"name":"ct3"}', { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(r3.status, 201, r3.text);
  assert.ok(!(await topicNames()).includes('ct1'));
});

test('bodies over the limit answer 413 and change nothing', async () => {
  const big = JSON.stringify({ name: 'big', config: { 'x.y': 'z'.repeat(5000) } });
  const r = await request(server, 'POST', '/api/v1/topics', big);
  assertError(r, 413, 'invalid_argument');
  assert.ok(!(await topicNames()).includes('big'));
  // Far over the limit: h2o itself answers 413 from the Content-Length and
  // closes the connection, so the client may see the 413 or a reset while it
  // is still sending; either way nothing is buffered and nothing changes.
  try {
    const huge = await request(server, 'POST', '/api/v1/topics', 'x'.repeat(3 * 1024 * 1024));
    assert.equal(huge.status, 413);
  } catch (e) {
    assert.match(String(e.cause?.code ?? e.code), /ECONNRESET|EPIPE|UND_ERR_SOCKET/);
  }
  assert.equal((await request(server, 'GET', '/healthz')).status, 200);
});

test('unknown routes answer 404 and wrong methods 405 with Allow', async () => {
  assertError(await request(server, 'GET', '/api/v1/unknown'), 404, 'not_found');
  assertError(await request(server, 'GET', '/api/v1/topics/a/b'), 404, 'not_found');
  const r = await request(server, 'PUT', '/api/v1/topics');
  assertError(r, 405, 'invalid_argument');
  assert.equal(r.headers.get('allow'), 'POST, GET');
  const r2 = await request(server, 'PATCH', '/api/v1/topics/x');
  assertError(r2, 405, 'invalid_argument');
  assert.equal(r2.headers.get('allow'), 'GET, DELETE');
  assertError(await request(server, 'GET', '/api/v1/topics/%zz'), 400, 'invalid_argument');
});

test('garbage on the socket does not hurt the server', async () => {
  await new Promise((resolve) => {
    const [host, port] = server.httpAddr.split(':');
    const s = net.connect(Number(port), host, () => {
      s.write('GARBAGE \x00\x01\x02 / HTTP/9.9\r\n\r\n');
      s.write(Buffer.alloc(4096, 0xff));
      setTimeout(() => { s.destroy(); resolve(); }, 100);
    });
    s.on('error', () => resolve());
  });
  assert.equal((await request(server, 'GET', '/healthz')).status, 200);
});

test('metrics expose requests by route and status, latency, loop lag and dependency gauges', async () => {
  await request(server, 'GET', '/api/v1/topics');
  await request(server, 'GET', '/api/v1/nothing-here');
  const r = await request(server, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const m = r.text;
  assert.match(m, /lakestream_http_requests_total\{listener="http",method="GET",route="\/api\/v1\/topics",status="2xx"\} [1-9]\d*/);
  assert.match(m, /lakestream_http_requests_total\{listener="http",method="any",route="unmatched",status="4xx"\} [1-9]\d*/);
  assert.match(m, /lakestream_http_request_duration_seconds_bucket\{listener="http",method="GET",route="\/api\/v1\/topics",le="\+Inf"\} [1-9]\d*/);
  assert.match(m, /lakestream_event_loop_lag_seconds \d/);
  assert.match(m, /lakestream_up\{component="postgres"\} 1/);
  assert.match(m, /lakestream_up\{component="kafka"\} 1/);
  assert.match(m, /lakestream_pg_connections\{state="up"\} [1-9]/);
  assert.match(m, /lakestream_kafka_brokers_up [1-9]/);
  assert.match(m, /lakestream_topics \d+/);
});

test('the OpenAPI document is served and names every route', async () => {
  const r = await request(server, 'GET', '/api/v1/openapi.yaml');
  assert.equal(r.status, 200);
  assert.match(r.text, /^openapi: 3\./m);
  for (const p of ['/healthz', '/readyz', '/metrics', '/api/v1/status', '/api/v1/topics', '/api/v1/topics/{name}']) {
    assert.ok(r.text.includes(`  ${p}:`), `openapi.yaml lacks ${p}`);
  }
});

test('access log lines carry request ids, routes and statuses as JSON', async () => {
  await request(server, 'GET', '/api/v1/topics', undefined, { 'x-request-id': 'trace-me-42' });
  const line = await (async () => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const l = server.logs.find((x) => x.component === 'access' && x.request_id === 'trace-me-42');
      if (l) return l;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  })();
  assert.ok(line, 'access log line not found');
  assert.equal(line.route, '/api/v1/topics');
  assert.equal(line.status, 200);
  assert.equal(line.method, 'GET');
  assert.equal(typeof line.duration_ms, 'number');
  assert.match(line.ts, /Z$/);
});
