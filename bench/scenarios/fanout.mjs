// One message to many webhook subscriptions: time until every subscription has it.
import { now, sleep, startHerald, startReceiver } from '../lib/util.mjs';

export async function fanout({ subscriptions, rounds }) {
  const rx = await startReceiver();
  const h = await startHerald();
  try {
    await h.api('PUT', '/v1/topics/fan');
    for (let i = 0; i < subscriptions; i++) {
      await h.api('POST', '/v1/topics/fan/subscriptions', {
        protocol: 'http',
        endpoint: `${rx.url}/s/${i}`,
        raw: true,
      });
    }
    const results = [];
    for (let r = 0; r < rounds; r++) {
      await rx.reset();
      const t = now();
      await h.api('POST', '/v1/topics/fan/messages', { body: `t=${t.toFixed(3)};round ${r}` });
      let s;
      while ((s = await rx.stats()).count < subscriptions) {
        if (now() - t > 30_000) throw new Error(`fanout stuck at ${s.count}`);
        await sleep(2);
      }
      results.push({ ms: s.last - t, distinct: s.distinctPaths });
      await sleep(200);
    }
    return results;
  } finally {
    await h.stop();
    await rx.stop();
  }
}
