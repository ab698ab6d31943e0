// The s3:// object store against s3rver: round trips, range reads,
// pagination, multipart, virtual-host addressing, S3 error bodies, signatures
// and payload hashes checked by an independent verifier, retries under
// injected faults leaving exactly the expected objects byte for byte, and the
// loop staying responsive during a 100 MB put. Objects are compared with the
// files s3rver stored on disk, not with what our client reads back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startS3rver } from './lib/s3rver.mjs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startS3FaultProxy } from './lib/s3_fault_proxy.mjs';

const buildDir = process.env.LS_BUILD_DIR;
const tool = path.join(buildDir, 'tests', 'objstore_tool');
const MiB = 1024 * 1024;

let s3rver;
let s3dir;
let work;
let port;

const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');
const stored = (key) => path.join(s3dir, 'bucket', `${key}._S3rver_object`);

function run(args, { env = {}, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile(tool, args, {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', ...env },
      maxBuffer: 16 * MiB,
      timeout: 60000,
    }, (err, stdout, stderr) => {
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const code = err ? (err.code ?? 1) : 0;
      if (code !== 0 && !allowFail) {
        reject(new Error(`objstore_tool ${args.join(' ')} exited ${code}: ${stderr}`));
        return;
      }
      resolve({ code, lines, stderr });
    });
  });
}

const direct = () => ['--endpoint', `http://127.0.0.1:${port}`];

before(async () => {
  assert.ok(existsSync(tool), `missing ${tool}`);
  ({ proc: s3rver, port, directory: s3dir } = await startS3rver({ bucket: 'bucket' }));
  work = mkdtempSync(path.join(tmpdir(), 'ls-objstore-'));
});

after(() => {
  s3rver?.kill();
  if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

test('put, head, get, range get, list and delete round trip through s3rver', async () => {
  const data = crypto.randomBytes(300 * 1024 + 17);
  const file = path.join(work, 'rt.bin');
  writeFileSync(file, data);
  const key = 'dir one/obj+1.bin';
  const put = (await run([...direct(), 's3://bucket/rt', 'put', key, file])).lines[0];
  assert.equal(put.size, data.length);
  assert.equal(put.etag, md5(data));
  assert.equal(md5(readFileSync(stored(`rt/${key}`))), md5(data));

  const head = (await run([...direct(), 's3://bucket/rt', 'head', key])).lines[0];
  assert.equal(head.size, data.length);
  assert.equal(head.etag, md5(data));
  assert.ok(Math.abs(head.mtime - Date.now() / 1000) < 120, `mtime ${head.mtime}`);

  const out = path.join(work, 'rt.out');
  const get = (await run([...direct(), 's3://bucket/rt', 'get', key, out])).lines[0];
  assert.equal(get.md5, md5(data));
  assert.deepEqual(readFileSync(out), data);

  const range = (await run([...direct(), 's3://bucket/rt', 'get', key, out, '1000', '4096'])).lines[0];
  assert.equal(range.size, 4096);
  assert.deepEqual(readFileSync(out), data.subarray(1000, 5096));
  const tail = (await run([...direct(), 's3://bucket/rt', 'get', key, out, String(data.length - 5), '100'])).lines[0];
  assert.equal(tail.size, 5);
  const past = await run([...direct(), 's3://bucket/rt', 'get', key, out, String(data.length), '10'], { allowFail: true });
  assert.match(past.stderr, /invalid_argument: S3 GET .*HTTP 416 InvalidRange/);
  // a body above max_get_bytes is refused, not buffered
  const big = await run([...direct(), '--max-get-bytes', '1000', 's3://bucket/rt', 'get', key, out], { allowFail: true });
  assert.match(big.stderr, /invalid_argument: .*larger than the 1000-byte limit/);

  const list = (await run([...direct(), 's3://bucket/rt', 'list', 'dir'])).lines;
  assert.deepEqual(list.filter((l) => l.op === 'list').map((l) => [l.key, l.size, l.etag]), [[key, data.length, md5(data)]]);

  await run([...direct(), 's3://bucket/rt', 'delete', key]);
  assert.equal(existsSync(stored(`rt/${key}`)), false);
  const missing = await run([...direct(), 's3://bucket/rt', 'get', key, out], { allowFail: true });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not_found: .*NoSuchKey/);
  // deleting a missing object succeeds, like S3
  await run([...direct(), 's3://bucket/rt', 'delete', key]);
});

test('multipart upload sends parallel parts and stores the exact bytes', async () => {
  const data = crypto.randomBytes(12 * MiB + 5);
  const file = path.join(work, 'mp.bin');
  writeFileSync(file, data);
  const put = (await run([...direct(), '--part-size', String(5 * MiB), 's3://bucket', 'put', 'mp/big.bin', file])).lines[0];
  // CreateMultipartUpload + 3 UploadPart + CompleteMultipartUpload
  assert.equal(put.attempts, 5);
  assert.equal(md5(readFileSync(stored('mp/big.bin'))), md5(data));
  const uploads = path.join(s3dir, 'bucket', '.uploads');
  if (existsSync(uploads)) assert.deepEqual(readdirSync(uploads), []);
  // below the threshold it is one PUT
  const small = (await run([...direct(), '--part-size', String(5 * MiB), '--threshold', String(16 * MiB), 's3://bucket', 'put', 'mp/one.bin', file])).lines[0];
  assert.equal(small.attempts, 1);
  assert.equal(small.etag, md5(data));
});

test('list pages with continuation tokens return every key once, in order', async () => {
  const file = path.join(work, 'p.txt');
  writeFileSync(file, 'page');
  const keys = ['k/a', 'k/b', 'k/c', 'k/d', 'k/e', 'k/f', 'k/g'];
  for (const k of keys) await run([...direct(), 's3://bucket/pg', 'put', k, file]);
  const lines = (await run([...direct(), 's3://bucket/pg', 'list', 'k/', '3'])).lines;
  assert.deepEqual(lines.filter((l) => l.op === 'list').map((l) => l.key), keys);
  assert.deepEqual(lines.at(-1), { op: 'list_done', pages: 3, count: 7 });
});

test('virtual-host addressing reaches the bucket through its host name', async () => {
  const file = path.join(work, 'vh.txt');
  writeFileSync(file, 'virtual host');
  // curl resolves *.localhost to loopback; s3rver reads the bucket from Host
  const vhost = ['--endpoint', `http://s3.localhost:${port}`, '--addressing', 'vhost'];
  await run([...vhost, 's3://bucket/vh', 'put', 'x.txt', file]);
  assert.equal(readFileSync(stored('vh/x.txt'), 'utf8'), 'virtual host');
  const list = (await run([...vhost, 's3://bucket/vh', 'list', ''])).lines;
  assert.deepEqual(list.filter((l) => l.op === 'list').map((l) => l.key), ['x.txt']);
});

test('an independent verifier accepts our signatures and payload hashes and rejects a wrong secret', async () => {
  const proxy = await startS3FaultProxy({ target: `http://127.0.0.1:${port}`, secret: 'S3RVER' });
  try {
    const data = crypto.randomBytes(6 * MiB + 3);
    const file = path.join(work, 'v.bin');
    writeFileSync(file, data);
    const via = ['--endpoint', `http://127.0.0.1:${proxy.port}`, '--part-size', String(5 * MiB)];
    await run([...via, 's3://bucket/v', 'put', 'sp ace/ü+x.bin', file]);
    await run([...via, 's3://bucket/v', 'list', 'sp ace/', '1']);
    await run([...via, 's3://bucket/v', 'get', 'sp ace/ü+x.bin', path.join(work, 'v.out'), '5', '10']);
    await run([...via, 's3://bucket/v', 'delete', 'sp ace/ü+x.bin']);
    assert.equal(proxy.stats.verifyFailures, 0);
    assert.equal(proxy.stats.md5Failures, 0);
    // create + 2 parts + complete, list, get, delete
    assert.equal(proxy.stats.forwarded, 7);

    const bad = await run([...via, 's3://bucket/v', 'head', 'anything'], {
      env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, allowFail: true,
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /permission_denied: S3 HEAD \/bucket\/v\/anything: HTTP 403/);
    const badPut = await run([...via, 's3://bucket/v', 'put', 'k', path.join(work, 'p.txt')], {
      env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, allowFail: true,
    });
    assert.match(badPut.stderr, /SignatureDoesNotMatch: proxy check: signature does not match/);
    assert.doesNotMatch(badPut.stderr, /not-the-secret/);
    assert.equal(proxy.stats.verifyFailures, 2);
  } finally {
    await proxy.close();
  }
});

test('retries under 500s, SlowDown, delays and dropped connections leave exactly the expected objects', async () => {
  const proxy = await startS3FaultProxy({
    target: `http://127.0.0.1:${port}`, secret: 'S3RVER', seed: 20261122,
    p500: 0.1, p503: 0.1, pDelay: 0.1, delayMs: 150, pDropRequest: 0.08, pDropResponse: 0.08,
  });
  try {
    const count = 24;
    const args = ['--endpoint', `http://127.0.0.1:${proxy.port}`, '--part-size', String(5 * MiB),
      '--max-attempts', '15', '--retry-base-ms', '5', '--retry-max-ms', '60', '--timeout-ms', '20000',
      '--concurrency', '8'];
    const res = await run([...args, 's3://bucket/chaos', 'stress', 'set/', String(count), '7'], { allowFail: true });
    assert.equal(res.code, 0, `stress failed: ${res.stderr}`);
    const puts = res.lines.filter((l) => l.op === 'put');
    assert.equal(puts.length, count);
    // every object on s3rver's disk has exactly the bytes the client meant
    for (const p of puts) {
      const onDisk = readFileSync(stored(`chaos/${p.key}`));
      assert.equal(onDisk.length, p.size, p.key);
      assert.equal(md5(onDisk), p.md5, p.key);
    }
    // and the listing (straight from s3rver) has exactly these keys
    const list = (await run([...direct(), 's3://bucket/chaos', 'list', ''])).lines;
    assert.deepEqual(list.filter((l) => l.op === 'list').map((l) => l.key).sort(), puts.map((p) => p.key).sort());
    for (const l of list.filter((x) => x.op === 'list')) {
      const p = puts.find((x) => x.key === l.key);
      assert.equal(l.size, p.size);
    }
    const s = proxy.stats;
    console.log('fault proxy stats', JSON.stringify({ ...s, log: undefined }), 'total attempts', puts.reduce((a, p) => a + p.attempts, 0));
    // the run must actually have been disturbed, in every way
    for (const k of ['injected500', 'injected503', 'delayed', 'droppedRequests', 'droppedResponses'])
      assert.ok(s[k] > 0, `no ${k} injected`);
    assert.equal(s.verifyFailures, 0);
    assert.equal(s.md5Failures, 0);
    assert.ok(puts.some((p) => p.attempts > 1));
  } finally {
    await proxy.close();
  }
});

test('persistent failures give up after the configured attempts with S3 Code and Message', async () => {
  const proxy = await startS3FaultProxy({ target: `http://127.0.0.1:${port}`, secret: 'S3RVER', p503: 1 });
  try {
    const res = await run(['--endpoint', `http://127.0.0.1:${proxy.port}`, '--max-attempts', '3',
      '--retry-base-ms', '5', 's3://bucket', 'put', 'never', path.join(work, 'p.txt')], { allowFail: true });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /unavailable: S3 PUT \/bucket\/never: HTTP 503 SlowDown: Please reduce your request rate\. \(after 3 attempts\)/);
    assert.equal(proxy.stats.injected503, 3);
    assert.equal(existsSync(stored('never')), false);
  } finally {
    await proxy.close();
  }
});

test('a hung request times out and a 429 is retried, then the put lands', async () => {
  const proxy = await startS3FaultProxy({
    target: `http://127.0.0.1:${port}`, secret: 'S3RVER',
    decide: (req, n) => (n === 1 ? 'hang' : n === 2 ? '429' : null),
  });
  try {
    const file = path.join(work, 'to.txt');
    writeFileSync(file, 'after a timeout');
    const r = (await run(['--endpoint', `http://127.0.0.1:${proxy.port}`, '--timeout-ms', '400',
      '--retry-base-ms', '5', 's3://bucket', 'put', 'timeout/x', file])).lines[0];
    assert.equal(r.attempts, 3);
    assert.equal(proxy.stats.hung, 1);
    assert.equal(proxy.stats.injected429, 1);
    assert.equal(readFileSync(stored('timeout/x'), 'utf8'), 'after a timeout');
  } finally {
    await proxy.close();
  }
});

test('in-flight requests never exceed max_concurrency and parts upload in parallel', async () => {
  const proxy = await startS3FaultProxy({ target: `http://127.0.0.1:${port}`, secret: 'S3RVER', pDelay: 1, delayMs: 150 });
  try {
    const data = crypto.randomBytes(20 * MiB);
    const file = path.join(work, 'par.bin');
    writeFileSync(file, data);
    const via = ['--endpoint', `http://127.0.0.1:${proxy.port}`, '--part-size', String(5 * MiB), '--concurrency', '3'];
    const r = (await run([...via, 's3://bucket', 'put', 'par/x.bin', file])).lines[0];
    assert.equal(r.attempts, 6); // create, 4 parts, complete
    assert.equal(proxy.stats.maxInFlight, 3);
    const s = (await run([...via, 's3://bucket', 'stress', 'par/s-', '10', '3'])).lines;
    assert.equal(s.length, 10);
    assert.ok(proxy.stats.maxInFlight <= 3, `max in flight ${proxy.stats.maxInFlight}`);
    assert.equal(md5(readFileSync(stored('par/x.bin'))), md5(data));
  } finally {
    await proxy.close();
  }
});

test('a lost CompleteMultipartUpload response is recovered by checking the stored object', async () => {
  let completes = 0;
  const proxy = await startS3FaultProxy({
    target: `http://127.0.0.1:${port}`, secret: 'S3RVER',
    decide: (req) => (req.method === 'POST' && /uploadId=/.test(req.url) && completes++ === 0 ? 'dropResponse' : null),
  });
  try {
    const data = crypto.randomBytes(11 * MiB);
    const file = path.join(work, 'lost.bin');
    writeFileSync(file, data);
    const r = (await run(['--endpoint', `http://127.0.0.1:${proxy.port}`, '--part-size', String(5 * MiB),
      '--max-attempts', '3', '--retry-base-ms', '5', 's3://bucket', 'put', 'lost/x.bin', file])).lines[0];
    assert.equal(r.size, data.length);
    assert.equal(r.etag, md5(data));
    assert.equal(proxy.stats.droppedResponses, 1);
    assert.ok(proxy.stats.log.some((l) => l.startsWith('HEAD /bucket/lost/x.bin')), proxy.stats.log.join('\n'));
    assert.equal(md5(readFileSync(stored('lost/x.bin'))), md5(data));
  } finally {
    await proxy.close();
  }
});

test('a multipart upload whose part keeps failing is aborted and stores nothing', async () => {
  const proxy = await startS3FaultProxy({
    target: `http://127.0.0.1:${port}`, secret: 'S3RVER',
    decide: (req) => (req.method === 'PUT' && /partNumber=2&/.test(req.url) ? '500' : null),
  });
  try {
    const file = path.join(work, 'abort.bin');
    writeFileSync(file, crypto.randomBytes(11 * MiB));
    const r = await run(['--endpoint', `http://127.0.0.1:${proxy.port}`, '--part-size', String(5 * MiB),
      '--max-attempts', '2', '--retry-base-ms', '5', 's3://bucket', 'put', 'abort/x.bin', file], { allowFail: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unavailable: S3 PUT \/bucket\/abort\/x\.bin: HTTP 500 InternalError: .*\(after 2 attempts\)/);
    const aborts = proxy.stats.log.filter((l) => /^DELETE \/bucket\/abort\/x\.bin\?uploadId=/.test(l));
    assert.equal(aborts.length, 1, proxy.stats.log.join('\n'));
    assert.equal(proxy.stats.log.filter((l) => l.startsWith('POST') && /uploadId=/.test(l)).length, 0);
    assert.equal(existsSync(stored('abort/x.bin')), false);
  } finally {
    await proxy.close();
  }
});

// Hashing 100 MB (SHA-256 + MD5) or writing it on the loop would take the
// loop thread 300+ ms of CPU between two ticks. The wall-clock gap is also
// bounded, loosely: on a shared 2-core machine under load the scheduler alone
// can hold a runnable thread back for a few hundred ms.
function assertLoopResponsive(r) {
  assert.ok(r.max_tick_cpu_ms < 50, `loop thread busy for ${r.max_tick_cpu_ms} ms between ticks`);
  assert.ok(r.max_tick_gap_ms < 1000, `loop stalled for ${r.max_tick_gap_ms} ms`);
}

test('the loop keeps ticking every 10 ms during a 100 MB put to s3', async () => {
  const r = (await run([...direct(), '--part-size', String(8 * MiB), 's3://bucket', 'lagput', 'lag/100mb', '100'])).lines[0];
  console.log(`s3 put 100 MiB: ${r.ms} ms, max loop tick gap ${r.max_tick_gap_ms} ms wall, ${r.max_tick_cpu_ms} ms loop-thread CPU (timer every 10 ms)`);
  assert.equal(r.size, 100 * MiB);
  assert.equal(md5(readFileSync(stored('lag/100mb'))), r.md5);
  assertLoopResponsive(r);
});

test('the loop keeps ticking every 10 ms during a 100 MB put to a directory', async () => {
  const dir = path.join(work, 'filestore');
  const r = (await run([`file://${dir}`, 'lagput', 'lag/100mb', '100'])).lines[0];
  console.log(`file put 100 MiB: ${r.ms} ms, max loop tick gap ${r.max_tick_gap_ms} ms wall, ${r.max_tick_cpu_ms} ms loop-thread CPU (timer every 10 ms)`);
  assert.equal(md5(readFileSync(path.join(dir, 'lag/100mb'))), r.md5);
  assertLoopResponsive(r);
});
