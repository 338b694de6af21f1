/**
 * Group commit for message-accepting writes (`publish`, `sendToQueue`) on PostgreSQL.
 *
 * Calls that arrive in the same event-loop turn, or while the previous group's COMMIT is
 * in flight, are written together in ONE transaction with one multi-row insert per table
 * (`unnest` of arrays), so a burst of publishes costs a handful of round trips and one WAL
 * flush instead of one of each per message. One group is in flight at a time: while it
 * commits, the next one grows by itself with load, and no timer adds latency when idle.
 *
 * Callers resolve only after COMMIT returns (synchronous_commit is on). Results are per
 * call and per entry, as on SQLite: an idempotency key seen within the window answers the
 * first message's id (and, on FIFO topics and queues, its sequence number), a send to an
 * unknown queue rejects only its own call. If the group
 * fails for another reason (a statement error no check anticipated), each call is retried
 * alone so one bad call cannot fail its neighbours; a connection failure fails them all
 * with `unavailable` (the commit may or may not have happened; clients retry, keys dedupe).
 */
import { HeraldError } from '../../errors.js';
import type { AcceptResult, PublishEntry, SendEntry } from '../store.js';
import { statement, type Client, type Database } from './database.js';
import { createDeliveries, type NewDeliveries } from './deliveries.js';
import { encodeMessageAttributes } from '../../message-attributes.js';
import { insertQueueMessages, type NewQueueMessage } from './queue-messages.js';
import * as groups from './fifo-groups.js';
import { encodeAttributes, hasNul, ms, NUL_ERROR, sequenceNumber } from './rows.js';
import { copyBody, deliveryTexts, stillOwed } from '../published-message.js';

type Call = ({ kind: 'publish'; entries: PublishEntry[] } | { kind: 'send'; queue: string; entries: SendEntry[] }) & {
  windowMs: number;
  nowMs: number;
  resolve: (results: AcceptResult[]) => void;
  reject: (error: unknown) => void;
};

/** One keyed entry of the group, in arrival order. */
interface Keyed {
  scope: string;
  key: string;
  id: string;
  nowMs: number;
  windowMs: number;
  /** Set once resolved: the id to answer with when this entry is a duplicate. */
  duplicateOf?: string;
  /** A duplicate of a message committed earlier: that message's sequence number, if it has one. */
  duplicateSequence?: string;
  /** A duplicate of an entry of this same group: that entry (its number is known once it is written). */
  sameAs?: Keyed;
  /** The answer of an entry that claimed its key, once accepted. */
  accepted?: Accepted;
}

type Accepted = { id: string; duplicate: boolean; sequenceNumber?: string };

/** Messages per transaction at most, so one commit's latency stays bounded under a flood. */
const MAX_GROUP_ENTRIES = 10_000;

const topicGone = (topic: string) => ({ code: 'topic_not_found', message: `topic "${topic}" does not exist` });

const UNGROUPED_ERROR = { code: 'invalid_request', message: 'messageGroupId is required on a FIFO queue' };

const queuesByName = statement(
  'herald_queues_by_name',
  // FOR KEY SHARE: a concurrent deleteQueue waits for this commit instead of breaking it.
  'SELECT qid, name, fifo FROM queues WHERE name = ANY($1::text[]) ORDER BY qid FOR KEY SHARE',
);

// The subscriptions owed this group's deliveries and copies that still exist (see
// stillOwed). KEY SHARE, taken after the group's FIFO topics and before its keys:
// deleteSubscription and deleteTopic lock a subscription's row FOR UPDATE before dropping its
// deliveries, so one that comes later waits for this commit and then drops what it wrote, and
// one that came first has taken the row away.
const liveSubscriptions = statement(
  'herald_live_subscriptions',
  'SELECT id FROM subscriptions WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE',
);

// FIFO queues: hold the row until COMMIT, so sends to one FIFO queue commit one group at a
// time and take sequence numbers in commit order (see fifo-groups.ts). KEY SHARE, taken
// above, does not conflict with this lock, so upgrading it cannot deadlock two senders.
const lockFifoQueues = statement(
  'herald_lock_fifo_queues',
  'SELECT qid FROM queues WHERE qid = ANY($1::int[]) ORDER BY qid FOR NO KEY UPDATE',
);

// Claim keys not seen within the window; a key seen within it is left alone (no row returned).
const claimKeys = statement(
  'herald_claim_idempotency_keys',
  `INSERT INTO idempotency_keys AS k (scope, key, message_id, created_at)
   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
   ON CONFLICT (scope, key) DO UPDATE SET message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at,
     sequence_number = NULL
   WHERE k.created_at <= EXCLUDED.created_at - $5
   RETURNING scope, key`,
);

const existingKeys = statement(
  'herald_existing_idempotency_keys',
  `SELECT k.scope, k.key, k.message_id, k.sequence_number FROM idempotency_keys k
   JOIN unnest($1::text[], $2::text[]) AS x(scope, key) ON k.scope = x.scope AND k.key = x.key`,
);

// Keys claimed for messages the group did not store after all (their FIFO topic had gone).
const releaseKeys = statement(
  'herald_release_idempotency_keys',
  `DELETE FROM idempotency_keys k USING unnest($1::text[], $2::text[], $3::text[]) AS x(scope, key, id)
   WHERE k.scope = x.scope AND k.key = x.key AND k.message_id = x.id`,
);

// The sequence numbers of FIFO messages whose keys this group claimed, for later duplicates.
const numberKeys = statement(
  'herald_number_idempotency_keys',
  `UPDATE idempotency_keys k SET sequence_number = x.seq
   FROM unnest($1::text[], $2::text[], $3::text[]) AS x(scope, key, seq) WHERE k.scope = x.scope AND k.key = x.key`,
);

export class CommitBatcher {
  private waiting: Call[] = [];
  private scheduled = false;
  private inFlight = false;
  /** Groups committed and calls in them, for metrics and tests. */
  readonly stats = { groups: 0, writes: 0 };

  constructor(private readonly db: Database) {}

  publish(entries: PublishEntry[], windowMs: number, nowMs: number): Promise<AcceptResult[]> {
    return new Promise((resolve, reject) => this.add({ kind: 'publish', entries, windowMs, nowMs, resolve, reject }));
  }

  send(queue: string, entries: SendEntry[], windowMs: number, nowMs: number): Promise<AcceptResult[]> {
    return new Promise((resolve, reject) =>
      this.add({ kind: 'send', queue, entries, windowMs, nowMs, resolve, reject }),
    );
  }

  /** Resolves once nothing is queued or committing (used on close). */
  async drain(): Promise<void> {
    while (this.inFlight || this.waiting.length > 0 || this.scheduled) await new Promise((r) => setTimeout(r, 5));
  }

  private add(call: Call): void {
    this.waiting.push(call);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    // Take whole calls while they fit in MAX_GROUP_ENTRIES messages (always at least one);
    // the rest form the next group.
    let take = 0;
    let entries = 0;
    while (take < this.waiting.length) {
      const n = this.waiting[take].entries.length;
      if (take > 0 && entries + n > MAX_GROUP_ENTRIES) break;
      entries += n;
      take++;
    }
    const group = this.waiting.splice(0, take);
    if (group.length === 0) return;
    this.inFlight = true;
    try {
      await this.commit(group);
    } finally {
      this.inFlight = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }

  private async commit(group: Call[]): Promise<void> {
    let results: Array<AcceptResult[] | HeraldError>;
    try {
      results = await this.db.tx((client) => write(client, group));
    } catch (error) {
      const connectionLost = error instanceof HeraldError && error.code === 'unavailable';
      if (group.length > 1 && !connectionLost) {
        for (const call of group) await this.commit([call]);
        return;
      }
      for (const call of group) call.reject(error);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.length;
    group.forEach((call, i) => {
      const r = results[i];
      if (r instanceof HeraldError) call.reject(r);
      else call.resolve(r);
    });
  }
}

/** Write one group inside its transaction; per call, its results or the error to reject it with. */
async function write(client: Client, group: Call[]): Promise<Array<AcceptResult[] | HeraldError>> {
  const names = new Set<string>();
  for (const call of group) {
    if (call.kind === 'send') names.add(call.queue);
    else for (const e of call.entries) for (const c of e.queueCopies) names.add(c.queue);
  }
  const qids = new Map<string, number>();
  const fifo = new Set<number>();
  // The domain requires a group on FIFO queues; a message without one would never be received.
  const ungrouped = (call: Call, e: SendEntry | PublishEntry) =>
    call.kind === 'send' && fifo.has(qids.get(call.queue)!) && !(e as SendEntry).groupId;
  if (names.size > 0) {
    for (const r of (await client.query(queuesByName([[...names]]))).rows) {
      qids.set(r.name, r.qid);
      if (r.fifo) fifo.add(r.qid);
    }
    if (fifo.size > 0) await client.query(lockFifoQueues([[...fifo]]));
  }
  // FIFO topics' rows, then the subscriptions owed (deleteTopic's order: the topic, then its
  // subscriptions). The topics stay locked until COMMIT (see lockTopics).
  const sequencedTopics = new Set<string>();
  const owedTo = new Set<string>();
  for (const call of group) {
    if (call.kind !== 'publish') continue;
    for (const e of call.entries) {
      if (e.sequenced) sequencedTopics.add(e.topic);
      for (const d of e.deliveries) owedTo.add(d.subscriptionId);
      for (const c of e.queueCopies) if (c.subscriptionId !== undefined) owedTo.add(c.subscriptionId);
    }
  }
  // Only the topics held here are numbered below: one gone now and made again meanwhile is
  // another topic, whose row this group does not hold.
  const heldTopics = new Set<string>();
  if (sequencedTopics.size > 0) {
    for (const r of (await client.query(lockTopics([[...sequencedTopics]]))).rows) heldTopics.add(r.name as string);
  }
  const live = new Set<string>();
  if (owedTo.size > 0) {
    for (const r of (await client.query(liveSubscriptions([[...owedTo]]))).rows) live.add(r.id as string);
  }
  const isLive = (id: string) => live.has(id);

  // Per call and entry: a result already decided (NUL characters), or the keyed claim to make.
  const results: Array<AcceptResult[] | HeraldError> = [];
  const keyed = new Map<string, Keyed>(); // "call.entry" -> claim
  const claims: Keyed[] = [];
  group.forEach((call, c) => {
    if (call.kind === 'send' && !qids.has(call.queue)) {
      results[c] = new HeraldError('queue_not_found', `queue "${call.queue}" does not exist`);
      return;
    }
    results[c] = [];
    const scope = call.kind === 'send' ? `queue:${call.queue}` : null;
    call.entries.forEach((e, i) => {
      if (!e.idempotencyKey || hasNul(e.body, e.attributes, e.idempotencyKey) || ungrouped(call, e)) return;
      const k: Keyed = {
        scope: scope ?? `topic:${(e as PublishEntry).topic}`,
        key: e.idempotencyKey,
        id: e.id,
        nowMs: call.nowMs,
        windowMs: call.windowMs,
      };
      keyed.set(`${c}.${i}`, k);
      claims.push(k);
    });
  });
  await claimIdempotencyKeys(client, claims);
  const isNew = (call: Call, c: number, e: SendEntry | PublishEntry, i: number) =>
    !hasNul(e.body, e.attributes, e.idempotencyKey) && !ungrouped(call, e) && !keyed.get(`${c}.${i}`)?.duplicateOf;

  // FIFO topics number their new messages, in group order.
  const counts = new Map<string, number>();
  group.forEach((call, c) => {
    if (call.kind !== 'publish' || results[c] instanceof HeraldError) return;
    call.entries.forEach((e, i) => {
      if (e.sequenced && isNew(call, c, e, i)) counts.set(e.topic, (counts.get(e.topic) ?? 0) + 1);
    });
  });
  for (const topic of counts.keys()) if (!heldTopics.has(topic)) counts.delete(topic);
  const nextSequence = await takeTopicSequences(client, counts);

  const deliveries: NewDeliveries[] = [];
  const copies: NewQueueMessage[] = [];
  /** For each copy sent to a FIFO queue by sendToQueue: the result to give its sequence number. */
  const sends = new Map<number, Accepted>();
  /** Duplicates of entries of this group, answered with their number once it is known. */
  const sameGroupDuplicates: Array<{ answer: Accepted; of: Keyed; out: AcceptResult[]; at: number }> = [];
  /** Keys claimed by entries refused after the claim (a FIFO topic gone), to give back. */
  const unstored: Keyed[] = [];
  group.forEach((call, c) => {
    const out = results[c];
    if (out instanceof HeraldError) return;
    call.entries.forEach((e, i) => {
      if (hasNul(e.body, e.attributes, e.idempotencyKey)) {
        out.push({ error: NUL_ERROR });
        return;
      }
      if (ungrouped(call, e)) {
        out.push({ error: UNGROUPED_ERROR });
        return;
      }
      const k = keyed.get(`${c}.${i}`);
      if (k?.duplicateOf !== undefined) {
        const answer: Accepted = { id: k.duplicateOf, duplicate: true };
        if (k.duplicateSequence !== undefined) answer.sequenceNumber = k.duplicateSequence;
        if (k.sameAs) sameGroupDuplicates.push({ answer, of: k.sameAs, out, at: out.length });
        out.push(answer);
        return;
      }
      const accepted: Accepted = { id: e.id, duplicate: false };
      if (call.kind === 'publish' && (e as PublishEntry).sequenced) {
        const topic = (e as PublishEntry).topic;
        const n = nextSequence.get(topic);
        if (n === undefined) {
          out.push({ error: topicGone(topic) });
          if (k) unstored.push(k);
          return;
        }
        nextSequence.set(topic, n + 1);
        accepted.sequenceNumber = sequenceNumber(n);
      }
      if (k) k.accepted = accepted;
      out.push(accepted);
      if (call.kind === 'send') {
        const s = e as SendEntry;
        if (fifo.has(qids.get(call.queue)!)) sends.set(copies.length, accepted);
        copies.push({
          qid: qids.get(call.queue)!,
          id: s.id,
          body: s.body,
          attributes: encodeAttributes(s.attributes),
          messageAttributes: encodeMessageAttributes(s.messageAttributes),
          traceHeader: s.traceHeader ?? null,
          sentAtMs: s.sentAtMs,
          visibleAtMs: s.visibleAtMs,
          source: null,
          topic: null,
          lastError: null,
          groupId: s.groupId,
          dedupId: s.deduplicationId,
        });
        return;
      }
      const p = e as PublishEntry;
      const attributes = encodeAttributes(p.attributes, p);
      for (const { body, deliveries: owed } of deliveryTexts(p)) {
        const still = stillOwed(owed, isLive);
        if (still.length > 0) deliveries.push({ ...p, body, attributes, nowMs: call.nowMs, deliveries: still });
      }
      for (const copy of p.queueCopies) {
        if (copy.subscriptionId !== undefined && !isLive(copy.subscriptionId)) continue;
        const qid = qids.get(copy.queue);
        if (qid === undefined) continue; // the queue was deleted after the subscription was made
        copies.push({
          qid,
          id: p.id,
          body: copyBody(copy.body, accepted.sequenceNumber),
          attributes: encodeAttributes(copy.attributes),
          messageAttributes: encodeMessageAttributes(copy.messageAttributes),
          sentAtMs: call.nowMs,
          visibleAtMs: copy.visibleAtMs,
          source: null,
          topic: null,
          lastError: null,
          groupId: copy.groupId,
          dedupId: copy.deduplicationId,
        });
      }
    });
  });
  await createDeliveries(client, deliveries);
  const seqs = await insertQueueMessages(client, copies);
  for (const [i, accepted] of sends) accepted.sequenceNumber = sequenceNumber(seqs[i]);
  for (const { answer, of, out, at } of sameGroupDuplicates) {
    // Its first entry was refused (only a publish to a FIFO topic gone can be, once keyed).
    if (!of.accepted) out[at] = { error: topicGone(of.scope.slice('topic:'.length)) };
    else if (of.accepted.sequenceNumber !== undefined) answer.sequenceNumber = of.accepted.sequenceNumber;
  }
  if (unstored.length > 0) {
    await client.query(
      releaseKeys([unstored.map((k) => k.scope), unstored.map((k) => k.key), unstored.map((k) => k.id)]),
    );
  }
  await numberIdempotencyKeys(client, claims);
  // After the messages: a receive that drops an empty group's row cannot miss them.
  const grouped = copies.filter((c) => fifo.has(c.qid) && c.groupId);
  await groups.sent(
    client,
    grouped.map((c) => ({ qid: c.qid, groupId: c.groupId!, atMs: c.visibleAtMs })),
    Math.max(...group.map((c) => c.nowMs)),
  );
  return results;
}

// FIFO topics: the topic rows stay locked until COMMIT, so a topic's numbers follow commit
// order. Locked in name order, after queues and before subscriptions and keys, as every group
// does (and deleteTopic: topic, then subscriptions), so groups on several nodes cannot deadlock.
const lockTopics = statement(
  'herald_lock_topics',
  'SELECT name FROM topics WHERE name = ANY($1::text[]) ORDER BY name FOR NO KEY UPDATE',
);

const raiseTopicSequences = statement(
  'herald_raise_topic_sequences',
  `UPDATE topics t SET last_sequence = t.last_sequence + x.n FROM unnest($1::text[], $2::bigint[]) AS x(name, n)
   WHERE t.name = x.name RETURNING t.name, t.last_sequence`,
);

/** Take `counts` numbers of each topic's sequence: per topic, the first of them (topics gone: absent). */
async function takeTopicSequences(client: Client, counts: Map<string, number>): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  if (counts.size === 0) return first;
  const names = [...counts.keys()];
  // Their rows are locked already (see write), in the order every transaction takes them.
  const rows = await client.query(raiseTopicSequences([names, names.map((n) => counts.get(n))]));
  for (const r of rows.rows) first.set(r.name, Number(r.last_sequence) - counts.get(r.name)! + 1);
  return first;
}

/**
 * Decide every keyed entry: the first use of a (scope, key) in the group claims it unless
 * the database already holds it within the window; later uses in the group are duplicates
 * of whichever id won. Claims are upserts, so two nodes claiming the same key serialise on
 * the row and the second sees the first's message id.
 */
async function claimIdempotencyKeys(client: Client, claims: Keyed[]): Promise<void> {
  if (claims.length === 0) return;
  const first = new Map<string, Keyed>();
  for (const k of claims) if (!first.has(`${k.scope}\n${k.key}`)) first.set(`${k.scope}\n${k.key}`, k);
  // Sorted, so concurrent groups on several nodes take row locks in the same order.
  const unique = [...first.values()].sort((a, b) => (a.scope + '\n' + a.key < b.scope + '\n' + b.key ? -1 : 1));
  const claimed = new Set<string>();
  for (const windowMs of new Set(unique.map((k) => k.windowMs))) {
    const batch = unique.filter((k) => k.windowMs === windowMs);
    const rows = await client.query(
      claimKeys([
        batch.map((k) => k.scope),
        batch.map((k) => k.key),
        batch.map((k) => k.id),
        batch.map((k) => ms(k.nowMs)),
        ms(windowMs),
      ]),
    );
    for (const r of rows.rows) claimed.add(`${r.scope}\n${r.key}`);
  }
  const held = unique.filter((k) => !claimed.has(`${k.scope}\n${k.key}`));
  const earlier = new Map<string, { id: string; sequence: string | null }>();
  if (held.length > 0) {
    const rows = await client.query(existingKeys([held.map((k) => k.scope), held.map((k) => k.key)]));
    for (const r of rows.rows) earlier.set(`${r.scope}\n${r.key}`, { id: r.message_id, sequence: r.sequence_number });
  }
  for (const k of claims) {
    const name = `${k.scope}\n${k.key}`;
    const winner = first.get(name)!;
    if (claimed.has(name)) {
      if (winner === k) continue;
      // Claimed by an earlier entry of this group.
      k.duplicateOf = winner.id;
      k.sameAs = winner;
      continue;
    }
    const hit = earlier.get(name);
    if (hit === undefined) continue;
    k.duplicateOf = hit.id;
    if (hit.sequence !== null) k.duplicateSequence = hit.sequence;
  }
}

/** Record the sequence numbers of FIFO messages that claimed their keys in this group. */
async function numberIdempotencyKeys(client: Client, claims: Keyed[]): Promise<void> {
  const numbered = claims.filter((k) => k.accepted?.sequenceNumber !== undefined);
  if (numbered.length === 0) return;
  await client.query(
    numberKeys([
      numbered.map((k) => k.scope),
      numbered.map((k) => k.key),
      numbered.map((k) => k.accepted!.sequenceNumber),
    ]),
  );
}
