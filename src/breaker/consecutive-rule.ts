import type { OpeningRule } from './opening-rule';

/** The seed's rule: failureThreshold failures in a row. It keeps no window (a stored one is dropped). */
export const consecutiveRule: OpeningRule = {
  mode: 'consecutive',
  record: (cfg, s, o) => ({ window: undefined, open: o.outcome === 'failure' && s.failureCount >= cfg.failureThreshold }),
  figures: () => null,
};
