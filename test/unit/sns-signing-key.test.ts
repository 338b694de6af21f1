import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, toPem } from '../../src/aws/certificate.js';
import {
  CERT_FILE,
  DEFAULT_COMMON_NAME,
  KEY_FILE,
  loadOrCreateSigningIdentity,
  loadSigningIdentity,
} from '../../src/aws/sns-signing-key.js';
import { HeraldError } from '../../src/errors.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = Date.UTC(2026, 10, 23, 11, 0, 0);
const DAY = 86_400_000;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const certificate = (over: Partial<Parameters<typeof createSelfSignedCertificate>[0]> = {}) =>
  createSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: 'Herald test',
    notBeforeMs: NOW - DAY,
    notAfterMs: NOW + 365 * DAY,
    serial: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
    ...over,
  });

describe('createSelfSignedCertificate', () => {
  it("makes a certificate Node's X509Certificate parses, signed by its own key", () => {
    const cert = new X509Certificate(toPem(certificate()));
    expect(cert.subject).toBe('CN=Herald test');
    expect(cert.issuer).toBe('CN=Herald test');
    expect(cert.serialNumber.toLowerCase()).toBe('112233445566778899aabbccddeeff'); // the leading zero byte is dropped
    expect(Date.parse(cert.validFrom)).toBe(NOW - DAY);
    expect(Date.parse(cert.validTo)).toBe(NOW + 365 * DAY);
    expect(cert.ca).toBe(false);
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.verify(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toBe(false);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      publicKey.export({ type: 'spki', format: 'der' }),
    );
    expect(cert.checkIssued(cert)).toBe(true);
  });

  it('writes PEM in 64-column base64 lines between the usual markers', () => {
    const pem = toPem(certificate());
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    for (const line of lines.slice(1, -2)) expect(line).toHaveLength(64);
    expect(Buffer.from(lines.slice(1, -1).join(''), 'base64')).toEqual(certificate());
  });

  it('makes serials positive and never zero', () => {
    expect(new X509Certificate(certificate({ serial: Buffer.from('ff01', 'hex') })).serialNumber.toLowerCase()).toBe(
      '7f01',
    );
    expect(new X509Certificate(certificate({ serial: Buffer.from('0000', 'hex') })).serialNumber).toBe('01');
  });

  it('switches to GeneralizedTime for dates from 2050', () => {
    const cert = new X509Certificate(certificate({ notAfterMs: Date.UTC(2055, 0, 2, 3, 4, 5) }));
    expect(Date.parse(cert.validTo)).toBe(Date.UTC(2055, 0, 2, 3, 4, 5));
  });

  it('refuses a serial that is empty or longer than 20 bytes, and an empty validity', () => {
    expect(() => certificate({ serial: Buffer.alloc(0) })).toThrow(/serial/);
    expect(() => certificate({ serial: Buffer.alloc(21, 1) })).toThrow(/serial/);
    expect(() => certificate({ notAfterMs: NOW - DAY })).toThrow(/notAfter/);
  });

  it.skipIf(!hasOpenssl())(
    'is read by openssl as a v3 sha256WithRSAEncryption certificate with basicConstraints CA:FALSE',
    () => {
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: toPem(certificate()) }).toString();
      expect(text).toMatch(/Version: 3 \(0x2\)/);
      expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
      expect(text).toMatch(/Issuer: CN\s?=\s?Herald test/);
      expect(text).toMatch(/Subject: CN\s?=\s?Herald test/);
      expect(text).toMatch(/Public-Key: \(2048 bit\)/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(text).not.toMatch(/Key Usage/);
      expect(text).toMatch(/Not Before: Nov 22 11:00:00 2026 GMT/);
      expect(text).toMatch(/Not After : Nov 23 11:00:00 2027 GMT/);
      // openssl checks the self-signature too.
      const dir = mkdtempSync(join(tmpdir(), 'herald-cert-'));
      try {
        writeFileSync(join(dir, 'c.pem'), toPem(certificate()));
        const out = execFileSync('openssl', [
          'verify',
          '-check_ss_sig',
          '-partial_chain',
          '-attime',
          String(NOW / 1000),
          '-CAfile',
          join(dir, 'c.pem'),
          join(dir, 'c.pem'),
        ]);
        expect(out.toString()).toMatch(/: OK/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('loadOrCreateSigningIdentity', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-sns-key-'));
    dirs.push(dir);
    return join(dir, 'keys'); // not there yet: created on first use
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const opts = { nowMs: NOW, generateKey: () => privateKey };

  it('generates an RSA-2048 key and a certificate for it on first use, key file mode 0600', () => {
    const dir = freshDir();
    const identity = loadOrCreateSigningIdentity(dir, { nowMs: NOW }); // the real generator, once
    expect(identity.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(identity.certificate.subject).toBe(`CN=${DEFAULT_COMMON_NAME}`);
    expect(identity.certificate.verify(createPublicKey(identity.privateKey))).toBe(true);
    expect(identity.certificatePem).toBe(readFileSync(join(dir, CERT_FILE), 'utf8'));
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, KEY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('reuses the same key and certificate on later starts', () => {
    const dir = freshDir();
    const first = loadOrCreateSigningIdentity(dir, opts);
    let generated = 0;
    const again = loadOrCreateSigningIdentity(dir, {
      nowMs: NOW + 100 * DAY,
      generateKey: () => (generated++, privateKey),
    });
    expect(generated).toBe(0);
    expect(again.certificatePem).toBe(first.certificatePem);
    expect(again.privateKey.export({ type: 'pkcs8', format: 'der' })).toEqual(
      first.privateKey.export({ type: 'pkcs8', format: 'der' }),
    );
  });

  it('dates the certificate from the injected clock, with a day of slack, for the requested days', () => {
    const identity = loadOrCreateSigningIdentity(freshDir(), {
      ...opts,
      validityDays: 30,
      commonName: 'sns.local',
      serial: () => Buffer.of(1, 2, 3),
    });
    expect(Date.parse(identity.certificate.validFrom)).toBe(NOW - DAY);
    expect(Date.parse(identity.certificate.validTo)).toBe(NOW + 30 * DAY);
    expect(identity.certificate.subject).toBe('CN=sns.local');
    expect(identity.certificate.serialNumber).toBe('010203');
  });

  it('reissues an expired certificate for the same key', () => {
    const dir = freshDir();
    const first = loadOrCreateSigningIdentity(dir, { ...opts, validityDays: 10 });
    const later = loadOrCreateSigningIdentity(dir, { ...opts, nowMs: NOW + 10 * DAY });
    expect(later.certificatePem).not.toBe(first.certificatePem);
    expect(later.certificate.checkPrivateKey(first.privateKey)).toBe(true);
    expect(Date.parse(later.certificate.validFrom)).toBe(NOW + 9 * DAY);
    expect(readFileSync(join(dir, CERT_FILE), 'utf8')).toBe(later.certificatePem);
  });

  it('issues a certificate for a key left without one', () => {
    const dir = freshDir();
    const first = loadOrCreateSigningIdentity(dir, opts);
    rmSync(join(dir, CERT_FILE));
    const again = loadOrCreateSigningIdentity(dir, opts);
    expect(again.certificate.checkPrivateKey(first.privateKey)).toBe(true);
    expect(existsSync(join(dir, CERT_FILE))).toBe(true);
  });

  it('refuses a certificate without its key rather than replace it', () => {
    const dir = freshDir();
    loadOrCreateSigningIdentity(dir, opts);
    rmSync(join(dir, KEY_FILE));
    expect(() => loadOrCreateSigningIdentity(dir, opts)).toThrow(
      new RegExp(`${CERT_FILE} exists without .*${KEY_FILE}`),
    );
  });

  it('refuses a directory whose certificate belongs to another key, naming both files', () => {
    const dir = freshDir();
    loadOrCreateSigningIdentity(dir, opts);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    writeFileSync(join(dir, KEY_FILE), other.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadOrCreateSigningIdentity(dir, opts)).toThrow(
      /sns-signing-cert\.pem\) does not belong to the signing key \(.*sns-signing-key\.pem\)/,
    );
    writeFileSync(join(dir, KEY_FILE), 'not a key');
    expect(() => loadOrCreateSigningIdentity(dir, opts)).toThrow(/sns-signing-key\.pem\) is not a PEM private key/);
  });
});

describe('loadSigningIdentity (a configured key and certificate)', () => {
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const certPem = toPem(certificate());

  it('loads a matching pair, in PKCS#8 or PKCS#1 form', () => {
    expect(loadSigningIdentity(keyPem, certPem).certificatePem).toBe(certPem);
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(loadSigningIdentity(pkcs1, certPem).certificate.subject).toBe('CN=Herald test');
  });

  it('refuses garbage, a non-RSA key and a certificate for another key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const otherCert = toPem(certificate({ ...generateKeyPairSync('rsa', { modulusLength: 1024 }) }));
    const cases: Array<[string, string, RegExp]> = [
      ['nope', certPem, /configured key\) is not a PEM private key/],
      [keyPem, 'nope', /configured certificate\) is not a PEM X\.509 certificate/],
      [ec, certPem, /must be an RSA key/],
      [keyPem, otherCert, /does not belong to the signing key/],
    ];
    for (const [k, c, message] of cases) {
      expect(() => loadSigningIdentity(k, c)).toThrow(HeraldError);
      expect(() => loadSigningIdentity(k, c)).toThrow(message);
    }
  });
});
