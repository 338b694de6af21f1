/**
 * A TLS front for Herald's AWS endpoint on 127.0.0.1, as a deployment would put one: subscribers
 * (and sns-validator, which only fetches certificates over HTTPS) reach SigningCertURL,
 * SubscribeURL and UnsubscribeURL at https://localhost:<port>, and each request is forwarded
 * to Herald. Its own certificate (CN=localhost) is trusted through https.globalAgent.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCertificate, toPem } from '../../src/aws/certificate.js';

export interface TlsProxy {
  url: string;
  /** Where requests go (set once Herald listens). */
  target: string;
  close(): Promise<void>;
}

export async function startTlsProxy(): Promise<TlsProxy> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const cert = toPem(
    createSelfSignedCertificate({
      privateKey,
      publicKey: createPublicKey(privateKey),
      commonName: 'localhost',
      notBeforeMs: now - 86_400_000,
      notAfterMs: now + 86_400_000,
      serial: Buffer.from('0a0b0c0d', 'hex'),
    }),
  );
  const proxy = { target: '' } as TlsProxy;
  const server = https.createServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert }, (req, res) => {
    fetch(proxy.target + (req.url ?? '/'), { method: req.method })
      .then(async (r) => {
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await r.arrayBuffer()));
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const savedCa = https.globalAgent.options.ca;
  https.globalAgent.options.ca = cert;
  proxy.url = `https://localhost:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    https.globalAgent.options.ca = savedCa;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}

/** GET over HTTPS through the global agent (which trusts the proxy). */
export function httpsGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      })
      .on('error', reject);
  });
}
