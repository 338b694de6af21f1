/** The typed client's behaviour beyond single requests: errors and failover across nodes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldClient, HeraldError } from '../../src/client/index.js';
import { freePort } from '../support/child.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

describe('HeraldClient', () => {
  let h: TestHerald;
  beforeAll(async () => {
    h = await startTestHerald();
  });
  afterAll(async () => {
    await h.close();
  });

  it('throws HeraldError with the server code and status', async () => {
    const err = await h.client.getTopic('nope').catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ status: 404, code: 'topic_not_found' });
  });

  it('reports an unreachable server as status 0, connection_failed', async () => {
    const c = new HeraldClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: 'k' });
    try {
      const err = await c.listQueues().catch((e) => e);
      expect(err).toMatchObject({ status: 0, code: 'connection_failed' });
    } finally {
      await c.close();
    }
  });

  it('fails over to the next URL when a node refuses connections, for reads and publishes', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const c = new HeraldClient({ url: `${dead},${h.url}`, apiKey: h.apiKey });
    try {
      await c.createTopic('failover');
      for (let i = 0; i < 4; i++) {
        expect((await c.publish('failover', { body: String(i) })).id).toBeTruthy();
        expect((await c.getTopic('failover')).name).toBe('failover');
      }
    } finally {
      await c.close();
    }
  });

  it('encodes path segments', async () => {
    const err = await h.client.getQueue('a/b').catch((e) => e);
    expect(err).toMatchObject({ status: 404, code: 'queue_not_found' });
  });
});
