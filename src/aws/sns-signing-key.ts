/**
 * The RSA key and certificate Herald signs SNS-style messages with. Either configured (a key
 * and certificate PEM the operator provides) or kept in a directory: generated on first start
 * (RSA-2048 and a self-signed certificate), reused on every start after.
 *
 * Files in the directory: `sns-signing-key.pem` (PKCS#8, mode 0600) and `sns-signing-cert.pem`.
 * They are written under temporary names and renamed, key first, so a crash never leaves a
 * certificate without its key; a key without a certificate gets a new certificate.
 */
import {
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../errors.js';
import { createSelfSignedCertificate, toPem } from './certificate.js';

export const KEY_FILE = 'sns-signing-key.pem';
export const CERT_FILE = 'sns-signing-cert.pem';
export const DEFAULT_COMMON_NAME = 'Herald SNS message signing';
export const DEFAULT_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface SigningIdentity {
  privateKey: KeyObject;
  certificate: X509Certificate;
  /** What SigningCertURL serves. */
  certificatePem: string;
}

export interface KeyDirectoryOptions {
  nowMs: number;
  commonName?: string;
  validityDays?: number;
  /** Injected for tests; RSA-2048 by default. */
  generateKey?: () => KeyObject;
  /** Injected for tests; 16 random bytes by default. */
  serial?: () => Uint8Array;
}

/** A configured key and certificate: the certificate must be for this key. */
export function loadSigningIdentity(
  keyPem: string,
  certificatePem: string,
  where: { key: string; cert: string } = { key: 'the configured key', cert: 'the configured certificate' },
): SigningIdentity {
  let privateKey: KeyObject;
  let certificate: X509Certificate;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (cause) {
    throw new HeraldError('invalid_request', `SNS signing key (${where.key}) is not a PEM private key`, { cause });
  }
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (cause) {
    throw new HeraldError('invalid_request', `SNS signing certificate (${where.cert}) is not a PEM X.509 certificate`, {
      cause,
    });
  }
  if (privateKey.asymmetricKeyType !== 'rsa')
    throw new HeraldError('invalid_request', `SNS signing key (${where.key}) must be an RSA key`);
  if (!certificate.checkPrivateKey(privateKey))
    throw new HeraldError(
      'invalid_request',
      `SNS signing certificate (${where.cert}) does not belong to the signing key (${where.key})`,
    );
  return { privateKey, certificate, certificatePem };
}

function parseKey(keyPem: string, keyPath: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (cause) {
    throw new HeraldError('invalid_request', `SNS signing key (${keyPath}) is not a PEM private key`, { cause });
  }
}

export function issueCertificate(privateKey: KeyObject, opts: KeyDirectoryOptions): string {
  const der = createSelfSignedCertificate({
    privateKey,
    publicKey: createPublicKey(privateKey),
    commonName: opts.commonName ?? DEFAULT_COMMON_NAME,
    // A little slack before now, for subscribers whose clocks run behind.
    notBeforeMs: Math.floor(opts.nowMs / 1000) * 1000 - DAY_MS,
    notAfterMs: Math.floor(opts.nowMs / 1000) * 1000 + (opts.validityDays ?? DEFAULT_VALIDITY_DAYS) * DAY_MS,
    serial: opts.serial?.() ?? randomBytes(16),
  });
  return toPem(der);
}

function writeAtomically(path: string, contents: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents, { mode, flag: 'w' });
  chmodSync(tmp, mode); // the umask may have narrowed or the file may have existed
  renameSync(tmp, path);
}

/**
 * The identity kept in `dir`: created on first use, reused after. A certificate that has
 * expired is reissued for the same key; a certificate without its key is an error, not
 * something to overwrite.
 */
export function loadOrCreateSigningIdentity(dir: string, opts: KeyDirectoryOptions): SigningIdentity {
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  const haveKey = existsSync(keyPath);
  const haveCert = existsSync(certPath);
  if (haveCert && !haveKey)
    throw new HeraldError(
      'invalid_request',
      `${certPath} exists without ${keyPath}: restore the key or remove the certificate`,
    );
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let keyPem: string;
  if (haveKey) keyPem = readFileSync(keyPath, 'utf8');
  else {
    const key = opts.generateKey?.() ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeAtomically(keyPath, keyPem, 0o600);
  }

  const where = { key: keyPath, cert: certPath };
  if (haveCert) {
    const identity = loadSigningIdentity(keyPem, readFileSync(certPath, 'utf8'), where);
    if (Date.parse(identity.certificate.validTo) > opts.nowMs) return identity;
  }
  const certPem = issueCertificate(parseKey(keyPem, keyPath), opts);
  writeAtomically(certPath, certPem, 0o644);
  return loadSigningIdentity(keyPem, certPem, where);
}
