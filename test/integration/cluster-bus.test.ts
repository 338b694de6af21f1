/**
 * The cluster bus over real Redis: signals raised on one node reach the others' listeners
 * (and not the node's own twice), several signals in one turn travel as one message, and
 * a node that lost Redis re-checks everything once it is back.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { Signals } from '../../src/signals.js';
import { SHARED_REDIS_URL, startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

const logger = pino({ level: 'silent' });

interface Node {
  signals: Signals;
  bus: RedisBus;
  heard: {
    queues: string[];
    due: string[][];
    subs: string[];
    topics: string[];
    breakers: Array<[string, number]>;
    resyncs: number;
  };
}

const open: RedisBus[] = [];
const redises: PrivateRedis[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
  await Promise.all(redises.splice(0).map((r) => r.stop()));
});

async function node(url: string, prefix: string, nodeId: string, delivery = true): Promise<Node> {
  const signals = new Signals();
  const heard: Node['heard'] = { queues: [], due: [], subs: [], topics: [], breakers: [], resyncs: 0 };
  signals.breaker.on((n) => heard.breakers.push([n.origin, n.openMs]));
  signals.queueMessages.on((q) => heard.queues.push(q));
  signals.deliveriesDue.on((ids) => heard.due.push([...ids]));
  signals.subscriptionChanged.on((id) => heard.subs.push(id));
  signals.topicChanged.on((t) => heard.topics.push(t));
  signals.resync.on(() => heard.resyncs++);
  const bus = new RedisBus(signals, { url, prefix, nodeId, delivery, logger });
  open.push(bus);
  await bus.start();
  return { signals, bus, heard };
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('cluster bus (Redis pub/sub)', () => {
  it('carries every kind of signal to the other nodes, once, and not back to the sender', async () => {
    const prefix = uniquePrefix();
    const a = await node(SHARED_REDIS_URL, prefix, 'a', false); // an API node: it relays deliveries too
    const b = await node(SHARED_REDIS_URL, prefix, 'b');
    const c = await node(SHARED_REDIS_URL, prefix, 'c');
    expect(a.bus.healthy() && b.bus.healthy() && c.bus.healthy()).toBe(true);

    a.signals.queueMessages.emit('jobs');
    a.signals.deliveriesDue.emit(['sub-1', 'sub-2']);
    a.signals.subscriptionChanged.emit('sub-3');
    a.signals.topicChanged.emit('orders');

    for (const other of [b, c]) {
      await until(() => other.heard.queues.length > 0 && other.heard.topics.length > 0);
      expect(other.heard.queues).toEqual(['jobs']);
      expect(other.heard.due).toEqual([['sub-1', 'sub-2']]);
      expect(other.heard.subs).toEqual(['sub-3']);
      expect(other.heard.topics).toEqual(['orders']);
    }
    await new Promise((r) => setTimeout(r, 50));
    // The sender heard itself exactly once, locally.
    expect(a.heard.queues).toEqual(['jobs']);
    expect(a.heard.due).toEqual([['sub-1', 'sub-2']]);
    expect(a.bus.stats.received).toBe(0);
  });

  it('sends the signals of one turn as one de-duplicated message', async () => {
    const prefix = uniquePrefix();
    const a = await node(SHARED_REDIS_URL, prefix, 'a', false);
    const b = await node(SHARED_REDIS_URL, prefix, 'b');
    for (let i = 0; i < 1_000; i++) {
      a.signals.queueMessages.emit('jobs');
      a.signals.deliveriesDue.emit(['sub-1']);
    }
    await until(() => b.heard.queues.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.bus.stats.sent).toBe(1);
    expect(b.heard.queues).toEqual(['jobs']);
    expect(b.heard.due).toEqual([['sub-1']]);
  });

  it('keeps due deliveries to itself when it has its own delivery engine', async () => {
    const prefix = uniquePrefix();
    const a = await node(SHARED_REDIS_URL, prefix, 'a'); // delivery engine on board
    const b = await node(SHARED_REDIS_URL, prefix, 'b');
    a.signals.deliveriesDue.emit(['sub-1']);
    a.signals.queueMessages.emit('jobs'); // still relayed: receivers wait on every node
    await until(() => b.heard.queues.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.heard.due).toEqual([['sub-1']]);
    expect(b.heard.due).toEqual([]);
  });

  it('relays breaker news, the latest per endpoint in a turn', async () => {
    const prefix = uniquePrefix();
    const a = await node(SHARED_REDIS_URL, prefix, 'a');
    const b = await node(SHARED_REDIS_URL, prefix, 'b');
    a.signals.breaker.emit({ origin: 'http://127.0.0.1:1', openMs: 5_000 });
    a.signals.breaker.emit({ origin: 'http://127.0.0.1:1', openMs: 0 });
    a.signals.breaker.emit({ origin: 'http://127.0.0.1:2', openMs: 7_000 });
    await until(() => b.heard.breakers.length === 2);
    expect(b.heard.breakers).toEqual([
      ['http://127.0.0.1:1', 0],
      ['http://127.0.0.1:2', 7_000],
    ]);
  });

  it('counts the delivery nodes alive, and forgets one that stopped', async () => {
    const prefix = uniquePrefix();
    await node(SHARED_REDIS_URL, prefix, 'a');
    const b = await node(SHARED_REDIS_URL, prefix, 'b');
    const c = await node(SHARED_REDIS_URL, prefix, 'c');
    expect(c.bus.nodes()).toBe(3);
    await b.bus.stop();
    const d = await node(SHARED_REDIS_URL, prefix, 'd');
    expect(d.bus.nodes()).toBe(3); // a, c, d
  });

  it('keeps clusters with different prefixes apart', async () => {
    const a = await node(SHARED_REDIS_URL, uniquePrefix(), 'a');
    const b = await node(SHARED_REDIS_URL, uniquePrefix(), 'b');
    a.signals.queueMessages.emit('jobs');
    await new Promise((r) => setTimeout(r, 100));
    expect(b.heard.queues).toEqual([]);
  });

  it('runs without Redis, then joins the bus and re-checks when Redis comes (back)', async () => {
    const redis = await startPrivateRedis();
    redises.push(redis);
    const prefix = uniquePrefix();
    const a = await node(redis.url, prefix, 'a');
    const b = await node(redis.url, prefix, 'b');
    expect(b.bus.healthy()).toBe(true);

    await redis.kill();
    await until(() => !a.bus.healthy() && !b.bus.healthy());
    // Signals raised while Redis is away are not queued up for later: polling covers them.
    a.signals.queueMessages.emit('while-down');
    expect(b.heard.resyncs).toBe(0);

    await redis.restart();
    await until(() => a.bus.healthy() && b.bus.healthy(), 10_000);
    // Whatever was said meanwhile is lost, so both nodes re-check everything once.
    await until(() => a.heard.resyncs === 1 && b.heard.resyncs === 1);
    expect(b.heard.queues).not.toContain('while-down');

    a.signals.queueMessages.emit('after');
    await until(() => b.heard.queues.includes('after'));
  });

  it('starts with Redis unreachable and joins once it listens', async () => {
    const redis = await startPrivateRedis();
    redises.push(redis);
    await redis.kill();
    const prefix = uniquePrefix();
    const a = await node(redis.url, prefix, 'a');
    expect(a.bus.healthy()).toBe(false);
    await redis.restart();
    const b = await node(redis.url, prefix, 'b');
    await until(() => a.bus.healthy(), 10_000);
    b.signals.topicChanged.emit('orders');
    await until(() => a.heard.topics.includes('orders'));
  });
});
