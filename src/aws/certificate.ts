/**
 * A minimal self-signed X.509 v3 certificate (RFC 5280) for an RSA key, so that SNS-style
 * subscribers can fetch Herald's signing certificate from its SigningCertURL and verify
 * message signatures with the usual tools. sha256WithRSAEncryption, subject = issuer = CN,
 * and one extension, basicConstraints cA=FALSE (critical).
 */
import { sign, type KeyObject } from 'node:crypto';
import * as der from './der.js';

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
} as const;

export interface CertificateSpec {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** At most 20 bytes (RFC 5280); made positive by clearing the top bit. Pass 16 random bytes. */
  serial: Uint8Array;
}

const algorithm = () => der.sequence(der.oid(OID.sha256WithRSAEncryption), der.nullValue());
const name = (cn: string) => der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(cn))));
const extension = (id: string, critical: boolean, value: Uint8Array) =>
  der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));

/** The DER certificate. */
export function createSelfSignedCertificate(spec: CertificateSpec): Buffer {
  if (spec.serial.length === 0 || spec.serial.length > 20)
    throw new RangeError('certificate serial must be 1 to 20 bytes');
  if (!(spec.notAfterMs > spec.notBeforeMs)) throw new RangeError('certificate notAfter must be later than notBefore');
  const serial = Buffer.from(spec.serial);
  serial[0] &= 0x7f;
  if (serial.every((b) => b === 0)) serial[serial.length - 1] = 1; // serials must be positive
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    algorithm(),
    name(spec.commonName),
    der.sequence(der.time(spec.notBeforeMs), der.time(spec.notAfterMs)),
    name(spec.commonName),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(
      3,
      der.sequence(
        // cA FALSE is the DEFAULT, which DER leaves out: an empty SEQUENCE. No keyUsage: with
        // one, OpenSSL would not count the certificate as issued by itself (no keyCertSign).
        extension(OID.basicConstraints, true, der.sequence()),
      ),
    ),
  );
  return der.sequence(tbs, algorithm(), der.bitString(sign('sha256', tbs, spec.privateKey)));
}

export function toPem(certificateDer: Uint8Array): string {
  const base64 = Buffer.from(certificateDer).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
