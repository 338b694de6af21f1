/**
 * Numbered, append-only schema migrations for PostgreSQL. Never edit a released migration:
 * add the next. Every node runs `migrate` on start; the whole run is one transaction under
 * a transaction-scoped advisory lock, so when several nodes start at once exactly one
 * applies the migrations and the others, once the lock is theirs, find the ledger up to
 * date. A schema written by a newer Herald (a version this code does not know) is refused
 * rather than misread.
 *
 * Times are epoch milliseconds in BIGINT columns (parsed back to numbers by the store's
 * type parser), so rows read the same as the SQLite store's.
 */
import type { PoolClient } from 'pg';
import { unknownVersions } from '../migration-versions.js';

export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'core',
    sql: `
      CREATE TABLE topics (
        name TEXT PRIMARY KEY,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        topic TEXT NOT NULL REFERENCES topics(name) ON DELETE CASCADE,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        raw BOOLEAN NOT NULL,
        delivery_policy TEXT NOT NULL,
        dead_letter_queue TEXT,
        secret TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX subscriptions_topic ON subscriptions(topic);

      CREATE TABLE queues (
        qid INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        visibility_timeout_ms BIGINT NOT NULL,
        delay_ms BIGINT NOT NULL,
        retention_ms BIGINT NOT NULL,
        max_receive_count INTEGER NOT NULL,
        dead_letter_queue TEXT,
        created_at BIGINT NOT NULL
      );

      -- Queue messages: visible_at drives receive, (qid, visible_at, seq) finds the next
      -- visible ones. receipt is a random nonce replaced on every receive (0: never
      -- received). source/topic/last_error are set on dead letters for redrive.
      CREATE TABLE queue_messages (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        qid INTEGER NOT NULL REFERENCES queues(qid) ON DELETE CASCADE,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        attributes TEXT,
        sent_at BIGINT NOT NULL,
        visible_at BIGINT NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt BIGINT NOT NULL DEFAULT 0,
        source TEXT,
        topic TEXT,
        last_error TEXT
      );
      CREATE INDEX queue_messages_visible ON queue_messages(qid, visible_at, seq);
      CREATE INDEX queue_messages_sent ON queue_messages(qid, sent_at);

      -- A message owed to several push subscriptions, stored once; pending counts the
      -- unfinished deliveries and the row goes when it reaches zero.
      CREATE TABLE messages (
        mseq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL,
        topic TEXT NOT NULL,
        body TEXT NOT NULL,
        attributes TEXT,
        created_at BIGINT NOT NULL,
        pending INTEGER NOT NULL
      );

      -- state: 0 pending, 2 failed (attempts exhausted, no DLQ). Leases live in the row,
      -- because several nodes share it: a lease moves due_at to the lease's end and sets
      -- lease_token, so "due" is simply due_at <= now for fresh, retried and expired-lease
      -- rows alike, leased rows leave the front of the due index, and nextDueAt sees when
      -- a lease runs out. Outcomes apply only while lease_token still matches.
      -- A message owed to one subscription is stored inline (mseq NULL).
      CREATE TABLE deliveries (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subscription_id TEXT NOT NULL,
        mseq BIGINT,
        message_id TEXT,
        topic TEXT,
        body TEXT,
        attributes TEXT,
        published_at BIGINT,
        state SMALLINT NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at BIGINT NOT NULL,
        lease_token BIGINT,
        last_error TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX deliveries_due ON deliveries(subscription_id, state, due_at, seq);
      CREATE INDEX deliveries_mseq ON deliveries(mseq) WHERE mseq IS NOT NULL;

      CREATE TABLE attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subscription_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at BIGINT NOT NULL,
        status INTEGER,
        latency_ms DOUBLE PRECISION NOT NULL,
        ok BOOLEAN NOT NULL,
        error_class TEXT,
        error TEXT
      );
      CREATE INDEX attempts_subscription ON attempts(subscription_id, id);
      CREATE INDEX attempts_message ON attempts(message_id, id);
      CREATE INDEX attempts_at ON attempts(at);

      CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
    `,
  },
  {
    version: 2,
    name: 'fifo',
    sql: `
      ALTER TABLE topics ADD COLUMN fifo BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE topics ADD COLUMN content_based_dedup BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE queues ADD COLUMN fifo BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE queues ADD COLUMN content_based_dedup BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE queue_messages ADD COLUMN group_id TEXT;
      ALTER TABLE queue_messages ADD COLUMN dedup_id TEXT;
      -- A group's messages in sequence order: the head of a group in one probe.
      CREATE INDEX queue_messages_group ON queue_messages(qid, group_id, seq) WHERE group_id IS NOT NULL;

      -- One row per message group of a FIFO queue (see fifo-groups.ts). The row is also the
      -- group's lock: a receive claims groups with FOR UPDATE SKIP LOCKED, so two nodes never
      -- hand out messages of one group at once. available_at is a hint never later than the
      -- moment the group's head can be received; (qid, available_at) finds servable groups.
      CREATE TABLE fifo_groups (
        qid INTEGER NOT NULL REFERENCES queues(qid) ON DELETE CASCADE,
        group_id TEXT NOT NULL,
        available_at BIGINT NOT NULL,
        PRIMARY KEY (qid, group_id)
      );
      CREATE INDEX fifo_groups_available ON fifo_groups(qid, available_at);
    `,
  },
  {
    version: 3,
    name: 'aws-sqs',
    // SQS queue settings and tags, typed message attributes, first-receive time, and message
    // move tasks (background redrive with progress, kept so their status survives a restart).
    sql: `
      ALTER TABLE queues ADD COLUMN max_message_bytes INTEGER NOT NULL DEFAULT 262144;
      ALTER TABLE queues ADD COLUMN receive_wait_ms BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE queues ADD COLUMN redrive_allow_policy TEXT;
      ALTER TABLE queues ADD COLUMN tags TEXT;
      ALTER TABLE queues ADD COLUMN updated_at BIGINT;
      ALTER TABLE queue_messages ADD COLUMN message_attributes TEXT;
      ALTER TABLE queue_messages ADD COLUMN trace_header TEXT;
      ALTER TABLE queue_messages ADD COLUMN first_received_at BIGINT;

      CREATE TABLE message_move_tasks (
        handle TEXT PRIMARY KEY,
        source_queue TEXT NOT NULL,
        destination_queue TEXT,
        max_per_second INTEGER,
        status TEXT NOT NULL,
        moved BIGINT NOT NULL,
        to_move BIGINT NOT NULL,
        failure_reason TEXT,
        started_at BIGINT NOT NULL
      );
      CREATE INDEX message_move_tasks_source ON message_move_tasks(source_queue, started_at);
    `,
  },
  // SNS: topic settings, subscription filter policies and delivery style.
  {
    version: 4,
    name: 'sns',
    sql: `
      -- SNS topic settings and tags (JSON objects; NULL: none).
      ALTER TABLE topics ADD COLUMN attributes TEXT;
      ALTER TABLE topics ADD COLUMN tags TEXT;
      -- Filter policies (JSON text, validated when set), delivery style (herald | sns) and
      -- the confirmation token of SNS-style HTTP subscriptions awaiting confirmation.
      ALTER TABLE subscriptions ADD COLUMN filter_policy TEXT;
      ALTER TABLE subscriptions ADD COLUMN filter_policy_scope TEXT NOT NULL DEFAULT 'MessageAttributes';
      ALTER TABLE subscriptions ADD COLUMN style TEXT NOT NULL DEFAULT 'herald';
      ALTER TABLE subscriptions ADD COLUMN confirmation_token TEXT;
      -- The one SNS signing key and certificate every node signs with (id is always 1).
      CREATE TABLE sns_signing_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key_pem TEXT NOT NULL,
        cert_pem TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'topic-sequence',
    // A FIFO topic numbers its messages (SNS SequenceNumber): the last number given, raised in
    // the transaction that accepts the messages while it holds the topic's row, so numbers
    // follow commit order.
    sql: `
      ALTER TABLE topics ADD COLUMN last_sequence BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 6,
    name: 'sns-unsubscribed',
    // SNS-style HTTP/S subscriptions deleted by Unsubscribe, kept for a while by the token their
    // UnsubscribeConfirmation carries, so its SubscribeURL can restore them (the subscription
    // as it was, JSON; see Subscriptions.delete).
    sql: `
      CREATE TABLE unsubscribed (
        token TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        subscription TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX unsubscribed_expires ON unsubscribed(expires_at);
    `,
  },
  {
    version: 7,
    name: 'dedup-sequence-numbers',
    // A duplicate send or publish on a FIFO queue or topic answers the first message's
    // sequence number, as SQS and SNS do; keys claimed before this version answer none.
    sql: `ALTER TABLE idempotency_keys ADD COLUMN sequence_number TEXT;`,
  },
];

/** Same key for every Herald; hashtext of the schema keeps separate schemas independent. */
const LOCK_NAMESPACE = 'herald.migrate:';

/** Create `schema` if needed and bring it up to date. Runs inside one transaction. */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_NAMESPACE + schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.herald_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${quoteIdent(schema)}.herald_migrations`,
    );
    const applied = new Set(rows.map((r) => r.version));
    const unknown = unknownVersions(applied, MIGRATIONS);
    if (unknown.length > 0) {
      throw new Error(
        `the database schema "${schema}" was written by a newer Herald (schema ${unknown.join(', ')}, this build knows ${MIGRATIONS.map((m) => m.version).join(', ')}); upgrade Herald`,
      );
    }
    // Gaps are allowed (features numbered apart): apply every known version not yet applied.
    for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
      await client.query(m.sql);
      await client.query(
        `INSERT INTO ${quoteIdent(schema)}.herald_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
        [m.version, m.name, Date.now()],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
