/** How many webhook sender threads Herald runs: the default by core count, and HERALD_SENDER_THREADS. */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultSenderThreads, loadConfig } from '../../src/config.js';

describe('sender threads', () => {
  it('defaults to one per core beyond two, none on one or two cores, at most 4', () => {
    expect([1, 2, 3, 4, 5, 6, 8, 64].map((cores) => defaultSenderThreads(cores))).toEqual([0, 1, 1, 2, 3, 4, 4, 4]);
    expect(loadConfig({}, {}).delivery.senderThreads).toBe(defaultSenderThreads(availableParallelism()));
  });

  it('reads HERALD_SENDER_THREADS (0 sends from the event loop) and refuses nonsense', () => {
    expect(loadConfig({}, { HERALD_SENDER_THREADS: '0' }).delivery.senderThreads).toBe(0);
    expect(loadConfig({}, { HERALD_SENDER_THREADS: '3' }).delivery.senderThreads).toBe(3);
    expect(loadConfig({ delivery: { senderThreads: 2 } }, { HERALD_SENDER_THREADS: '3' }).delivery.senderThreads).toBe(
      2,
    );
    for (const bad of ['1.5', '-1', '65', 'many']) {
      expect(() => loadConfig({}, { HERALD_SENDER_THREADS: bad })).toThrow(/HERALD_SENDER_THREADS/);
    }
  });
});
