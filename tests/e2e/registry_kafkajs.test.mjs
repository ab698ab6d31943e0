// An independent schema registry client (@kafkajs/confluent-schema-registry)
// against lakestreamd's registry listener: it registers the VQE schema,
// fetches it back, and encodes records with Confluent framing that the
// server's own decode-by-id path (tests/tools/registry_decode, which uses
// ls_registry_schema_get against the server's database) decodes to the same
// values; records our encoder frames are decoded by the JS client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, waitReady, requireClient } from '../integration/lib/harness.mjs';

const { SchemaRegistry, SchemaType } = requireClient('@kafkajs/confluent-schema-registry');
const avro = requireClient('avsc');

const src = process.env.LS_SOURCE_DIR;
const tool = path.join(process.env.LS_BUILD_DIR, 'tests', 'registry_decode');
const schemaText = (name) => readFileSync(path.join(src, 'schemas', 'avro', name), 'utf8');
const SUBJECT = 'vqe-results-value';

let server;
let registryUrl;
before(async () => {
  server = await startServer();
  await waitReady(server);
  registryUrl = `http://${server.logs.find((l) => l.msg?.startsWith('lakestreamd started')).listeners.registry}`;
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

function runTool(args, input) {
  const r = spawnSync(tool, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `registry_decode ${args[0]} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => (l.startsWith('{') ? JSON.parse(l) : l));
}

// avsc values -> our JSON mapping (bytes as code points 0-255, plain objects).
function norm(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(norm);
  const o = {};
  for (const k of Object.keys(v)) o[k] = norm(v[k]);
  return o;
}

// avsc.random() draws doubles for float fields; one trip through avsc
// gives the values as actually stored.
function randomValues(type, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(type.fromBuffer(type.toBuffer(type.random())));
  return out;
}

test('the JS client registers and fetches the VQE schema; its framed records decode in C', async () => {
  const client = new SchemaRegistry({ host: registryUrl });
  const text = schemaText('vqe_decorated_result.avsc');
  const { id } = await client.register({ type: SchemaType.AVRO, schema: text }, { subject: SUBJECT });
  assert.ok(Number.isInteger(id) && id > 0);
  // Registering it again is the same schema: same id.
  assert.equal((await client.register({ type: SchemaType.AVRO, schema: text }, { subject: SUBJECT })).id, id);
  assert.equal(await client.getLatestSchemaId(SUBJECT), id);

  // A second client has no cache: it fetches the schema from the server,
  // which hands back the original text (docs and defaults included).
  const fresh = new SchemaRegistry({ host: registryUrl });
  const fetched = await fresh.getSchema(id);
  assert.equal(fetched.name, 'quantum_pipeline.VQEDecoratedResult');
  const raw = await (await fetch(`${registryUrl}/schemas/ids/${id}`)).json();
  assert.equal(raw.schema, text);

  const type = avro.Type.forSchema(JSON.parse(text));
  const values = randomValues(type, 25);
  const frames = [];
  for (const v of values) frames.push(await client.encode(id, v));
  for (const f of frames) {
    assert.equal(f[0], 0);
    assert.equal(f.readInt32BE(1), id);
  }
  const decoded = runTool(['decode', server.pgDsn], frames.map((f) => f.toString('hex')).join('\n') + '\n');
  assert.equal(decoded.length, values.length);
  for (let i = 0; i < values.length; i++) assert.deepEqual(decoded[i], norm(values[i]));
});

test('records framed by our encoder decode to the same values in the JS client', async () => {
  const client = new SchemaRegistry({ host: registryUrl });
  const text = schemaText('vqe_decorated_result.avsc');
  const { id } = await client.register({ type: SchemaType.AVRO, schema: text }, { subject: SUBJECT });
  const type = avro.Type.forSchema(JSON.parse(text));
  const values = randomValues(type, 25).map(norm);
  const hex = runTool(['encode', server.pgDsn, String(id)], values.map((v) => JSON.stringify(v)).join('\n') + '\n');
  assert.equal(hex.length, values.length);
  const reader = new SchemaRegistry({ host: registryUrl });
  for (let i = 0; i < values.length; i++) {
    assert.equal(typeof hex[i], 'string', JSON.stringify(hex[i]));
    const decoded = await reader.decode(Buffer.from(hex[i], 'hex'));
    assert.deepEqual(norm(decoded), values[i]);
  }
});

test('the evolved VQE schema registers as version 2; old frames still decode by their id', async () => {
  const client = new SchemaRegistry({ host: registryUrl });
  const v1 = await client.register({ type: SchemaType.AVRO, schema: schemaText('vqe_decorated_result.avsc') }, { subject: SUBJECT });
  const v2 = await client.register({ type: SchemaType.AVRO, schema: schemaText('vqe_decorated_result.v2.avsc') }, { subject: SUBJECT });
  assert.notEqual(v2.id, v1.id);
  assert.equal(await client.getRegistryId(SUBJECT, 2), v2.id);
  assert.equal(await client.getRegistryId(SUBJECT, 1), v1.id);

  const type2 = avro.Type.forSchema(JSON.parse(schemaText('vqe_decorated_result.v2.avsc')));
  const [value] = randomValues(type2, 1);
  const f1 = await client.encode(v1.id, randomValues(avro.Type.forSchema(JSON.parse(schemaText('vqe_decorated_result.avsc'))), 1)[0]);
  const f2 = await client.encode(v2.id, value);
  const out = runTool(['decode', server.pgDsn], `${f1.toString('hex')}\n${f2.toString('hex')}\n`);
  assert.equal(out.length, 2);
  assert.ok(!('experiment_id' in out[0]), 'v1 record has no v2 field');
  assert.deepEqual(out[1], norm(value));
});

test('bad frames give an error line each and never crash the decoder', async () => {
  const client = new SchemaRegistry({ host: registryUrl });
  const { id } = await client.register({ type: SchemaType.AVRO, schema: schemaText('vqe_decorated_result.avsc') }, { subject: SUBJECT });
  const type = avro.Type.forSchema(JSON.parse(schemaText('vqe_decorated_result.avsc')));
  const good = await client.encode(id, randomValues(type, 1)[0]);
  const badMagic = Buffer.from(good); badMagic[0] = 1;
  const unknownId = Buffer.from(good); unknownId.writeInt32BE(999999, 1);
  const truncated = good.subarray(0, good.length - 3);
  const trailing = Buffer.concat([good, Buffer.from([0, 0])]);
  const lines = [badMagic, unknownId, truncated, trailing, good.subarray(0, 3), good].map((b) => b.toString('hex'));
  const out = runTool(['decode', server.pgDsn], lines.join('\n') + '\n');
  assert.equal(out.length, 6);
  assert.match(out[0].error, /magic/i);
  assert.match(out[1].error, /999999 not found/);
  assert.ok(out[2].error, 'truncated body is an error');
  assert.ok(out[3].error, 'trailing bytes are an error');
  assert.ok(out[4].error, 'a 3-byte frame is an error');
  assert.equal(out[5].error, undefined);
  assert.ok(out[5].vqe_result);
});
