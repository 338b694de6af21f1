import pg from 'pg';
import { startCluster, publishLoad } from '../bench/scenarios/cluster.mjs';
import { startReceiver } from '../bench/lib/util.mjs';
const stat = async (db) => {
  const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await c.connect();
  const r = await c.query('SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, blks_hit FROM pg_stat_database WHERE datname = $1', [db]);
  await c.end(); return r.rows[0];
};
for (const n of [1, 3]) {
  const rx = await startReceiver();
  const cl = await startCluster({ nodes: n, redis: true });
  const db = new URL(cl.nodes[0] ? (await (async () => process.env.X)()) ?? '' : '', 'http://x').pathname;
  const name = (await (async () => { const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await c.connect(); const r = await c.query("SELECT datname FROM pg_database WHERE datname LIKE 'herald_bench_%' ORDER BY oid DESC LIMIT 1"); await c.end(); return r.rows[0].datname; })());
  const s0 = await stat(name);
  const r = await publishLoad(cl.nodes, rx, { seconds: 5 });
  const s1 = await stat(name);
  const d = Object.fromEntries(Object.keys(s0).map((k) => [k, Number(s1[k]) - Number(s0[k])]));
  const per = (k) => (d[k] / (r.published + 1000)).toFixed(2);
  console.log(`nodes=${n} published/s=${Math.round(r.publishedPerSec)} delivered=${r.delivered} commits/msg=${per('xact_commit')} ins/msg=${per('tup_inserted')} upd/msg=${per('tup_updated')} del/msg=${per('tup_deleted')} blks_hit/msg=${per('blks_hit')}`);
  await cl.stop(); await rx.stop();
}
process.exit(0);
