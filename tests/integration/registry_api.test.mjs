// The schema registry's Confluent REST API on its own listener, against a
// real lakestreamd and PostgreSQL: identity by canonical form, global ids,
// every error code with Confluent's body, soft and permanent deletes,
// compatibility levels, modes, content types, and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, request, baseDsn } from './lib/harness.mjs';

const baseDsnNoDb = () => baseDsn().split(/\s+/).filter((p) => p && !p.startsWith('dbname=')).join(' ');

const CT = 'application/vnd.schemaregistry.v1+json';
let server;
let base;

before(async () => {
  server = await startServer();
  await waitReady(server);
  base = `http://${server.logs.find((l) => l.msg?.startsWith('lakestreamd started')).listeners.registry}`;
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

// One request to the registry listener: {status, json, text, headers}.
async function reg(method, path, body, contentType = CT) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = contentType;
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error_code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
  assert.deepEqual(Object.keys(r.json).sort(), ['error_code', 'message']);
}

const record = (name, fields) => JSON.stringify({ type: 'record', name, fields });
const register = (subject, schema, extra = {}) =>
  reg('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema, ...extra });

test('a schema equal by canonical form returns the existing version and id; ids are global; text is kept', async () => {
  const text = '{\n  "type": "record", "name": "Reading", "namespace": "ident",\n  "doc": "first text",\n  "fields": [{"name": "v", "type": "double", "default": 0.5}]\n}';
  const r1 = await register('ident-value', text);
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.headers.get('content-type'), CT);
  const id = r1.json.id;
  // Same schema, other spelling (attribute order, whitespace, doc, full name).
  const again = JSON.stringify({ fields: [{ type: 'double', name: 'v' }], name: 'ident.Reading', type: 'record', doc: 'other doc' });
  const r2 = await register('ident-value', again);
  assert.deepEqual(r2.json, { id });
  assert.deepEqual((await reg('GET', '/subjects/ident-value/versions')).json, [1]);
  // Another subject: same id (ids belong to schemas), version 1 there.
  const r3 = await register('ident-other', again);
  assert.deepEqual(r3.json, { id });
  const v = await reg('GET', '/subjects/ident-other/versions/1');
  assert.deepEqual(v.json, { subject: 'ident-other', version: 1, id, schema: text });
  // The original text, exactly, everywhere.
  assert.equal((await reg('GET', '/subjects/ident-value/versions/latest/schema')).text, text);
  assert.deepEqual((await reg('GET', `/schemas/ids/${id}`)).json, { schema: text });
  assert.equal((await reg('GET', `/schemas/ids/${id}/schema`)).text, text);
  assert.deepEqual((await reg('GET', `/schemas/ids/${id}/subjects`)).json, ['ident-other', 'ident-value']);
  assert.deepEqual((await reg('GET', `/schemas/ids/${id}/versions`)).json,
    [{ subject: 'ident-other', version: 1 }, { subject: 'ident-value', version: 1 }]);
  // Lookup (POST /subjects/{s}) by canonical form.
  const l = await reg('POST', '/subjects/ident-value', { schema: again });
  assert.deepEqual(l.json, { subject: 'ident-value', version: 1, id, schema: text });
  assert.deepEqual((await reg('GET', '/schemas/types')).json, ['AVRO']);
  assert.deepEqual((await reg('GET', '/subjects/ident-value/versions/1/referencedby')).json, []);
  assertError(await reg('GET', '/subjects/ident-value/versions/2/referencedby'), 404, 40402);
});

test('every accepted content type works; others get 415 in Confluent\'s shape', async () => {
  const s = JSON.stringify('string');
  for (const ct of [CT, 'application/vnd.schemaregistry+json', 'application/json', 'application/json; charset=utf-8']) {
    const r2 = await reg('POST', '/subjects/ct-value/versions', { schema: s }, ct);
    assert.equal(r2.status, 200, `${ct}: ${r2.text}`);
  }
  assertError(await reg('POST', '/subjects/ct-value/versions', { schema: s }, 'text/plain'), 415, 415);
  assertError(await reg('POST', '/subjects/ct-value/versions', '{"schema": ', CT), 400, 400);
  assertError(await reg('GET', '/no/such/route'), 404, 404);
  assertError(await reg('PATCH', '/subjects'), 405, 405);
  assertError(await reg('POST', '/subjects/ct-value/versions', { schema: 'x'.repeat(1536 * 1024) }), 413, 413);
});

test('invalid schemas, versions, ids and subjects give 422xx/404xx codes', async () => {
  assertError(await register('bad-value', '{"type": "record", "name": "R"}'), 422, 42201);
  assertError(await register('bad-value', '{not json'), 422, 42201);
  assertError(await reg('POST', '/subjects/bad-value/versions', {}), 422, 42201);
  assertError(await reg('POST', '/subjects/bad-value/versions', { schema: 12 }), 422, 42201);
  assertError(await reg('POST', '/subjects/bad-value/versions', [1, 2]), 422, 42201);
  const proto = await register('bad-value', 'syntax = "proto3";', { schemaType: 'PROTOBUF' });
  assertError(proto, 422, 42201);
  assert.match(proto.json.message, /PROTOBUF is not supported/);
  assertError(await register('bad-value', '{"type":"object"}', { schemaType: 'JSON' }), 422, 42201);
  const refs = await register('bad-value', '"string"', { references: [{ name: 'x', subject: 'y', version: 1 }] });
  assertError(refs, 422, 42201);
  assert.match(refs.json.message, /references are not supported/);
  // Nothing was stored by any of those.
  assertError(await reg('GET', '/subjects/bad-value/versions'), 404, 40401);

  assert.equal((await register('ver-value', '"int"')).status, 200);
  for (const v of ['0', 'abc', '2147483648', '-2', '1.5']) {
    assertError(await reg('GET', `/subjects/ver-value/versions/${v}`), 422, 42202);
    assertError(await reg('DELETE', `/subjects/ver-value/versions/${v}`), 422, 42202);
  }
  assertError(await reg('GET', '/subjects/ver-value/versions/9'), 404, 40402);
  assert.equal((await reg('GET', '/subjects/ver-value/versions/-1')).json.version, 1);
  assertError(await reg('GET', '/subjects/no-such-subject/versions'), 404, 40401);
  assertError(await reg('GET', '/subjects/no-such-subject/versions/latest'), 404, 40401);
  assertError(await reg('POST', '/subjects/no-such-subject', { schema: '"int"' }), 404, 40401);
  assertError(await reg('POST', '/subjects/ver-value', { schema: '"long"' }), 404, 40403);
  assertError(await reg('GET', '/schemas/ids/999999'), 404, 40403);
  assertError(await reg('GET', '/schemas/ids/abc'), 404, 40403);
  assertError(await reg('GET', '/schemas/ids/0/schema'), 404, 40403);
  assertError(await reg('GET', '/schemas/ids/999999/subjects'), 404, 40403);
  assertError(await reg('GET', '/schemas/ids/999999/versions'), 404, 40403);
  assertError(await reg('GET', '/subjects/bad%01subject/versions'), 422, 42208);
  assertError(await register('s'.repeat(300), '"int"'), 422, 42208);
});

test('compatibility: 409 names the subject and rule; the check endpoint explains with verbose', async () => {
  const v1 = record('Order', [{ name: 'id', type: 'long' }]);
  const needsDefault = record('Order', [{ name: 'id', type: 'long' }, { name: 'qty', type: 'int' }]);
  const withDefault = record('Order', [{ name: 'id', type: 'long' }, { name: 'qty', type: 'int', default: 1 }]);
  const id1 = (await register('compat-value', v1)).json.id;
  const bad = await register('compat-value', needsDefault);
  assertError(bad, 409, 409);
  assert.match(bad.json.message, /compat-value/);
  assert.match(bad.json.message, /READER_FIELD_MISSING_DEFAULT_VALUE/);
  assert.match(bad.json.message, /BACKWARD/);

  const c1 = await reg('POST', '/compatibility/subjects/compat-value/versions/latest', { schema: needsDefault });
  assert.deepEqual(c1.json, { is_compatible: false });
  const c2 = await reg('POST', '/compatibility/subjects/compat-value/versions/latest?verbose=true', { schema: needsDefault });
  assert.equal(c2.json.is_compatible, false);
  assert.ok(c2.json.messages.some((m) => m.includes("errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'") && m.includes('qty')), c2.text);
  assert.ok(c2.json.messages.some((m) => m.includes("compatibility: 'BACKWARD'")));
  assert.deepEqual((await reg('POST', '/compatibility/subjects/compat-value/versions/1?verbose=true', { schema: withDefault })).json,
    { is_compatible: true, messages: [] });
  assert.deepEqual((await reg('POST', '/compatibility/subjects/compat-value/versions', { schema: withDefault })).json, { is_compatible: true });
  assertError(await reg('POST', '/compatibility/subjects/compat-value/versions/7', { schema: withDefault }), 404, 40402);
  assertError(await reg('POST', '/compatibility/subjects/compat-value/versions/x', { schema: withDefault }), 422, 42202);
  assertError(await reg('POST', '/compatibility/subjects/nothing-here/versions/1', { schema: withDefault }), 404, 40401);
  assertError(await reg('POST', '/compatibility/subjects/compat-value/versions/latest', { schema: '{' }), 422, 42201);
  // Nothing registered yet: anything is compatible with "latest".
  assert.deepEqual((await reg('POST', '/compatibility/subjects/nothing-here/versions/latest', { schema: v1 })).json, { is_compatible: true });

  const r2 = await register('compat-value', withDefault);
  assert.equal(r2.status, 200);
  assert.notEqual(r2.json.id, id1);
  assert.deepEqual((await reg('GET', '/subjects/compat-value/versions')).json, [1, 2]);

  // needsDefault differs from withDefault only by a default: the same
  // canonical form, so it is version 2 again, not a new version.
  assert.deepEqual((await register('compat-value', needsDefault)).json, { id: r2.json.id });
  // Per-subject NONE lets an incompatible one in as version 3.
  const note = record('Order', [{ name: 'note', type: 'string' }]);
  assertError(await register('compat-value', note), 409, 409);
  assert.deepEqual((await reg('PUT', '/config/compat-value', { compatibility: 'none' })).json, { compatibility: 'NONE' });
  assert.equal((await register('compat-value', note)).status, 200);
  assert.deepEqual((await reg('GET', '/subjects/compat-value/versions')).json, [1, 2, 3]);
});

test('transitive levels check every earlier version, non-transitive only the latest', async () => {
  const v1 = record('T', [{ name: 'a', type: 'int' }]);
  const v2 = record('T', []);
  const v3 = record('T', [{ name: 'a', type: 'string', default: 'x' }]);
  for (const [subject, level, expected] of [['trans-b', 'BACKWARD', 200], ['trans-bt', 'BACKWARD_TRANSITIVE', 409]]) {
    assert.equal((await reg('PUT', `/config/${subject}`, { compatibility: level })).status, 200);
    assert.equal((await register(subject, v1)).status, 200);
    assert.equal((await register(subject, v2)).status, 200);
    const r = await register(subject, v3);
    assert.equal(r.status, expected, `${level}: ${r.text}`);
    if (expected === 409) assert.match(r.json.message, /version 1/);
  }
});

test('config: global and per-subject levels, 42203, 40408, defaultToGlobal, delete', async () => {
  assert.deepEqual((await reg('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
  assertError(await reg('PUT', '/config', { compatibility: 'SIDEWAYS' }), 422, 42203);
  assertError(await reg('PUT', '/config', {}), 422, 42203);
  assertError(await reg('PUT', '/config/cfg-value', { compatibility: 7 }), 422, 42203);
  assertError(await reg('GET', '/config/cfg-value'), 404, 40408);
  assert.deepEqual((await reg('GET', '/config/cfg-value?defaultToGlobal=true')).json, { compatibilityLevel: 'BACKWARD' });
  assert.deepEqual((await reg('PUT', '/config/cfg-value', { compatibility: 'FORWARD_TRANSITIVE' })).json, { compatibility: 'FORWARD_TRANSITIVE' });
  assert.deepEqual((await reg('GET', '/config/cfg-value')).json, { compatibilityLevel: 'FORWARD_TRANSITIVE' });
  // Deleting a subject's level needs the subject to exist.
  assertError(await reg('DELETE', '/config/cfg-value'), 404, 40401);
  assert.equal((await register('cfg-value', '"int"')).status, 200);
  assert.deepEqual((await reg('DELETE', '/config/cfg-value')).json, { compatibilityLevel: 'FORWARD_TRANSITIVE' });
  assertError(await reg('GET', '/config/cfg-value'), 404, 40408);

  assert.deepEqual((await reg('PUT', '/config', { compatibility: 'FULL' })).json, { compatibility: 'FULL' });
  assert.deepEqual((await reg('GET', '/config')).json, { compatibilityLevel: 'FULL' });
  assert.deepEqual((await reg('GET', '/config/cfg-value?defaultToGlobal=true')).json, { compatibilityLevel: 'FULL' });
  assert.deepEqual((await reg('DELETE', '/config')).json, { compatibilityLevel: 'FULL' });
  assert.deepEqual((await reg('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
});

test('soft and permanent deletes follow Confluent: 40404, 40405, 40406, 40407; ids never reused', async () => {
  const s = 'del-value';
  const a = record('D', [{ name: 'a', type: 'int' }]);
  const b = record('D', [{ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 }]);
  const idA = (await register(s, a)).json.id;
  const idB = (await register(s, b)).json.id;

  assertError(await reg('DELETE', `/subjects/${s}/versions/2?permanent=true`), 404, 40407);
  assert.deepEqual((await reg('DELETE', `/subjects/${s}/versions/2`)).json, 2);
  assertError(await reg('DELETE', `/subjects/${s}/versions/2`), 404, 40406);
  assert.deepEqual((await reg('GET', `/subjects/${s}/versions`)).json, [1]);
  assert.deepEqual((await reg('GET', `/subjects/${s}/versions?deleted=true`)).json, [1, 2]);
  assertError(await reg('GET', `/subjects/${s}/versions/2`), 404, 40402);
  assert.equal((await reg('GET', `/subjects/${s}/versions/2?deleted=true`)).json.id, idB);
  assertError(await reg('POST', `/subjects/${s}`, { schema: b }), 404, 40403);
  assert.equal((await reg('POST', `/subjects/${s}?deleted=true`, { schema: b })).json.version, 2);
  // A soft-deleted version's schema still decodes old records.
  assert.equal((await reg('GET', `/schemas/ids/${idB}`)).status, 200);
  assert.deepEqual((await reg('DELETE', `/subjects/${s}/versions/2?permanent=true`)).json, 2);
  assertError(await reg('DELETE', `/subjects/${s}/versions/2?permanent=true`), 404, 40402);
  // Nothing uses idB any more: gone, as in Confluent.
  assertError(await reg('GET', `/schemas/ids/${idB}`), 404, 40403);

  assertError(await reg('DELETE', `/subjects/${s}?permanent=true`), 404, 40405);
  assert.deepEqual((await reg('DELETE', `/subjects/${s}`)).json, [1]);
  assertError(await reg('DELETE', `/subjects/${s}`), 404, 40404);
  assert.ok(!(await reg('GET', '/subjects')).json.includes(s));
  assert.ok((await reg('GET', '/subjects?deleted=true')).json.includes(s));
  assertError(await reg('GET', `/subjects/${s}/versions`), 404, 40401);
  assert.deepEqual((await reg('DELETE', `/subjects/${s}?permanent=true`)).json, [1]);
  assertError(await reg('DELETE', `/subjects/${s}`), 404, 40401);
  assertError(await reg('DELETE', `/subjects/${s}/versions/1`), 404, 40401);
  assert.ok(!(await reg('GET', '/subjects?deleted=true')).json.includes(s));

  // The same schema again: its id is stable; a new schema gets a fresh id.
  assert.deepEqual((await register(s, a)).json, { id: idA });
  assert.deepEqual((await reg('GET', `/subjects/${s}/versions`)).json, [1]);
  const idC = (await register('del-fresh', '"bytes"')).json.id;
  assert.ok(idC > idB, `new id ${idC} must be above every earlier id (${idB})`);
});

test('before migrations the registry answers 50001 saying it is starting', async () => {
  // A second server whose database does not exist yet cannot migrate.
  const early = await startServer({ pgDsn: `${baseDsnNoDb()} dbname=registry_never_created` });
  try {
    const url = `http://${early.logs.find((l) => l.msg?.startsWith('lakestreamd started')).listeners.registry}`;
    const r = await fetch(`${url}/subjects`);
    const body = await r.json();
    assert.equal(r.status, 500);
    assert.equal(body.error_code, 50001);
    assert.match(body.message, /starting|unavailable/);
  } finally {
    assert.equal((await early.stop()).code, 0);
  }
});

test('the registry listener is its own port and /api/v1/status names it', async () => {
  const status = await request(server, 'GET', '/api/v1/status');
  assert.equal(`http://${status.json.listeners.registry}`, base);
  assert.notEqual(status.json.listeners.registry, status.json.listeners.http);
  // The main listener does not serve registry routes, nor the registry the API.
  assert.equal((await request(server, 'GET', '/subjects')).status, 404);
  assertError(await reg('GET', '/api/v1/topics'), 404, 404);
  assert.deepEqual((await reg('GET', '/')).json, {});
});

test('a topic\'s value_subject must be a live registry subject', async () => {
  const body = { name: 'orders-topic', value_subject: 'orders-topic-value' };
  const r0 = await request(server, 'POST', '/api/v1/topics', body);
  assert.equal(r0.status, 412, r0.text);
  assert.equal(r0.json.error.code, 'failed_precondition');
  assert.match(r0.json.error.message, /orders-topic-value/);
  assert.equal((await register('orders-topic-value', '"string"')).status, 200);
  assert.equal((await reg('DELETE', '/subjects/orders-topic-value')).status, 200);
  assert.equal((await request(server, 'POST', '/api/v1/topics', body)).status, 412, 'soft-deleted subject');
  assert.equal((await register('orders-topic-value', '"string"')).status, 200);
  assert.equal((await request(server, 'POST', '/api/v1/topics', body)).status, 201);
});

// Last: it changes the global mode.
test('modes: READONLY rejects writes with 42205; IMPORT keeps given ids and needs an empty registry or force', async () => {
  assert.deepEqual((await reg('GET', '/mode')).json, { mode: 'READWRITE' });
  assertError(await reg('PUT', '/mode', { mode: 'SOMETIMES' }), 422, 42204);
  assertError(await register('mode-value', '"int"', { id: 900 }), 422, 42205);
  assert.equal((await register('mode-value', '"int"')).status, 200);

  assert.deepEqual((await reg('PUT', '/mode', { mode: 'READONLY' })).json, { mode: 'READONLY' });
  assertError(await register('mode-value', '"long"'), 422, 42205);
  assertError(await reg('DELETE', '/subjects/mode-value'), 422, 42205);
  assertError(await reg('DELETE', '/subjects/mode-value/versions/1'), 422, 42205);
  assert.deepEqual((await reg('GET', '/subjects/mode-value/versions')).json, [1]);

  assertError(await reg('PUT', '/mode', { mode: 'IMPORT' }), 422, 42205);
  assert.deepEqual((await reg('PUT', '/mode?force=true', { mode: 'import' })).json, { mode: 'IMPORT' });
  const imported = await register('imported-value', record('Imp', [{ name: 'x', type: 'int' }]), { id: 5000, version: 7 });
  assert.deepEqual(imported.json, { id: 5000 });
  assert.deepEqual((await reg('GET', '/subjects/imported-value/versions')).json, [7]);
  // The id belongs to that schema now.
  assertError(await register('imported-other', '"float"', { id: 5000 }), 422, 42205);
  // Compatibility is not checked while importing.
  assert.equal((await register('imported-value', record('Imp', [{ name: 'y', type: 'string' }]), { id: 5001, version: 8 })).status, 200);

  assert.deepEqual((await reg('PUT', '/mode', { mode: 'READWRITE' })).json, { mode: 'READWRITE' });
  const next = await register('after-import', '"double"');
  assert.ok(next.json.id > 5001, `ids continue after imported ones, got ${next.json.id}`);
});
