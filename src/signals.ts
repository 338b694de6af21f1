/**
 * Wake-up signals between the parts of Herald. A commit that creates work (messages for
 * a queue, deliveries for a subscription) signals it, so long-polling receivers and the
 * delivery engine act at once instead of on a poll tick. In one process these are plain
 * callbacks; with several nodes on one database a cluster bus (src/cluster/) relays them
 * to the other nodes.
 */
export type Listener<T> = (value: T) => void;

export class Channel<T> {
  private listeners = new Set<Listener<T>>();
  /** Set by a cluster bus: carries this node's signals to the other nodes. */
  relay: Listener<T> | null = null;

  on(fn: Listener<T>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A signal raised on this node: its own listeners, then the other nodes. */
  emit(value: T): void {
    this.deliver(value);
    this.relay?.(value);
  }

  /** A signal that came from another node: this node's listeners only. */
  deliver(value: T): void {
    for (const fn of this.listeners) fn(value);
  }
}

/** An endpoint's circuit breaker opened (for `openMs`) or closed again (`openMs` 0). */
export interface BreakerNews {
  origin: string;
  openMs: number;
}

export class Signals {
  /** Messages became available in a queue. */
  readonly queueMessages = new Channel<string>();
  /** Deliveries became due for these subscriptions. */
  readonly deliveriesDue = new Channel<readonly string[]>();
  /** A subscription was created, changed or deleted (by id). */
  readonly subscriptionChanged = new Channel<string>();
  /** A topic or its set of subscriptions changed (by name): cached metadata is stale. */
  readonly topicChanged = new Channel<string>();
  /** A delivery node's breaker for an endpoint changed: the others follow it. */
  readonly breaker = new Channel<BreakerNews>();
  /**
   * Another node's signals may have been missed (the cluster bus reconnected): everyone
   * re-reads what they cache and looks for work. Never relayed.
   */
  readonly resync = new Channel<void>();
}
