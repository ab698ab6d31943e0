// An independent client (kafkajs) against lakestream's embedded broker
// (librdkafka's mock cluster, run by tests/tools/kafka_embedded_tool): it must
// see the topic with the right partition count, consume what our producer
// wrote, and produce + consume its own records through a consumer group.
//
// What kafkajs 2.2.4 can and cannot do against librdkafka 2.0.2's mock
// (probed by hand, so other tests know what to avoid):
// - works: metadata, fetchTopicOffsets, fetchOffsets, plain producers,
//   consumer groups with commits, headers.
// - fails: admin.createTopics / deleteTopics and idempotent or transactional
//   producers all throw KafkaJSBrokerNotFound "Broker 0 not found in the
//   cached metadata": the mock advertises controller id 0 while its brokers
//   are numbered from 1 (and it implements neither CreateTopics nor
//   DeleteTopics anyway). Create topics through lakestream instead.
// - fails: admin.listGroups (the mock has no ListGroups API).
// - surprise: producer.send to an unknown topic auto-creates it with the
//   mock's default partition count (4) unless allowAutoTopicCreation: false.
// - timing: the first join of an empty group waits 3 s; any later membership
//   change waits sessionTimeout - 1 s, so use a short sessionTimeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(process.env.LS_SOURCE_DIR + '/tests/e2e/package.json');
const { Kafka, logLevel } = require('kafkajs');

const TOOL = `${process.env.LS_BUILD_DIR}/tests/kafka_embedded_tool`;

function startTool(topic, partitions, produce) {
  const child = spawn(TOOL, [topic, String(partitions), String(produce)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const info = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tool did not report its bootstrap in 10 s')), 10000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`tool exited early with ${code}`)));
  });
  return { child, info, exited };
}

async function waitFor(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('kafkajs sees, consumes and produces on the embedded broker', async () => {
  const K = 7; // records written by our own producer inside the tool
  const N = 25; // records written by kafkajs
  const tool = startTool('mock_js', 3, K);
  const info = await tool.info;
  assert.match(info.bootstrap, /^[\w.-]+:\d+$/);
  assert.equal(info.produced, K);

  const kafka = new Kafka({ clientId: 'e2e', brokers: [info.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  // The mock coordinator waits session.timeout.ms - 1 s before rebalancing a
  // group whose membership changes, so keep it short (see the report).
  const consumer = kafka.consumer({ groupId: 'e2e-group', sessionTimeout: 6000, heartbeatInterval: 1000 });
  try {
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['mock_js'] });
    assert.equal(md.topics.length, 1);
    assert.equal(md.topics[0].name, 'mock_js');
    assert.equal(md.topics[0].partitions.length, 3);
    const offsets = await admin.fetchTopicOffsets('mock_js');
    assert.equal(offsets.reduce((s, p) => s + Number(p.high), 0), K);

    await producer.connect();
    const sent = await producer.send({
      topic: 'mock_js',
      messages: Array.from({ length: N }, (_, i) => ({ key: `js-${i}`, value: `js-value-${i}` })),
    });
    assert.ok(sent.every((r) => r.errorCode === 0));

    const seen = new Map();
    await consumer.connect();
    await consumer.subscribe({ topic: 'mock_js', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key.toString();
        seen.set(key, {
          partition,
          value: message.value.toString(),
          origin: message.headers?.origin?.toString(),
        });
      },
    });
    await waitFor(() => seen.size >= K + N, 15000, `${K + N} records (have ${seen.size})`);
    for (let i = 0; i < K; i++) {
      const r = seen.get(`tool-${i}`);
      assert.ok(r, `tool-${i} consumed`);
      assert.equal(r.value, `value-${i}`);
      assert.equal(r.origin, 'tool');
    }
    for (let i = 0; i < N; i++) assert.equal(seen.get(`js-${i}`)?.value, `js-value-${i}`);
    assert.equal(seen.size, K + N);
    // records spread over the three partitions
    assert.ok(new Set([...seen.values()].map((r) => r.partition)).size > 1);
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    tool.child.stdin.end();
  }
  const { code } = await tool.exited;
  assert.equal(code, 0, 'tool shut down cleanly');
});
