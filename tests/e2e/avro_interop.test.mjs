// Independent-client check of lakestream's Avro runtime against npm avsc (a
// dependency of @kafkajs/confluent-schema-registry): records avsc encodes are
// decoded by our C decoder (tests/tools/avro_tool) to the same values, records
// we encode are decoded by avsc to the same values, schema resolution agrees,
// and container files cross in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(process.env.LS_SOURCE_DIR + '/tests/e2e/package.json');
const avro = require('avsc');

const src = process.env.LS_SOURCE_DIR;
const tool = path.join(process.env.LS_BUILD_DIR, 'tests', 'avro_tool');
const schemaPath = (name) => path.join(src, 'schemas', 'avro', name);
const loadType = (name) => avro.Type.forSchema(JSON.parse(readFileSync(schemaPath(name), 'utf8')));

function run(args, input) {
  const r = spawnSync(tool, args, { input, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  assert.equal(r.status, 0, `avro_tool ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0);
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

// avsc.random() draws doubles even for float fields; one trip through avsc's
// own codec gives the values as they are actually stored.
function randomValues(type, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(type.fromBuffer(type.toBuffer(type.random())));
  return out;
}

for (const name of ['vqe_decorated_result.avsc', 'alert.avsc', 'order.avsc']) {
  test(`records avsc encodes with ${name} decode to the same values in C`, () => {
    const type = loadType(name);
    const values = randomValues(type, 40);
    const hex = values.map((v) => type.toBuffer(v).toString('hex')).join('\n') + '\n';
    const decoded = run(['decode', schemaPath(name)], hex).map((l) => JSON.parse(l));
    assert.equal(decoded.length, values.length);
    for (let i = 0; i < values.length; i++) assert.deepEqual(decoded[i], norm(values[i]));
  });

  test(`records our encoder writes with ${name} decode to the same values in avsc`, () => {
    const type = loadType(name);
    const lines = run(['sample', schemaPath(name), '40', '7']);
    assert.equal(lines.length, 40);
    for (const line of lines) {
      const [json, hex] = line.split('\t');
      const value = type.fromBuffer(Buffer.from(hex, 'hex')); // throws on trailing or missing bytes
      assert.deepEqual(norm(value), JSON.parse(json));
      // and byte-identical to avsc's own encoding of the same value
      assert.equal(type.toBuffer(value).toString('hex'), hex);
    }
  });
}

test('v1 VQE records resolve to the v2 reader schema like avsc resolves them', () => {
  const v1 = loadType('vqe_decorated_result.avsc');
  const v2 = loadType('vqe_decorated_result.v2.avsc');
  const resolver = v2.createResolver(v1);
  const values = randomValues(v1, 20);
  const hex = values.map((v) => v1.toBuffer(v).toString('hex')).join('\n') + '\n';
  const ours = run(['decode', schemaPath('vqe_decorated_result.avsc'), schemaPath('vqe_decorated_result.v2.avsc')], hex).map(
    (l) => JSON.parse(l),
  );
  for (let i = 0; i < values.length; i++) {
    const theirs = norm(v2.fromBuffer(v1.toBuffer(values[i]), resolver));
    assert.deepEqual(ours[i], theirs);
    assert.equal(ours[i].simulator_version, 'unknown');
    assert.equal(ours[i].experiment_id, null);
  }
});

test('compiled extraction of alert fields matches avsc-decoded alerts', () => {
  const type = loadType('alert.avsc');
  const values = randomValues(type, 30);
  const hex = values.map((v) => type.toBuffer(v).toString('hex')).join('\n') + '\n';
  const paths = ['objectId', 'candid', 'candidate.ra', 'candidate.dec', 'candidate.magpsf', 'candidate.ssnamenr', 'candidate.ndethist', 'cutoutScience.fileName'];
  const rows = run(['extract', schemaPath('alert.avsc'), ...paths], hex).map((l) => JSON.parse(l));
  assert.equal(rows.length, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const expect = [v.objectId, v.candid, v.candidate.ra, v.candidate.dec, v.candidate.magpsf, v.candidate.ssnamenr,
      v.candidate.ndethist, v.cutoutScience === null ? null : v.cutoutScience.fileName];
    assert.deepEqual(rows[i], expect);
  }
});

test('container files cross between avsc and lakestream in both directions', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'avro-interop-'));
  try {
    for (const codec of ['null', 'deflate']) {
      // ours -> avsc
      const file = path.join(dir, `ours-${codec}.avro`);
      const written = run(['container-write', schemaPath('vqe_decorated_result.avsc'), codec, file, '300', '11']).map((l) =>
        JSON.parse(l),
      );
      const header = avro.extractFileHeader(file, { decode: false });
      assert.equal(header.meta['avro.codec'].toString(), codec);
      // the original schema text, docs included, is what the file carries
      assert.equal(header.meta['avro.schema'].toString(), readFileSync(schemaPath('vqe_decorated_result.avsc'), 'utf8'));
      const read = await new Promise((resolve, reject) => {
        const out = [];
        avro.createFileDecoder(file).on('data', (r) => out.push(norm(r))).on('end', () => resolve(out)).on('error', reject);
      });
      assert.equal(read.length, 300);
      assert.deepEqual(read, written);

      // avsc -> ours
      const type = loadType('alert.avsc');
      const values = randomValues(type, 50);
      const theirs = path.join(dir, `avsc-${codec}.avro`);
      await new Promise((resolve, reject) => {
        const enc = avro.createFileEncoder(theirs, type, { codec, blockSize: 8192 });
        enc.on('finish', resolve).on('error', reject);
        for (const v of values) enc.write(v);
        enc.end();
      });
      // createFileEncoder's 'finish' precedes the file stream's close; wait for the bytes.
      const deadline = Date.now() + 5000;
      let ours = [];
      for (;;) {
        const r = spawnSync(tool, ['container-read', theirs], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
        if (r.status === 0) {
          ours = r.stdout.split('\n').filter((l) => l).map((l) => JSON.parse(l));
          if (ours.length === values.length) break;
        }
        assert.ok(Date.now() < deadline, `container-read never saw all records: ${r.stderr}`);
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.deepEqual(ours, values.map(norm));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
