// An independent client in another language: confluent_kafka's
// SchemaRegistryClient (Debian python3-confluent-kafka, run with
// /usr/bin/python3 as the Debian package installs it) registers, looks up,
// lists versions, tests compatibility and deletes against lakestreamd's
// registry, and gets the answers Confluent's registry would give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, waitReady } from '../integration/lib/harness.mjs';

const src = process.env.LS_SOURCE_DIR;
const avsc = (name) => path.join(src, 'schemas', 'avro', name);

test('the Python SchemaRegistryClient gets Confluent answers from lakestreamd', async () => {
  const server = await startServer();
  try {
    await waitReady(server);
    const registry = `http://${server.logs.find((l) => l.msg?.startsWith('lakestreamd started')).listeners.registry}`;
    // The same schema registered first by another client under another
    // subject: ids are global, so Python must get this id back.
    const pre = await fetch(`${registry}/subjects/other-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: readFileSync(avsc('vqe_decorated_result.avsc'), 'utf8') }),
    });
    assert.equal(pre.status, 200);
    const preId = (await pre.json()).id;

    const r = spawnSync('/usr/bin/python3',
      [path.join(src, 'tests', 'e2e', 'registry_client.py'), registry,
        avsc('vqe_decorated_result.avsc'), avsc('vqe_decorated_result.v2.avsc')],
      { encoding: 'utf8', timeout: 60000 });
    assert.ok(!/No module named 'requests'/.test(r.stderr ?? ''),
      'python3-confluent-kafka\'s schema registry client needs python3-requests (apt-get install python3-requests)');
    assert.equal(r.status, 0, `python client failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout);

    assert.equal(out.id1, preId);
    assert.equal(out.id1_again, out.id1);
    assert.deepEqual(out.lookup, { id: out.id1, version: 1, subject: 'py-vqe.results-value', same_text: true });
    assert.equal(out.compatible_v2, true);
    assert.equal(out.compatible_bad, false);
    assert.ok(out.id2 > out.id1);
    assert.deepEqual(out.versions, [1, 2]);
    assert.deepEqual(out.latest, { id: out.id2, version: 2, same_text: true });
    assert.deepEqual(out.version1, { id: out.id1, version: 1 });
    assert.deepEqual(out.subjects, ['other-value', 'py-vqe.results-value']);
    assert.equal(out.schema_by_id_same_text, true);
    assert.equal(out.subject_level, 'FULL');
    assert.equal(out.global_level, 'BACKWARD');
    assert.equal(out.register_incompatible.http_status, 409);
    assert.equal(out.register_incompatible.error_code, 409);
    assert.match(out.register_incompatible.message, /py-vqe\.results-value/);
    assert.match(out.register_incompatible.message, /FULL/);
    assert.deepEqual([out.lookup_unknown_subject.http_status, out.lookup_unknown_subject.error_code], [404, 40401]);
    assert.deepEqual([out.lookup_unknown_schema.http_status, out.lookup_unknown_schema.error_code], [404, 40403]);
    assert.deepEqual([out.register_invalid.http_status, out.register_invalid.error_code], [422, 42201]);
    assert.deepEqual([out.register_json.http_status, out.register_json.error_code], [422, 42201]);
    assert.match(out.register_json.message, /JSON is not supported/);
    assert.deepEqual([out.get_version_missing.http_status, out.get_version_missing.error_code], [404, 40402]);
    assert.equal(out.deleted_version, 2);
    assert.deepEqual(out.versions_after_delete, [1]);
    assert.deepEqual(out.deleted_subject, [1]);
    assert.deepEqual([out.versions_after_subject_delete.http_status, out.versions_after_subject_delete.error_code], [404, 40401]);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
