// Test harness: starts a real lakestreamd (the binary under test, from the
// LAKESTREAMD environment variable set by ctest) against its own fresh
// database in the throwaway PostgreSQL that scripts/test.sh started
// (LS_TEST_PG_DSN), and offers small HTTP/1.1 and HTTP/2 clients.
import { spawn, execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export const requireClient = createRequire(
  path.join(process.env.LS_SOURCE_DIR ?? process.cwd(), 'tests/e2e/package.json'));

export function baseDsn() {
  const dsn = process.env.LS_TEST_PG_DSN;
  if (!dsn) throw new Error('LS_TEST_PG_DSN is not set: run the tests through scripts/test.sh');
  return dsn;
}

export function dsnFor(dbname) {
  const parts = baseDsn().split(/\s+/).filter((p) => p && !p.startsWith('dbname='));
  parts.push(`dbname=${dbname}`);
  return parts.join(' ');
}

let dbCounter = 0;
export function createDatabase(prefix = 't') {
  const name = `${prefix}_${process.pid}_${Date.now() % 100000}_${dbCounter++}`.toLowerCase();
  execFileSync('psql', [baseDsn(), '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`]);
  return name;
}

export function psql(dbname, sql) {
  return execFileSync('psql', [dsnFor(dbname), '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]).toString().trim();
}

export async function waitFor(what, fn, timeoutMs = 15000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Starts lakestreamd; resolves once it logged its listeners. opts.args adds
// flags; opts.pgDsn overrides the database; opts.embedded (default true).
export async function startServer(opts = {}) {
  const db = opts.db ?? (opts.pgDsn ? null : createDatabase());
  const pgDsn = opts.pgDsn ?? dsnFor(db);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestreamd-'));
  const args = [
    '--pg-dsn', pgDsn,
    '--http-addr', '127.0.0.1:0', '--registry-addr', '127.0.0.1:0', '--grpc-addr', '127.0.0.1:0',
    '--warehouse', `file://${tmp}/warehouse`, '--log-level', opts.logLevel ?? 'info',
    ...(opts.embedded === false ? [] : ['--embedded']),
    ...(opts.args ?? []),
  ];
  const proc = spawn(process.env.LAKESTREAMD, args, {
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { proc, db, pgDsn, tmp, logs: [], raw: '', exited: null };
  server.exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      server.exited = { code, signal };
      resolve(server.exited);
    });
  });
  let partial = '';
  proc.stderr.on('data', (chunk) => {
    server.raw += chunk;
    partial += chunk;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        server.logs.push(JSON.parse(line));
      } catch {
        server.logs.push({ unparsed: line });
      }
      if (process.env.LS_TEST_VERBOSE) process.stderr.write(line + '\n');
    }
  });
  proc.stdout.on('data', (c) => { server.raw += c; });
  const started = await Promise.race([
    waitFor('lakestreamd to start',
      () => server.logs.find((l) => l.msg && l.msg.startsWith('lakestreamd started')), 20000),
    server.exitPromise.then((e) => {
      throw new Error(`lakestreamd exited early (${JSON.stringify(e)}): ${server.raw}`);
    }),
  ]);
  server.http = `http://${started.listeners.http}`;
  server.httpAddr = started.listeners.http;
  server.bootstrap = started.kafka.bootstrap;
  server.stop = async (signal = 'SIGTERM', timeoutMs = 20000) => {
    if (!server.exited) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const r = await server.exitPromise;
    clearTimeout(timer);
    fs.rmSync(tmp, { recursive: true, force: true });
    return r;
  };
  return server;
}

export async function waitReady(server, timeoutMs = 20000) {
  await waitFor('/readyz to answer 200', async () => {
    const r = await fetch(`${server.http}/readyz`);
    return r.status === 200;
  }, timeoutMs);
}

// Sends one request; returns {status, headers, json, text}.
export async function request(server, method, urlPath, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!('content-type' in init.headers)) init.headers['content-type'] = 'application/json';
  }
  const r = await fetch(`${server.http}${urlPath}`, init);
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, headers: r.headers, json, text };
}

// HTTP/2 with prior knowledge (h2c), one session per call.
export function h2request(server, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.http);
    session.on('error', reject);
    const h = { ':method': method, ':path': urlPath, ...headers };
    if (body !== undefined && !('content-type' in h)) h['content-type'] = 'application/json';
    const req = session.request(h);
    let data = '';
    let status;
    let resHeaders;
    req.on('response', (hs) => { status = hs[':status']; resHeaders = hs; });
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      session.close();
      let json;
      try { json = data ? JSON.parse(data) : undefined; } catch { json = undefined; }
      resolve({ status, headers: resHeaders, json, text: data });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(typeof body === 'string' ? body : JSON.stringify(body));
    else req.end();
  });
}
