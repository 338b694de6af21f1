import type Database from 'better-sqlite3';
import { unknownVersions } from '../migration-versions.js';

/**
 * Numbered, append-only schema migrations. Never edit a released migration: add the next.
 * Applied in one transaction with a ledger table; a database written by a newer Herald
 * (a version this code does not know) is refused rather than misread.
 *
 * Versions may have gaps while branches are developed apart (each feature takes its own
 * number): every known version missing from the ledger is applied, in ascending order, so a
 * database that has 1 and 3 gets 2 once a build knows it.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'core',
    sql: `
      CREATE TABLE topics (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        topic TEXT NOT NULL REFERENCES topics(name) ON DELETE CASCADE,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        raw INTEGER NOT NULL,
        delivery_policy TEXT NOT NULL,
        dead_letter_queue TEXT,
        secret TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX subscriptions_topic ON subscriptions(topic);

      CREATE TABLE queues (
        qid INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        visibility_timeout_ms INTEGER NOT NULL,
        delay_ms INTEGER NOT NULL,
        retention_ms INTEGER NOT NULL,
        max_receive_count INTEGER NOT NULL,
        dead_letter_queue TEXT,
        created_at INTEGER NOT NULL
      );

      -- Queue messages. visible_at drives receive; (qid, visible_at) finds the next visible
      -- messages in O(log n) however deep the queue is. source/topic/last_error are set on
      -- dead letters so a redrive knows where to send them back.
      CREATE TABLE queue_messages (
        seq INTEGER PRIMARY KEY,
        qid INTEGER NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        attributes TEXT,
        sent_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt INTEGER NOT NULL DEFAULT 0,
        source TEXT,
        topic TEXT,
        last_error TEXT
      );
      CREATE INDEX queue_messages_visible ON queue_messages(qid, visible_at);
      CREATE INDEX queue_messages_sent ON queue_messages(qid, sent_at);

      -- Published messages owed to several push subscriptions. pending counts deliveries not
      -- yet finished; the row is deleted when it reaches zero, so no scan is needed to collect it.
      CREATE TABLE messages (
        mseq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        topic TEXT NOT NULL,
        body TEXT NOT NULL,
        attributes TEXT,
        created_at INTEGER NOT NULL,
        pending INTEGER NOT NULL
      );

      -- state: 0 pending, 1 leased (in flight), 2 failed (attempts exhausted, no DLQ).
      -- One process owns a SQLite store, so leases need no index: startup reclaims them all.
      -- A message owed to one subscription only (the common case) is stored inline here
      -- (message_id .. published_at, mseq NULL): one row to write and one to delete.
      CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY,
        subscription_id TEXT NOT NULL,
        mseq INTEGER,
        message_id TEXT,
        topic TEXT,
        body TEXT,
        attributes TEXT,
        published_at INTEGER,
        state INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL,
        lease_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX deliveries_due ON deliveries(subscription_id, state, due_at);

      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        subscription_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        status INTEGER,
        latency_ms REAL NOT NULL,
        ok INTEGER NOT NULL,
        error_class TEXT,
        error TEXT
      );
      CREATE INDEX attempts_subscription ON attempts(subscription_id, id);
      CREATE INDEX attempts_message ON attempts(message_id);
      -- No index on "at": ids grow with time, so retention finds its cut-off by binary search.

      CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
    `,
  },
  {
    version: 2,
    name: 'fifo',
    sql: `
      ALTER TABLE topics ADD COLUMN fifo INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE topics ADD COLUMN content_based_dedup INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queues ADD COLUMN fifo INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queues ADD COLUMN content_based_dedup INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queue_messages ADD COLUMN group_id TEXT;
      ALTER TABLE queue_messages ADD COLUMN dedup_id TEXT;
      -- A group's messages in sequence order: the head of a group in one probe.
      CREATE INDEX queue_messages_group ON queue_messages(qid, group_id, seq) WHERE group_id IS NOT NULL;

      -- One row per message group of a FIFO queue (see fifo-groups.ts). available_at is a
      -- hint that is never later than the moment the group's head can be received: a receive
      -- finds the groups it may serve with one range scan of (qid, available_at) instead of
      -- walking every group or every message.
      CREATE TABLE fifo_groups (
        qid INTEGER NOT NULL,
        group_id TEXT NOT NULL,
        available_at INTEGER NOT NULL,
        PRIMARY KEY (qid, group_id)
      ) WITHOUT ROWID;
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
      ALTER TABLE queues ADD COLUMN receive_wait_ms INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queues ADD COLUMN redrive_allow_policy TEXT;
      ALTER TABLE queues ADD COLUMN tags TEXT;
      ALTER TABLE queues ADD COLUMN updated_at INTEGER;
      ALTER TABLE queue_messages ADD COLUMN message_attributes TEXT;
      ALTER TABLE queue_messages ADD COLUMN trace_header TEXT;
      ALTER TABLE queue_messages ADD COLUMN first_received_at INTEGER;

      CREATE TABLE message_move_tasks (
        handle TEXT PRIMARY KEY,
        source_queue TEXT NOT NULL,
        destination_queue TEXT,
        max_per_second INTEGER,
        status TEXT NOT NULL,
        moved INTEGER NOT NULL,
        to_move INTEGER NOT NULL,
        failure_reason TEXT,
        started_at INTEGER NOT NULL
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
    `,
  },
  {
    version: 5,
    name: 'topic-sequence',
    // A FIFO topic numbers its messages (SNS SequenceNumber): the last number given, taken and
    // raised in the transaction that accepts the messages.
    sql: `
      ALTER TABLE topics ADD COLUMN last_sequence INTEGER NOT NULL DEFAULT 0;
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
        expires_at INTEGER NOT NULL
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

/** `migrations` is for tests (gaps in the numbering); Herald always applies MIGRATIONS. */
export function migrate(
  db: Database.Database,
  migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = MIGRATIONS,
): void {
  db.exec(`CREATE TABLE IF NOT EXISTS herald_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM herald_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  const unknown = unknownVersions(applied, migrations);
  if (unknown.length > 0) {
    throw new Error(
      `the data directory was written by a newer Herald (schema ${unknown.join(', ')}, this build knows ${migrations.map((m) => m.version).join(', ')}); upgrade Herald`,
    );
  }
  const apply = db.transaction(() => {
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO herald_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    }
  });
  apply();
}
