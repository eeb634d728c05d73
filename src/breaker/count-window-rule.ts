import type { BreakerConfig } from './config';
import type { OpeningRule } from './opening-rule';
import type { BreakerState } from './state';
import { noteWorker, ratesOpen, workersAfter, type CountWindow, type RingChar, type WindowFigures } from './window';

/** The state's count window if it fits the config, else a fresh one. */
const windowOf = (cfg: BreakerConfig, s: BreakerState): CountWindow =>
  s.state === 'closed' && s.window?.kind === 'count' && s.window.size === cfg.windowSize ? s.window : { kind: 'count', size: cfg.windowSize, seq: 0, workers: {}, ring: '' };

function figuresOf(w: CountWindow): WindowFigures {
  let failures = 0;
  let slow = 0;
  for (let i = 0; i < w.ring.length; i++) {
    const c = w.ring[i];
    if (c === 'f' || c === 'x') failures += 1;
    if (c === 's' || c === 'x') slow += 1;
  }
  return { calls: w.ring.length, failures, slow, failingWorkers: workersAfter(w.workers, w.seq - w.size) };
}

/** Rates over the last windowSize calls (a ring of one byte per call). */
export const countWindowRule: OpeningRule = {
  mode: 'count-window',
  record(cfg, s, o) {
    const w0 = windowOf(cfg, s);
    const bad = o.outcome === 'failure' || o.slow;
    const ch: RingChar = o.outcome === 'failure' ? (o.slow ? 'x' : 'f') : o.slow ? 's' : 'o';
    let ring = w0.ring + ch;
    if (ring.length > w0.size) ring = ring.slice(ring.length - w0.size);
    const seq = w0.seq + 1;
    const workers = bad && cfg.minFailingWorkers > 1 ? noteWorker(w0.workers, o.worker, seq, seq - w0.size, cfg.minFailingWorkers) : w0.workers;
    const window: CountWindow = { kind: 'count', size: w0.size, seq, workers, ring };
    return { window, open: bad && ratesOpen(cfg, figuresOf(window)) };
  },
  figures(cfg, s) {
    return figuresOf(windowOf(cfg, s));
  },
};
