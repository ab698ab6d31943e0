// An independent Kafka client (kafkajs) against lakestreamd's embedded
// broker: a topic created through the REST API is visible with the
// requested partition count, and records produced and consumed by kafkajs
// show up in the API's per-partition offsets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitReady, request, requireClient, waitFor } from '../integration/lib/harness.mjs';

const { Kafka, logLevel } = requireClient('kafkajs');

let server;
let kafka;
before(async () => {
  server = await startServer();
  await waitReady(server);
  const status = await request(server, 'GET', '/api/v1/status');
  kafka = new Kafka({ clientId: 'e2e', brokers: status.json.kafka.bootstrap.split(','), logLevel: logLevel.NOTHING });
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0);
});

test('kafkajs sees an API-created topic and round-trips records through it', async () => {
  const c = await request(server, 'POST', '/api/v1/topics', { name: 'e2e-orders', partitions: 4 });
  assert.equal(c.status, 201, c.text);

  const admin = kafka.admin();
  await admin.connect();
  const meta = await waitFor('topic metadata', async () => {
    const m = await admin.fetchTopicMetadata({ topics: ['e2e-orders'] });
    return m.topics[0].partitions.length === 4 ? m : null;
  });
  assert.deepEqual(meta.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3]);
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  const N = 200;
  const messages = [];
  for (let i = 0; i < N; i++) messages.push({ key: `k${i % 17}`, value: JSON.stringify({ order_id: i }), partition: i % 4 });
  await producer.send({ topic: 'e2e-orders', messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'e2e-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'e2e-orders', fromBeginning: true });
  const seen = new Set();
  await consumer.run({ eachMessage: async ({ message }) => { seen.add(JSON.parse(message.value.toString()).order_id); } });
  await waitFor(`${N} records consumed`, () => seen.size === N, 30000);
  await consumer.disconnect();
  assert.equal(seen.size, N);

  const g = await request(server, 'GET', '/api/v1/topics/e2e-orders');
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.messages, N);
  assert.deepEqual(g.json.partition_offsets.map((p) => p.high), [N / 4, N / 4, N / 4, N / 4]);
});
