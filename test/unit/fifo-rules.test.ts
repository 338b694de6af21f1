/** The FIFO rules and texts by protocol (validation), the per-group receive decision, and migration numbering with gaps. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { planGroupRun } from '../../src/store/fifo-run.js';
import { unknownVersions } from '../../src/store/migration-versions.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import * as validate from '../../src/validation.js';

const msg = (over: Partial<validate.ValidMessage> = {}): validate.ValidMessage => ({
  body: 'hello',
  attributes: {},
  delaySeconds: undefined,
  idempotencyKey: undefined,
  groupId: undefined,
  deduplicationId: undefined,
  ...over,
});
const fifo = { kind: 'queue' as const, name: 'q.fifo', fifo: true, contentBasedDeduplication: false };
const standard = { kind: 'topic' as const, name: 't', fifo: false, contentBasedDeduplication: false };

describe('FIFO rules', () => {
  it('requires a message group and a deduplication id on FIFO, unless content-based', () => {
    expect(() => validate.fifoRules(msg(), fifo)).toThrow('messageGroupId is required on FIFO queue "q.fifo"');
    expect(() => validate.fifoRules(msg({ groupId: 'g' }), fifo)).toThrow(/messageDeduplicationId is required/);
    expect(validate.fifoRules(msg({ groupId: 'g', deduplicationId: 'd' }), fifo)).toEqual({
      idempotencyKey: 'd',
      deduplicationId: 'd',
    });
    expect(validate.fifoRules(msg({ groupId: 'g', idempotencyKey: 'k' }), fifo)).toEqual({
      idempotencyKey: 'k',
      deduplicationId: 'k',
    });
    const hashed = validate.fifoRules(msg({ groupId: 'g' }), { ...fifo, contentBasedDeduplication: true });
    expect(hashed.idempotencyKey).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    // Content-based: every text of the message counts, not only the default.
    const cbd = { ...fifo, contentBasedDeduplication: true };
    const a = validate.fifoRules(msg({ groupId: 'g', bodies: { queue: 'one' } }), cbd);
    const b = validate.fifoRules(msg({ groupId: 'g', bodies: { queue: 'two' } }), cbd);
    expect(a.idempotencyKey).not.toBe(b.idempotencyKey);
    expect(a.idempotencyKey).not.toBe(hashed.idempotencyKey);
  });

  it('reads texts by protocol (bodies) and counts them in the size', () => {
    expect(validate.message({ body: 'd', bodies: { queue: 'q', https: 's' } }, 1024).bodies).toEqual({
      queue: 'q',
      https: 's',
    });
    expect(validate.message({ body: 'd', bodies: {} }, 1024).bodies).toBeUndefined();
    expect(() => validate.message({ body: 'd', bodies: { email: 'x' } }, 1024)).toThrow('bodies.email: not a protocol');
    expect(() => validate.message({ body: 'd', bodies: { http: 1 } }, 1024)).toThrow('bodies.http must be a string');
    expect(() => validate.message({ body: 'd', bodies: { http: 'x'.repeat(1024) } }, 1024)).toThrow(/1025 bytes/);
  });

  it('refuses per-message delays and two different keys on FIFO, naming the entry', () => {
    expect(() =>
      validate.fifoRules(msg({ groupId: 'g', deduplicationId: 'd', delaySeconds: 1 }), fifo, 'messages[3]'),
    ).toThrow(/^messages\[3\]\.delaySeconds is not allowed on FIFO queue/);
    expect(validate.fifoRules(msg({ groupId: 'g', deduplicationId: 'd', delaySeconds: 0 }), fifo).deduplicationId).toBe(
      'd',
    );
    expect(() => validate.fifoRules(msg({ groupId: 'g', deduplicationId: 'a', idempotencyKey: 'b' }), fifo)).toThrow(
      /name the same key/,
    );
  });

  it('on standard topics and queues: no deduplication id, a message group is carried along', () => {
    expect(() => validate.fifoRules(msg({ deduplicationId: 'd' }), standard)).toThrow(
      /messageDeduplicationId applies to FIFO topics only; on standard topic "t" use idempotencyKey/,
    );
    expect(validate.fifoRules(msg({ groupId: 'tenant', idempotencyKey: 'k' }), standard)).toEqual({
      idempotencyKey: 'k',
      deduplicationId: undefined,
    });
  });

  it('validates names with the .fifo suffix and message group tokens', () => {
    expect(validate.queueName('jobs.fifo')).toBe('jobs.fifo');
    expect(() => validate.queueName('.fifo')).toThrow(/queue name/);
    expect(() => validate.queueName(`${'q'.repeat(76)}.fifo`)).toThrow(/1-80/);
    expect(validate.queueName(`${'q'.repeat(75)}.fifo`)).toHaveLength(80);
    expect(validate.message({ body: 'x', messageGroupId: 'a!~#' }, 100).groupId).toBe('a!~#');
    expect(() => validate.message({ body: 'x', messageGroupId: '' }, 100)).toThrow(/messageGroupId must be/);
    expect(() => validate.message({ body: 'x', messageDeduplicationId: 'x'.repeat(129) }, 100)).toThrow(
      /messageDeduplicationId must be/,
    );
  });
});

describe('planGroupRun', () => {
  const row = (seq: number, visible_at: number, receive_count = 0) => ({ seq, visible_at, receive_count });
  const opts = { want: 10, fetched: 10, nowMs: 100, visibilityMs: 30, deadAfter: 0 };

  it('takes visible messages from the head and stops at the first hidden one', () => {
    const plan = planGroupRun([row(1, 50), row(2, 90), row(3, 200), row(4, 50)], opts);
    expect(plan.take.map((r) => r.seq)).toEqual([1, 2]);
    expect(plan.availableAt).toBe(130); // the taken head's new visibility
  });

  it('a hidden head blocks the whole group until it is visible', () => {
    const plan = planGroupRun([row(1, 160, 1), row(2, 50)], opts);
    expect(plan.take).toEqual([]);
    expect(plan.availableAt).toBe(160);
  });

  it('dead-letters heads past deadAfter and serves what follows; an empty group can go', () => {
    const plan = planGroupRun([row(1, 50, 3), row(2, 50, 1)], { ...opts, deadAfter: 3 });
    expect(plan.dead.map((r) => r.seq)).toEqual([1]);
    expect(plan.take.map((r) => r.seq)).toEqual([2]);
    expect(planGroupRun([], opts).availableAt).toBeNull();
    // All dead and the page was full: look again later rather than dropping the group.
    expect(planGroupRun([row(1, 50, 3)], { ...opts, fetched: 1, deadAfter: 3 }).availableAt).toBe(100);
  });

  it('takes at most `want`', () => {
    expect(planGroupRun([row(1, 0), row(2, 0), row(3, 0)], { ...opts, want: 2 }).take).toHaveLength(2);
  });
});

describe('migration numbering', () => {
  it('names the ledger versions a build does not know', () => {
    expect(unknownVersions([1, 2, 3], [{ version: 1 }, { version: 2 }])).toEqual([3]);
    expect(unknownVersions([1, 3], [{ version: 1 }, { version: 2 }, { version: 3 }])).toEqual([]);
  });

  it('applies a known version missing below the newest applied one (branches numbered apart)', () => {
    const db = new Database(':memory:');
    const m = (version: number) => ({ version, name: `m${version}`, sql: `CREATE TABLE t${version} (x INTEGER);` });
    migrate(db, [m(1), m(3)]);
    expect(() => migrate(db, [m(1), m(2)])).toThrow(/newer Herald \(schema 3, this build knows 1, 2\)/);
    migrate(db, [m(1), m(2), m(3)]);
    const ledger = db.prepare('SELECT version FROM herald_migrations ORDER BY version').all();
    expect(ledger).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't2'").get()).toEqual({ name: 't2' });
    db.close();
  });
});
