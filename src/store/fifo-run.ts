/**
 * What a FIFO receive does with one message group, as a pure decision both stores share.
 *
 * The store hands over the group's first messages in sequence order (as many as the receive
 * still wants). Strict order within a group and "a group blocks while its head is in flight"
 * both follow from one rule: take messages from the head while they are visible, and stop
 * at the first that is not. An in-flight message is invisible until it is acked (then it is
 * gone) or its visibility timeout passes; a delayed one is invisible until its delay ends;
 * either way everything behind it waits. Messages already received `deadAfter` times are
 * moved to the dead-letter queue on the way and do not block the group.
 */
/**
 * Rows to read per group beyond what the receive wants: dead-lettered heads do not count,
 * so a few extra let the message behind a dead one be served in the same receive.
 */
export const DEAD_SLACK = 8;

export interface RunRow {
  seq: number;
  visible_at: number;
  receive_count: number;
}

export interface RunPlan<R> {
  /** Hand these out, in this order. */
  take: R[];
  /** Move these to the dead-letter queue. */
  dead: R[];
  /**
   * When the group may next be served (the group's hint), or null when the group turned out
   * to be empty and its row can go.
   */
  availableAt: number | null;
}

export function planGroupRun<R extends RunRow>(
  rows: R[],
  opts: { want: number; fetched: number; nowMs: number; visibilityMs: number; deadAfter: number },
): RunPlan<R> {
  const take: R[] = [];
  const dead: R[] = [];
  const taken = () => opts.nowMs + opts.visibilityMs;
  for (const r of rows) {
    if (take.length === opts.want) return { take, dead, availableAt: taken() };
    // The head (or the first message after the run we took) is in flight or delayed.
    if (r.visible_at > opts.nowMs) return { take, dead, availableAt: take.length > 0 ? taken() : r.visible_at };
    if (opts.deadAfter > 0 && r.receive_count >= opts.deadAfter) dead.push(r);
    else take.push(r);
  }
  if (take.length > 0) return { take, dead, availableAt: taken() };
  // Everything we looked at was dead-lettered: if the page was full there may be more, so
  // look again on the next receive; otherwise the group is empty.
  return { take, dead, availableAt: rows.length >= opts.fetched ? opts.nowMs : null };
}
