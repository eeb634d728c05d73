import { randomBytes } from 'node:crypto';

/**
 * Ids for new incarnations (see BreakerState): a random prefix per process and a counter, so two
 * processes, or two fresh states of one process, never share one. Cheap enough to make one per
 * script call (the script uses it only when it writes a fresh state).
 */
export function incarnationIds(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let n = 0;
  return () => prefix + (n++).toString(36);
}
