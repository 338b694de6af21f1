import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { isConnectionError } from '../../src/store/postgres/database.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('PostgreSQL errors: connection trouble (503, retry) or a real error', () => {
  it.each([
    ['a refused socket', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset socket', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a terminated backend (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    [
      'a server shutting down (57P02)',
      withCode('terminating connection due to crash of another server process', '57P02'),
    ],
    ['a connection failure class 08', withCode('connection failure', '08006')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ["pg's terminated connection", new Error('Connection terminated unexpectedly')],
    ['a pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['a query stuck on a silent connection', new Error('Query read timeout')],
  ])('%s is connection trouble', (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['a NUL in text', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')],
    ['an error Herald raised itself', new HeraldError('invalid_request', 'Connection terminated (in a message)')],
    ['not an error at all', 'Connection terminated'],
  ])('%s is not', (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});
