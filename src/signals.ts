/**
 * Wake-up signals between the parts of Herald. A commit that creates work (messages for
 * a queue, deliveries for a subscription) signals it, so long-polling receivers and the
 * delivery engine act at once instead of on a poll tick. In one process these are plain
 * callbacks; a multi-node deployment carries the same signals between nodes.
 */
export type Listener<T> = (value: T) => void;

class Channel<T> {
  private listeners = new Set<Listener<T>>();

  on(fn: Listener<T>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(value: T): void {
    for (const fn of this.listeners) fn(value);
  }
}

export class Signals {
  /** Messages became available in a queue. */
  readonly queueMessages = new Channel<string>();
  /** Deliveries became due for these subscriptions. */
  readonly deliveriesDue = new Channel<readonly string[]>();
  /** A subscription was created, changed or deleted (by id). */
  readonly subscriptionChanged = new Channel<string>();
}
