/** A message move task as a row, the same columns in every store. */
import type { MoveTask, MoveTaskStatus } from '../types.js';

export interface MoveTaskRow {
  handle: string;
  source_queue: string;
  destination_queue: string | null;
  max_per_second: number | null;
  status: string;
  moved: number;
  to_move: number;
  failure_reason: string | null;
  started_at: number;
}

export const toMoveTask = (r: MoveTaskRow): MoveTask => ({
  handle: r.handle,
  sourceQueue: r.source_queue,
  destinationQueue: r.destination_queue,
  maxPerSecond: r.max_per_second,
  status: r.status as MoveTaskStatus,
  moved: r.moved,
  toMove: r.to_move,
  failureReason: r.failure_reason,
  startedAt: new Date(r.started_at).toISOString(),
});

/** Positional parameters in the column order of the message_move_tasks table. */
export const moveTaskValues = (t: MoveTask) => [
  t.handle,
  t.sourceQueue,
  t.destinationQueue,
  t.maxPerSecond,
  t.status,
  t.moved,
  t.toMove,
  t.failureReason,
  Date.parse(t.startedAt),
];
