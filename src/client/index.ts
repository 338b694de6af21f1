/** Herald's TypeScript client: `new HeraldClient({ url, apiKey })`. */
export { HeraldClient } from './client.js';
export { HeraldError } from './errors.js';
export type * from './api-types.js';
export type * from '../types.js';
