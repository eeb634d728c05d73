// One conformance suite for every BreakerStore. The pure state machine is the model: each
// randomized sequence of operations is applied to the model and to the store, and after every
// step the decisions, transitions and the whole stored state must agree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acquire as modelAcquire,
  command as modelCommand,
  initialState,
  parseBreakerConfig,
  record as modelRecord,
  type BreakerCommand,
  type BreakerConfig,
  type BreakerState,
  type Outcome,
  type Permit,
  type Transition,
} from '../../src/breaker';
import type { BreakerStore } from '../../src/store/store';

type Op =
  | { kind: 'acquire'; leaseMs: number }
  | { kind: 'record'; pick: number; outcome: Outcome; durationMs: number | undefined; worker: string | undefined; skewMs: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'command'; cmd: BreakerCommand };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('acquire' as const), leaseMs: fc.constantFrom(500, 1000, 4000) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      pick: fc.nat(20),
      outcome: fc.constantFrom<Outcome>('success', 'failure', 'failure', 'ignored'),
      // The rate modes read these (slow calls, the quorum); the consecutive mode must ignore them.
      durationMs: fc.constantFrom(undefined, 0, 40, 99.5, 100, 250, 1200),
      worker: fc.constantFrom(undefined, 'worker-1@host', 'worker-2@host', 'worker-3@host', 'wörker-4'),
      // A caller whose clock is behind (or a late outcome): past buckets, and ones older than the window.
      skewMs: fc.constantFrom(0, 0, 0, 0, 700, 1500, 5000, 45_000),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(10, 500, 1000, 1500, 5000, 20_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('command' as const), cmd: fc.constantFrom<BreakerCommand>('forceOpen', 'forceClose', 'reset') }) },
);

const configArb = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 3 }),
  timeoutSeconds: fc.integer({ min: 1, max: 2 }),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
  backoffMultiplier: fc.constantFrom(1, 1.5, 2.7),
  maxTimeoutSeconds: fc.constantFrom(3, 10),
}).chain((c) => fc.record({ halfOpenSuccessThreshold: fc.integer({ min: 1, max: c.halfOpenMaxCalls }) }).map((s) => ({ ...c, ...s })));

/** When to open: the seed's consecutive rule, or a rate mode over a small window (so that sequences cross its edges). */
const modeArb = fc.oneof(
  fc.constant({}),
  fc.record({
    mode: fc.constantFrom('count-window' as const, 'time-window' as const),
    // count: calls; time: seconds (≤ 20: 1 s buckets; 40: 20 buckets of 2 s)
    windowSize: fc.constantFrom(1, 2, 3, 5, 40),
    minimumNumberOfCalls: fc.integer({ min: 1, max: 4 }),
    failureRateThreshold: fc.constantFrom(25, 33.3, 50, 100),
    slowCallDurationMs: fc.constantFrom(100, 1000),
    slowCallRateThreshold: fc.constantFrom(50, 66.7, 100),
    minFailingWorkers: fc.constantFrom(1, 1, 2, 3),
  }).map((m) => (m.mode === 'count-window' ? { ...m, minimumNumberOfCalls: Math.min(m.minimumNumberOfCalls, m.windowSize) } : m)),
);

export interface ConformanceOptions {
  /** A fresh store per property run (or a shared one: breaker names are unique per run). */
  store: () => BreakerStore;
  runs: number;
}

let seq = 0;

export function describeStoreConformance(label: string, opts: ConformanceOptions): void {
  describe(`store conformance: ${label}`, () => {
    it('agrees with the pure model step by step on random sequences', async () => {
      await fc.assert(
        fc.asyncProperty(configArb, modeArb, fc.array(opArb, { minLength: 5, maxLength: 80, size: 'max' }), async (c, m, ops) => {
          const cfg: BreakerConfig = parseBreakerConfig({ collectorName: `conf-${process.pid}-${Date.now()}-${seq++}`, ...c, ...m });
          const store = opts.store();
          let model: BreakerState = initialState(cfg);
          let now = Date.UTC(2026, 0, 1);
          const permits: Permit[] = [];
          // A store names the history of a state it writes fresh (its incarnation): the model adopts that name.
          const adopt = (s: BreakerState) => {
            if (model.incarnation === undefined && s.incarnation !== undefined) model = { ...model, incarnation: s.incarnation };
          };
          // A transition carries its state's epoch and incarnation: the one of a state written fresh is the store's to name.
          const expectTransition = (got: Transition | null, want: Transition | null) =>
            expect(got).toEqual(want && want.incarnation === undefined && got?.incarnation !== undefined ? { ...want, incarnation: got.incarnation } : want);
          for (const op of ops) {
            if (op.kind === 'advance') {
              now += op.ms;
              continue;
            }
            if (op.kind === 'acquire') {
              const m = modelAcquire(cfg, model, now, op.leaseMs);
              const r = await store.acquire(cfg, now, op.leaseMs);
              model = m.state;
              expect(r.result).toEqual(m.result);
              expectTransition(r.transition, m.transition);
              if (m.result.allowed) permits.push(m.result.permit);
            } else if (op.kind === 'record') {
              if (permits.length === 0) continue;
              const [permit] = permits.splice(op.pick % permits.length, 1);
              const at = Math.max(0, now - op.skewMs);
              const details = { durationMs: op.durationMs, worker: op.worker };
              const m = modelRecord(cfg, model, permit, op.outcome, at, details);
              const r = await store.record(cfg, permit, op.outcome, at, details);
              model = m.state;
              expect(r.result).toEqual(m.result);
              expectTransition(r.transition, m.transition);
            } else {
              const m = modelCommand(cfg, model, op.cmd, now);
              const r = await store.command(cfg, op.cmd, now);
              model = m.state;
              adopt(r.state);
              expectTransition(r.transition, m.transition);
              expect(r.state).toEqual(model);
            }
            const stored = await store.load(cfg);
            adopt(stored);
            expect(stored).toEqual(model);
          }
          await store.close?.();
        }),
        { numRuns: opts.runs },
      );
    });

    it('starts closed with fresh statistics for an unknown breaker', async () => {
      const cfg = parseBreakerConfig({ collectorName: `fresh-${seq++}-${Date.now()}` });
      expect(await opts.store().load(cfg)).toEqual(initialState(cfg));
    });

    it('normalises the caller-supplied now and lease: a fraction is floored, a negative or non-finite one is an error naming it', async () => {
      const store = opts.store();
      const cfg = parseBreakerConfig({ collectorName: `args-${seq++}-${Date.now()}`, failureThreshold: 1, timeoutSeconds: 1, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1 });
      const t = Date.UTC(2026, 0, 1);
      const permit: Permit = { breaker: cfg.collectorName, epoch: 0, probeId: null, issuedAt: t, leaseExpiresAt: null };
      for (const bad of [NaN, Infinity, -Infinity, -1]) {
        await expect(store.acquire(cfg, bad, 1000), `acquire now=${bad}`).rejects.toThrow(/\bnow\b.*must be/);
        await expect(store.acquire(cfg, t, bad), `acquire leaseMs=${bad}`).rejects.toThrow(/\bleaseMs\b.*must be/);
        await expect(store.record(cfg, permit, 'failure', bad), `record now=${bad}`).rejects.toThrow(/\bnow\b.*must be/);
        await expect(store.command(cfg, 'forceOpen', bad), `command now=${bad}`).rejects.toThrow(/\bnow\b.*must be/);
      }
      expect(await store.load(cfg)).toEqual(initialState(cfg));
      // The store still serves: fractions are floored, as if the caller had passed whole milliseconds.
      const d = await store.acquire(cfg, t + 0.7, 1000);
      if (!d.result.allowed) throw new Error('expected admission');
      expect(d.result.permit.issuedAt).toBe(t);
      expect((await store.record(cfg, d.result.permit, 'failure', t + 0.9)).result).toEqual({ counted: true, state: 'open' });
      expect(await store.load(cfg)).toMatchObject({ state: 'open', openedAt: t, lastFailureTime: t, lastStateChange: t });
      const probe = await store.acquire(cfg, t + 1000.5, 500.9);
      expect(probe.result).toMatchObject({ allowed: true, probe: true, permit: { issuedAt: t + 1000, leaseExpiresAt: t + 1500 } });
      await store.close?.();
    });

    it('keeps breakers apart by name', async () => {
      const store = opts.store();
      const a = parseBreakerConfig({ collectorName: `a-${seq++}-${Date.now()}`, failureThreshold: 1 });
      const b = parseBreakerConfig({ collectorName: `b-${seq++}-${Date.now()}`, failureThreshold: 1 });
      const now = Date.now();
      const d = await store.acquire(a, now, 1000);
      if (!d.result.allowed) throw new Error('expected admission');
      await store.record(a, d.result.permit, 'failure', now);
      expect((await store.load(a)).state).toBe('open');
      expect((await store.load(b)).state).toBe('closed');
    });
  });
}
