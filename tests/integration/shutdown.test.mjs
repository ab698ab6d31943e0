// Graceful stop: SIGTERM while clients hammer the API ends the process with
// exit code 0 (which lakestreamd only returns when every handle closed and
// uv_loop_close succeeded) well within the shutdown timeout; in-flight
// requests complete; nothing new is accepted after the stop began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, request } from './lib/harness.mjs';

test('SIGTERM during load stops cleanly with exit code 0', async () => {
  const server = await startServer({ args: ['--shutdown-timeout-ms', '8000'] });
  await waitReady(server);
  assert.equal((await request(server, 'POST', '/api/v1/topics', { name: 'load', partitions: 2 })).status, 201);
  let running = true;
  let ok = 0;
  let refused = 0;
  const workers = Array.from({ length: 8 }, async (_, i) => {
    while (running) {
      try {
        const r = await request(server, i % 2 ? 'GET' : 'GET', i % 2 ? '/api/v1/topics' : '/api/v1/topics/load');
        if (r.status === 200) ok++;
      } catch {
        refused++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  server.proc.kill('SIGTERM');
  const exit = await server.exitPromise;
  const took = Date.now() - t0;
  running = false;
  await Promise.all(workers);
  assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}; log tail: ${server.raw.slice(-2000)}`);
  assert.ok(took < 8000, `stop took ${took} ms`);
  assert.ok(ok > 20, `only ${ok} requests succeeded before the stop`);
  assert.ok(server.logs.some((l) => l.msg && l.msg.startsWith('lakestreamd stopped (exit code 0)')));
  assert.ok(!server.logs.some((l) => l.msg && l.msg.includes('handles still open')));
  await server.stop();
});

test('SIGINT on an idle server stops at once', async () => {
  const server = await startServer();
  await waitReady(server);
  const t0 = Date.now();
  const exit = await server.stop('SIGINT');
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 5000);
});

test('a second listener on a busy port fails with exit code 3', async () => {
  const first = await startServer();
  try {
    await waitReady(first);
    const second = startServer({ args: ['--http-addr', first.httpAddr] });
    await assert.rejects(second, /exited early \(\{"code":3/);
  } finally {
    await first.stop();
  }
});

test('bad configuration exits with code 2 and a clear message', async () => {
  await assert.rejects(startServer({ args: ['--pg-pool-size', 'lots'] }), /exited early \(\{"code":2.*pg\.pool_size/s);
  await assert.rejects(startServer({ args: ['--bogus-flag'] }), /exited early \(\{"code":2.*--bogus-flag/s);
});
