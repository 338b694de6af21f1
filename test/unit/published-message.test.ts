import { describe, expect, it } from 'vitest';
import { deliveryTexts, stillOwed } from '../../src/store/published-message.js';
import type { PublishEntry } from '../../src/store/store.js';

const owed = (...ids: string[]) => ids.map((subscriptionId, i) => ({ subscriptionId, dueAtMs: i }));

describe('stillOwed', () => {
  it('returns the very array when every subscription is alive (no copy per message)', () => {
    const all = owed('a', 'b', 'c');
    expect(stillOwed(all, () => true)).toBe(all);
  });

  it('keeps the living in order, wherever the dead are', () => {
    const all = owed('a', 'b', 'c', 'd', 'e');
    for (const dead of [['a'], ['c'], ['e'], ['a', 'e'], ['b', 'd'], ['a', 'b', 'c', 'd']]) {
      const kept = stillOwed(all, (id) => !dead.includes(id));
      expect(kept.map((d) => d.subscriptionId)).toEqual(
        all.map((d) => d.subscriptionId).filter((id) => !dead.includes(id)),
      );
      expect(kept.map((d) => d.dueAtMs)).toEqual(
        all.filter((d) => !dead.includes(d.subscriptionId)).map((d) => d.dueAtMs),
      );
    }
    expect(all.map((d) => d.subscriptionId)).toEqual(['a', 'b', 'c', 'd', 'e']); // its input untouched
  });

  it('owes nothing when no subscription is alive, and asks about each once', () => {
    const asked: string[] = [];
    expect(
      stillOwed(owed('a', 'b'), (id) => {
        asked.push(id);
        return false;
      }),
    ).toEqual([]);
    expect(asked).toEqual(['a', 'b']);
    expect(stillOwed([], () => false)).toEqual([]);
  });
});

describe('deliveryTexts', () => {
  const entry = (deliveries: PublishEntry['deliveries']): PublishEntry => ({
    id: 'm',
    topic: 't',
    body: 'default',
    attributes: {},
    createdAtMs: 0,
    deliveries,
    queueCopies: [],
  });

  it('one subscription with the message text: its deliveries as they are', () => {
    const e = entry([{ subscriptionId: 'a', dueAtMs: 1 }]);
    expect(deliveryTexts(e)).toEqual([{ body: 'default', deliveries: e.deliveries }]);
  });

  it('deliveries with their own text apart, one each; the rest share the message', () => {
    const e = entry([
      { subscriptionId: 'a', dueAtMs: 1 },
      { subscriptionId: 'b', dueAtMs: 1, body: 'for https' },
      { subscriptionId: 'c', dueAtMs: 2, body: 'default' },
    ]);
    expect(deliveryTexts(e)).toEqual([
      {
        body: 'default',
        deliveries: [
          { subscriptionId: 'a', dueAtMs: 1 },
          { subscriptionId: 'c', dueAtMs: 2 },
        ],
      },
      { body: 'for https', deliveries: [{ subscriptionId: 'b', dueAtMs: 1 }] },
    ]);
  });

  it('no group for the message text when every delivery has its own', () => {
    const e = entry([{ subscriptionId: 'b', dueAtMs: 1, body: 'own' }]);
    expect(deliveryTexts(e)).toEqual([{ body: 'own', deliveries: [{ subscriptionId: 'b', dueAtMs: 1 }] }]);
  });
});
