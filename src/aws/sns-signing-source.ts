/**
 * Where the SNS signing identity comes from, in order:
 *  1. a configured key and certificate (HERALD_SNS_SIGNING_KEY_FILE / _CERT_FILE);
 *  2. a store shared by several nodes (PostgreSQL): the first node to need it generates a key
 *     and certificate and stores them; every node signs with that one pair, so a subscriber
 *     that fetched the certificate from any node verifies messages sent by all of them;
 *  3. otherwise (SQLite, one node) `<dataDir>/sns-signing`, generated on first use.
 * Resolved once, on first use: RSA key generation is not paid by Herald instances that never
 * sign an SNS message.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeraldConfig } from '../config.js';
import type { Store } from '../store/store.js';
import {
  issueCertificate,
  loadOrCreateSigningIdentity,
  loadSigningIdentity,
  type SigningIdentity,
} from './sns-signing-key.js';

export function signingIdentitySource(config: HeraldConfig, store: Store): () => Promise<SigningIdentity> {
  let identity: Promise<SigningIdentity> | null = null;
  const resolve = async (): Promise<SigningIdentity> => {
    if (config.aws.snsSigningKeyFile || config.aws.snsSigningCertFile) {
      if (!config.aws.snsSigningKeyFile || !config.aws.snsSigningCertFile)
        throw new Error('HERALD_SNS_SIGNING_KEY_FILE and HERALD_SNS_SIGNING_CERT_FILE must be set together');
      return loadSigningIdentity(
        readFileSync(config.aws.snsSigningKeyFile, 'utf8'),
        readFileSync(config.aws.snsSigningCertFile, 'utf8'),
        { key: config.aws.snsSigningKeyFile, cert: config.aws.snsSigningCertFile },
      );
    }
    if (store.sharedSigningIdentity) {
      const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const candidate = {
        keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
        certPem: issueCertificate(key, { nowMs: Date.now() }),
      };
      const stored = await store.sharedSigningIdentity(candidate);
      return loadSigningIdentity(stored.keyPem, stored.certPem, { key: 'the database', cert: 'the database' });
    }
    return loadOrCreateSigningIdentity(join(config.dataDir, 'sns-signing'), { nowMs: Date.now() });
  };
  return () => {
    identity ??= resolve();
    identity.catch(() => (identity = null)); // a failure (say, a database outage) is retried next time
    return identity;
  };
}
