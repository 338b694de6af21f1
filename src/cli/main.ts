#!/usr/bin/env node
/**
 * The `herald` command: runs the server (`herald serve`) and drives a running one through
 * the typed client. The program itself is built in program.ts.
 */
import { run } from './program.js';

const code = await run(process.argv.slice(2));
process.exitCode = code;
if (code !== 0) {
  // Exit now if something (a half-started server) would keep the process alive; the timer
  // does not itself hold the process open, so a clean run exits as soon as output is flushed.
  setTimeout(() => process.exit(code), 1_000).unref();
}
