/**
 * Access keys for the AWS front door. Configured keys win; without any, a pair is generated
 * on first start and kept in `<dataDir>/aws-credentials` (mode 0600), so the front door is
 * never open to unsigned or anonymously signed requests.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAwsCredentials, type HeraldConfig } from '../../config.js';
import { randomToken } from '../../ids.js';

export const CREDENTIALS_FILE = 'aws-credentials';

export function resolveAwsCredentials(config: HeraldConfig): {
  credentials: Record<string, string>;
  generated: { accessKeyId: string; secretAccessKey: string } | null;
} {
  if (Object.keys(config.aws.credentials).length > 0) return { credentials: config.aws.credentials, generated: null };
  const file = join(config.dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    return { credentials: parseAwsCredentials(readFileSync(file, 'utf8').trim(), file), generated: null };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const accessKeyId = `HKIA${randomToken(16)
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
    .slice(0, 16)
    .padEnd(16, 'X')}`;
  const secretAccessKey = randomToken(30).replace(/[^A-Za-z0-9]/g, 'x');
  writeFileSync(file, `${accessKeyId}:${secretAccessKey}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { credentials: { [accessKeyId]: secretAccessKey }, generated: { accessKeyId, secretAccessKey } };
}
