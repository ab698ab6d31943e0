// Helpers shared by the CDC source tests: the reference design's orders
// table, a kafkajs consumer that records every record it sees, and a psql
// session that can hold a transaction open across polls.
import { spawn } from 'node:child_process';
import { dsnFor, psql, requireClient, waitFor } from './lib/harness.mjs';

export const ORDERS_DDL = `
CREATE TABLE orders (
  order_id serial PRIMARY KEY,
  customer_name varchar(100),
  restaurant_name varchar(100),
  item varchar(100),
  amount numeric(10,2),
  order_status varchar(20),
  created_at timestamp NOT NULL DEFAULT now()
)`;

export function createOrders(db) {
  psql(db, ORDERS_DDL);
}

// Collects every record of `topic` from the beginning: {key, value (parsed),
// timestamp (ms), offset}. The mock broker makes a first group join wait 3 s.
export async function collect(bootstrap, topic) {
  const { Kafka, logLevel } = requireClient('kafkajs');
  const kafka = new Kafka({ clientId: 'cdc-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `cdc-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  const records = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({
        key: message.key.toString(),
        value: JSON.parse(message.value.toString()),
        timestamp: Number(message.timestamp),
        offset: Number(message.offset),
      });
    },
  });
  return { records, stop: () => consumer.disconnect().catch(() => {}) };
}

export function keysOf(records) {
  return records.map((r) => r.key);
}

// A psql session whose transaction stays open until commit() is called.
export function openTransaction(db, statements) {
  const child = spawn('psql', [dsnFor(db), '-v', 'ON_ERROR_STOP=1', '-qAt'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdin.write(`BEGIN;\n${statements}\nSELECT 'inserted';\n`);
  return {
    ready: () => waitFor('the open transaction to insert', () => out.includes('inserted'), 10000),
    output: () => out,
    commit: async () => {
      child.stdin.end('COMMIT;\n');
      const code = await exited;
      if (code !== 0) throw new Error(`psql failed: ${out}`);
    },
  };
}
