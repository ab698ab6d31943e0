// lakestream-vqe publishes VQE results that independent clients can read:
// kafkajs consumes them from lakestreamd's embedded broker and
// @kafkajs/confluent-schema-registry decodes them against lakestreamd's own
// registry, for both schema versions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { startServer, waitReady, request, requireClient, waitFor } from '../integration/lib/harness.mjs';

const run = promisify(execFile);
const { Kafka, logLevel } = requireClient('kafkajs');
const { SchemaRegistry } = requireClient('@kafkajs/confluent-schema-registry');

let server;
let status;
before(async () => {
  server = await startServer();
  await waitReady(server);
  status = (await request(server, 'GET', '/api/v1/status')).json;
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

async function produce(args) {
  const tool = path.join(process.env.LS_BUILD_DIR, 'lakestream-vqe');
  const { stdout } = await run(tool, ['--bootstrap', status.kafka.bootstrap,
    '--registry', `http://${status.listeners.registry}`, ...args]);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function consumeAll(topic, n) {
  const kafka = new Kafka({ clientId: 'vqe-e2e', brokers: status.kafka.bootstrap.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 6000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages = [];
  await consumer.run({ eachMessage: async ({ message }) => { messages.push(message); } });
  await waitFor(`${n} records on ${topic}`, () => messages.length >= n, 30000);
  await consumer.disconnect();
  return messages;
}

for (const version of [1, 2]) {
  test(`schema v${version}: records decode with the Confluent client to the generated shapes`, async () => {
    const topic = `vqe_decorated_result_v${version}`;
    assert.equal((await request(server, 'POST', '/api/v1/topics', { name: topic, partitions: 3 })).status, 201);
    const summary = await produce(['--schema-version', String(version), '--count', '12', '--seed', '7',
      '--iterations', '25', '--experiment-id', 'exp-1']);
    assert.equal(summary.delivered, 12);
    assert.equal(summary.failed, 0);
    const registry = new SchemaRegistry({ host: `http://${status.listeners.registry}` });
    const messages = await consumeAll(topic, 12);
    assert.equal(messages.length, 12);
    const qubits = { H2: 4, LiH: 12, BeH2: 14, H2O: 14 };
    const ids = new Set();
    for (const m of messages) {
      assert.equal(m.value[0], 0, 'Confluent magic byte');
      assert.equal(m.value.readInt32BE(1), summary.schema_id);
      const r = await registry.decode(m.value);
      ids.add(r.molecule_id);
      const init = r.vqe_result.initial_data;
      const symbols = r.molecule.symbols.join('');
      const name = { HH: 'H2', LiH: 'LiH', BeHH: 'BeH2', OHH: 'H2O' }[symbols];
      assert.ok(name, `unexpected molecule ${symbols}`);
      assert.equal(init.num_qubits, qubits[name]);
      assert.equal(r.vqe_result.iteration_list.length, 25);
      assert.ok(['sto-3g', '6-31g', 'cc-pvdz'].includes(r.basis_set));
      assert.ok(['L-BFGS-B', 'COBYLA', 'SLSQP'].includes(init.optimizer));
      const first = r.vqe_result.iteration_list[0].result;
      assert.ok(r.vqe_result.minimum < first, 'energy falls');
      if (version === 2) {
        assert.equal(r.experiment_id, 'exp-1');
        assert.equal(typeof r.simulator_version, 'string');
      }
    }
    assert.equal(ids.size, 12);
  });
}
