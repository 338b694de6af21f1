// Placeholder: the serve command's implementation lands with the server (owned by the lead).
import type { ConfigOverrides } from '../config.js';

/** Start Herald in the foreground: prints the API key on first start, stops cleanly on SIGTERM/SIGINT. */
export async function runServe(_overrides: ConfigOverrides): Promise<void> {
  throw new Error('not yet implemented');
}
