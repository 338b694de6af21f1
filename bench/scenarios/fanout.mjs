// One message to many webhook subscriptions (distinct paths on one receiver in another
// process): time from the publish request to the last of the deliveries arriving.
import { now, sleep, startHerald, startReceiver } from '../lib/util.mjs';

export async function fanout({ subscriptions, rounds }) {
  const rx = await startReceiver();
  const h = await startHerald();
  try {
    await h.api('PUT', '/v1/topics/fan');
    const setupStarted = now();
    for (let i = 0; i < subscriptions; i += 50) {
      // 50 subscription requests at a time.
      await Promise.all(
        Array.from({ length: Math.min(50, subscriptions - i) }, (_, j) =>
          h.api('POST', '/v1/topics/fan/subscriptions', {
            protocol: 'http',
            endpoint: `${rx.url}/s/${i + j}`,
            raw: true,
          }),
        ),
      );
    }
    const setupSeconds = (now() - setupStarted) / 1000;
    const results = [];
    for (let r = 0; r < rounds; r++) {
      await rx.reset();
      const t = now();
      const { id } = await h.api('POST', '/v1/topics/fan/messages', { body: `t=${t.toFixed(3)};round ${r}` });
      const acceptedMs = now() - t;
      const s = await rx.waitFor(subscriptions, 30_000, `fanout round ${r}`);
      await sleep(200); // duplicates, if any, show up in the count
      const after = await rx.stats();
      results.push({
        ms: s.last - t,
        publishMs: acceptedMs,
        distinct: after.distinctPaths,
        count: after.count,
        id,
      });
    }
    return { subscriptions, setupSeconds, rounds: results };
  } finally {
    await h.stop();
    await rx.stop();
  }
}
