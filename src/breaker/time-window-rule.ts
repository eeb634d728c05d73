import type { BreakerConfig } from './config';
import type { OpeningRule } from './opening-rule';
import type { BreakerState } from './state';
import { bucketMs, noteWorker, ratesOpen, timeBuckets, workersAfter, type TimeWindow, type WindowFigures } from './window';

type Bucket = [number, number, number];

const isEmpty = (b: Bucket): boolean => b[0] === 0 && b[1] === 0 && b[2] === 0;

/** The state's time window if it fits the config, else a fresh one whose head is `at`. */
const windowOf = (cfg: BreakerConfig, s: BreakerState, at: number): TimeWindow =>
  s.state === 'closed' && s.window?.kind === 'time' && s.window.size === cfg.windowSize ? s.window : { kind: 'time', size: cfg.windowSize, head: at, workers: {}, buckets: [[0, 0, 0]] };

/** The buckets moved on to `at` (> head): the ones that left the window dropped, empty trailing ones too. */
function advance(w: TimeWindow, at: number): Bucket[] {
  const n = timeBuckets(w.size);
  const fresh: Bucket[] = Array.from({ length: Math.min(at - w.head, n) }, () => [0, 0, 0] as Bucket);
  const buckets = fresh.concat(w.buckets.map((b) => [b[0], b[1], b[2]] as Bucket)).slice(0, n);
  while (buckets.length > 1 && isEmpty(buckets[buckets.length - 1])) buckets.pop();
  return buckets;
}

/** What the window holds at bucket `at`: the buckets after at - n. */
function figuresAt(cfg: BreakerConfig, w: TimeWindow, at: number): WindowFigures {
  const n = timeBuckets(w.size);
  const f: WindowFigures = { calls: 0, failures: 0, slow: 0, failingWorkers: cfg.minFailingWorkers > 1 ? workersAfter(w.workers, at - n) : 0 };
  w.buckets.forEach((b, i) => {
    if (w.head - i > at - n) {
      f.calls += b[0];
      f.failures += b[1];
      f.slow += b[2];
    }
  });
  return f;
}

/**
 * Rates over the last windowSize seconds, in min(windowSize, 20) buckets: the stored state stays
 * bounded whatever the call rate. A call lands in the bucket of its `now`; one older than the
 * window counts in the totals only (callers' clocks differ a little).
 */
export const timeWindowRule: OpeningRule = {
  mode: 'time-window',
  record(cfg, s, o) {
    const at = Math.floor(o.now / bucketMs(cfg.windowSize));
    const w0 = windowOf(cfg, s, at);
    const n = timeBuckets(w0.size);
    if (at <= w0.head - n) return { window: w0, open: false };
    let head = w0.head;
    let buckets: Bucket[];
    if (at > head) {
      buckets = advance(w0, at);
      head = at;
    } else {
      buckets = w0.buckets.map((b) => [b[0], b[1], b[2]] as Bucket);
    }
    const i = head - at;
    while (buckets.length <= i) buckets.push([0, 0, 0]);
    const bad = o.outcome === 'failure' || o.slow;
    const b = buckets[i];
    b[0] += 1;
    if (o.outcome === 'failure') b[1] += 1;
    if (o.slow) b[2] += 1;
    const workers = bad && cfg.minFailingWorkers > 1 ? noteWorker(w0.workers, o.worker, at, head - n, cfg.minFailingWorkers) : w0.workers;
    const window: TimeWindow = { kind: 'time', size: w0.size, head, workers, buckets };
    return { window, open: bad && ratesOpen(cfg, figuresAt(cfg, window, head)) };
  },
  figures(cfg, s, now) {
    const at = Math.floor(now / bucketMs(cfg.windowSize));
    const w = windowOf(cfg, s, at);
    return figuresAt(cfg, w, Math.max(at, w.head));
  },
};
