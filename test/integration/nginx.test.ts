/**
 * The shipped nginx configuration (deploy/nginx/herald.conf) in front of three real nodes:
 * requests spread over the nodes, and a node killed with SIGKILL costs the client nothing.
 * Needs the nginx binary (Debian package nginx-light or nginx); without it the file is
 * skipped, since this checks a deployment file rather than Herald itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/child.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { tempDir } from '../support/herald.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);

describe.skipIf(!NGINX)('nginx in front of three nodes (deploy/nginx/herald.conf)', () => {
  let cluster: Cluster;
  let nginx: ChildProcess;
  let url: string;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const dir = tempDir('herald-nginx-');
    mkdirSync(join(dir, 'logs'));
    let conf = readFileSync(new URL('../../deploy/nginx/herald.conf', import.meta.url), 'utf8');
    conf = conf.replace('listen 8080;', `listen 127.0.0.1:${port};`);
    for (const [i, node] of cluster.nodes.entries())
      conf = conf.replace(`127.0.0.1:${8081 + i}`, `127.0.0.1:${node.port}`);
    writeFileSync(join(dir, 'herald.conf'), conf);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${join(dir, 'nginx.pid')};\nerror_log stderr warn;\nevents {}\nhttp {\n  access_log off;\n` +
        `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;\n` +
        `  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n` +
        `  include ${join(dir, 'herald.conf')};\n}\n`,
    );
    const test = spawnSync(NGINX!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(test.status, test.stderr).toBe(0);
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    const deadline = Date.now() + 5_000;
    for (;;) {
      const res = await fetch(`${url}/nginx-health`).catch(() => null);
      if (res?.ok) break;
      if (Date.now() > deadline) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    nginx?.kill('SIGKILL');
    await cluster?.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(url + path, {
      method,
      headers: { authorization: 'Bearer cluster-key', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('spreads requests over the nodes and keeps answering when one is killed', async () => {
    expect((await call('PUT', '/v1/queues/jobs', {})).status).toBeLessThan(300);
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) {
      if (i === 50) cluster.nodes[1].proc.kill('SIGKILL');
      const res = await call('POST', '/v1/queues/jobs/messages', { body: `n-${i}`, idempotencyKey: `n-${i}` });
      statuses.push(res.status);
    }
    // Every send was accepted: requests to the dead node went to the next one.
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    // Both surviving nodes took a share (least_conn over keep-alive upstreams).
    for (const node of [cluster.nodes[0], cluster.nodes[2]]) {
      const metrics = await fetch(`${node.url}/metrics`, { headers: { authorization: 'Bearer cluster-key' } });
      const sent = /herald_queue_messages_sent_total\{queue="jobs"\} (\d+)/.exec(await metrics.text());
      expect(Number(sent?.[1] ?? 0)).toBeGreaterThan(10);
    }
    const bodies = new Set<string>();
    for (let i = 0; i < 20 && bodies.size < 150; i++) {
      const res = await call('POST', '/v1/queues/jobs/receive', { max: 100 });
      const { messages } = (await res.json()) as { messages: Array<{ body: string; receipt: string }> };
      for (const m of messages) bodies.add(m.body);
      await call('POST', '/v1/queues/jobs/ack', { receipts: messages.map((m) => m.receipt) });
    }
    expect(bodies.size).toBe(150);
  });
});
