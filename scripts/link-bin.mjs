// After a build in a checkout of Herald itself, make `npx herald` and node_modules/.bin/herald
// run this checkout's CLI (npm links bins of dependencies, never of the root package).
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'cli', 'main.js');
chmodSync(bin, 0o755);
// Installed as someone else's dependency there is no node_modules of our own: npm links the bin.
if (existsSync(join(root, 'node_modules'))) {
  const link = join(root, 'node_modules', '.bin', 'herald');
  mkdirSync(dirname(link), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(join('..', '..', 'dist', 'cli', 'main.js'), link);
}
