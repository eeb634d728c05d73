import type { Info } from '@temporalio/activity';

/**
 * The `nextRetryDelay` of a rejection: at least 1 ms (Temporal rejects 0), and never past the
 * activity's schedule-to-close deadline. Temporal does not cap `nextRetryDelay` by the retry
 * policy's maximum interval, and an activity whose next attempt would start after its deadline
 * times out instead of waiting: `capped` says the wait did not fit.
 */
export function retryDelayWithin(
  info: Pick<Info, 'scheduledTimestampMs' | 'scheduleToCloseTimeoutMs'>,
  wantedMs: number,
  now: number,
): { ms: number; wantedMs: number; capped: boolean } {
  const wanted = Math.max(1, Math.ceil(wantedMs));
  if (!(info.scheduleToCloseTimeoutMs > 0)) return { ms: wanted, wantedMs: wanted, capped: false };
  const left = Math.max(1, Math.floor(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - now));
  return wanted <= left ? { ms: wanted, wantedMs: wanted, capped: false } : { ms: left, wantedMs: wanted, capped: true };
}
