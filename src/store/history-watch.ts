import type { BreakerState } from '../breaker/state';

/**
 * Whether a state now read (its epoch and incarnation) comes from an older history than `seen`,
 * a state this worker saw earlier: the key was deleted (a fresh state has no incarnation until it
 * is written), or an older value was restored (the same incarnation at a lower epoch, or another
 * incarnation). A value written before incarnations gaining one is not a loss.
 */
export function lostSince(seen: BreakerState, epoch: number, incarnation: string | undefined): boolean {
  if (seen.incarnation === undefined) return epoch < seen.epoch;
  if (incarnation === undefined) return true;
  return incarnation !== seen.incarnation || epoch < seen.epoch;
}
