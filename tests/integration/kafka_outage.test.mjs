// Kafka down at start and mid-run: lakestreamd runs against an outside
// cluster (the embedded broker in a separate process, tests/tools/
// kafka_embedded_tool, whose brokers we take down and up through its stdin).
// /readyz names kafka while it is down, requests that need Kafka get 503,
// the server keeps serving, and it recovers by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startServer, request, waitFor } from './lib/harness.mjs';

function startCluster() {
  const tool = path.join(process.env.LS_BUILD_DIR, 'tests', 'kafka_embedded_tool');
  const proc = spawn(tool, ['outage-topic', '2'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let partial = '';
  proc.stdout.on('data', (c) => {
    partial += c;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(partial.slice(0, nl)));
      partial = partial.slice(nl + 1);
    }
  });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const command = async (cmd) => {
    const before = lines.length;
    proc.stdin.write(`${cmd}\n`);
    await waitFor(`cluster to acknowledge ${cmd}`, () => lines.length > before && lines.at(-1).brokers === cmd);
  };
  return { proc, lines, exited, command };
}

async function readiness(server) {
  const r = await request(server, 'GET', '/readyz');
  return { status: r.status, failing: (r.json?.failing ?? []).map((f) => f.component) };
}

test('Kafka down at start, then up, then down and up again mid-run', async () => {
  const cluster = startCluster();
  const info = await waitFor('cluster bootstrap', () => cluster.lines.find((l) => l.bootstrap));
  await cluster.command('down');
  const server = await startServer({ embedded: false, args: ['--kafka-bootstrap', info.bootstrap] });
  try {
    assert.equal((await request(server, 'GET', '/healthz')).status, 200);
    const r0 = await waitFor('readyz to name only kafka', async () => {
      const r = await readiness(server);
      return r.failing.length === 1 ? r : null;
    });
    assert.equal(r0.status, 503);
    assert.deepEqual(r0.failing, ['kafka']);
    const c0 = await request(server, 'POST', '/api/v1/topics', { name: 'while-kafka-down' });
    assert.equal(c0.status, 503, c0.text);
    assert.equal(c0.json.error.code, 'unavailable');
    assert.match(c0.json.error.message, /Kafka/);
    const s0 = await request(server, 'GET', '/api/v1/status');
    assert.equal(s0.json.kafka.embedded, false);
    assert.equal(s0.json.kafka.up, false);

    await cluster.command('up');
    await waitFor('ready after Kafka came up', async () => (await readiness(server)).status === 200, 30000);
    const m = await request(server, 'GET', '/metrics');
    assert.match(m.text, /lakestream_up\{component="kafka"\} 1/);

    await cluster.command('down');
    await waitFor('readyz to name kafka mid-run', async () => {
      const r = await readiness(server);
      return r.status === 503 && r.failing.includes('kafka');
    }, 30000);
    assert.equal((await request(server, 'POST', '/api/v1/topics', { name: 'mid-outage' })).status, 503);
    assert.equal((await request(server, 'GET', '/healthz')).status, 200);
    assert.equal((await request(server, 'GET', '/api/v1/topics')).status, 200);

    await cluster.command('up');
    await waitFor('ready again', async () => (await readiness(server)).status === 200, 30000);
  } finally {
    const exit = await server.stop();
    cluster.proc.stdin.end();
    assert.equal(await cluster.exited, 0);
    assert.equal(exit.code, 0, server.raw.slice(-2000));
  }
});
