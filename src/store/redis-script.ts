import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState, CircuitStateName } from '../breaker/state';
import type { Decision, RecordResult, Transition, TransitionEvent } from '../breaker/transitions';
import { workerKey } from '../breaker/window';
import { incarnationIds } from './incarnation';
import { SnapshotDecisions } from './snapshot-decision';
import type { StoreReply } from './store';
import type { RedisClientLike } from './redis-client';

const LUA = readFileSync(join(__dirname, 'lua', 'breaker.lua'), 'utf8');
const SHA = createHash('sha1').update(LUA).digest('hex');

type Reply = (string | number)[];

/** Runs the breaker script: EVALSHA, falling back to EVAL once when the server lacks it. */
export class BreakerScript {
  /** The script's settings argument, built once per (frozen) config object. */
  private readonly settingsOf = new WeakMap<BreakerConfig, string>();
  private readonly snapshots = new SnapshotDecisions();
  /** The last argument of every call: the incarnation of a state the call writes fresh. */
  private readonly nonce = incarnationIds();

  constructor(
    private readonly redis: RedisClientLike,
    private readonly ttlSeconds: number,
  ) {}

  private run(key: string, op: string, now: number, cfg: BreakerConfig, ...rest: (string | number)[]): Promise<Reply> {
    return this.runThen((r) => r as Reply, key, op, now, cfg, ...rest);
  }

  /** EVALSHA, then `parse` on its reply; EVAL once when the server does not have the script. */
  private runThen<T>(parse: (r: Reply | number) => T, key: string, op: string, now: number, cfg: BreakerConfig, ...rest: (string | number)[]): Promise<T> {
    const settings = this.settings(cfg);
    const nonce = this.nonce();
    return (this.redis.evalsha(SHA, 1, key, op, now, this.ttlSeconds, settings, ...rest, nonce) as Promise<Reply | number>).then(parse, (e: unknown) => {
      if (!String((e as Error)?.message).includes('NOSCRIPT')) throw e;
      return (this.redis.eval(LUA, 1, key, op, now, this.ttlSeconds, settings, ...rest, nonce) as Promise<Reply | number>).then(parse);
    });
  }

  /**
   * 'failureThreshold,timeoutSeconds,halfOpenMaxCalls,halfOpenSuccessThreshold,backoffMultiplier,maxTimeoutSeconds',
   * then for a rate mode ',count|time,windowSize,slowCallDurationMs,minimumNumberOfCalls,failureRateThreshold,slowCallRateThreshold,minFailingWorkers'
   */
  private settings(cfg: BreakerConfig): string {
    let s = this.settingsOf.get(cfg);
    if (s === undefined) {
      s = [
        cfg.failureThreshold,
        cfg.timeoutSeconds,
        cfg.halfOpenMaxCalls,
        cfg.halfOpenSuccessThreshold,
        cfg.backoffMultiplier,
        cfg.maxTimeoutSeconds,
        ...(cfg.mode === 'consecutive'
          ? []
          : [
              cfg.mode === 'count-window' ? 'count' : 'time',
              cfg.windowSize,
              cfg.slowCallDurationMs,
              cfg.minimumNumberOfCalls,
              cfg.failureRateThreshold,
              cfg.slowCallRateThreshold,
              cfg.minFailingWorkers,
            ]),
      ].join(',');
      if (Object.isFrozen(cfg)) this.settingsOf.set(cfg, s);
    }
    return s;
  }

  /** One GET when the decision changes nothing (see SnapshotDecisions), else one script call. */
  acquire(key: string, cfg: BreakerConfig, now: number, leaseMs: number): Promise<Parsed<Decision>> {
    // Promise callbacks rather than an async function: this is every activity's path.
    return this.redis.get(key).then(
      (raw) => {
        const decided = this.snapshots.decide(key, cfg, raw, now, leaseMs);
        return decided === null ? this.acquireScripted(key, cfg, now, leaseMs) : decided;
      },
      (e: unknown) => {
        if (!String((e as Error)?.message).startsWith('WRONGTYPE')) throw e;
        return this.acquireScripted(key, cfg, now, leaseMs); // the script replaces the value and reports it
      },
    );
  }

  /** The state as stored, read with one GET and nothing written; undefined when it does not validate. */
  async peek(key: string, cfg: BreakerConfig): Promise<BreakerState | undefined> {
    return this.snapshots.read(key, cfg, await this.redis.get(key));
  }

  /** The acquire script alone: for a decision already known to write. */
  async acquireScripted(key: string, cfg: BreakerConfig, now: number, leaseMs: number): Promise<Parsed<Decision>> {
    const r = await this.run(key, 'acquire', now, cfg, leaseMs);
    if (r.length === 3) {
      // The hot path: admitted in the closed state.
      const permit: Permit = { breaker: cfg.collectorName, epoch: r[1] as number, probeId: null, issuedAt: now, leaseExpiresAt: null };
      if (r[2]) permit.incarnation = r[2] as string;
      return { result: { allowed: true, state: 'closed', probe: false, permit }, transition: null, state: undefined, repaired: r[0] as string };
    }
    const [repaired, allowed, stateName, probe, epoch, probeId, retryAfterMs, leaseExpiresAt, event, from, json, incarnation] = r;
    const state = json ? parseState(json as string) : undefined;
    const s = stateName as CircuitStateName;
    const result: Decision = allowed
      ? {
          allowed: true,
          state: s,
          probe: probe === 1,
          permit: {
            breaker: cfg.collectorName,
            epoch: epoch as number,
            ...(incarnation ? { incarnation: incarnation as string } : {}),
            probeId: probeId === -1 ? null : (probeId as number),
            issuedAt: now,
            leaseExpiresAt: leaseExpiresAt === -1 ? null : (leaseExpiresAt as number),
          },
        }
      : { allowed: false, state: s, retryAfterMs: retryAfterMs === -1 ? null : (retryAfterMs as number) };
    return { result, transition: toTransition(cfg, event, from, state, now), state, repaired: repaired as string };
  }

  record(key: string, cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<Parsed<RecordResult>> {
    const parse = (r: Reply | number): Parsed<RecordResult> => {
      // The hot path's bare integer: the breaker was and stays closed, nothing repaired.
      if (typeof r === 'number') return r === 1 ? COUNTED_CLOSED : UNCOUNTED_CLOSED;
      const [repaired, counted, stateName, event = '', from = '', json = '', lost = ''] = r;
      const state = json ? parseState(json as string) : undefined;
      const reply: Parsed<RecordResult> = {
        result: { counted: counted === 1, state: stateName as CircuitStateName },
        transition: toTransition(cfg, event, from, state, now),
        state,
        repaired: repaired as string,
      };
      if (lost) reply.lost = lost as string;
      return reply;
    };
    if (cfg.mode === 'consecutive') {
      return this.runThen(parse, key, 'record', now, cfg, permit.epoch, permit.probeId ?? -1, outcome, permit.incarnation ?? '', permit.leaseExpiresAt ?? -1);
    }
    // A rate mode: its own op (the consecutive hot path stays as it was), with the call's duration and worker.
    const d = details?.durationMs;
    const duration = d !== undefined && Number.isFinite(d) ? d : -1;
    const worker = cfg.minFailingWorkers > 1 ? workerKey(details?.worker) : '';
    return this.runThen(parse, key, 'recordw', now, cfg, permit.epoch, permit.probeId ?? -1, outcome, permit.incarnation ?? '', permit.leaseExpiresAt ?? -1, duration, worker);
  }

  async command(key: string, cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<Parsed<null> & { state: BreakerState }> {
    const [repaired, event, from, json] = await this.run(key, 'command', now, cfg, cmd);
    const state = parseState(json as string);
    return { result: null, transition: toTransition(cfg, event, from, state, now), state, repaired: repaired as string };
  }

  async load(key: string, cfg: BreakerConfig, now: number): Promise<{ state: BreakerState; repaired: string }> {
    const [repaired, json] = await this.run(key, 'load', now, cfg);
    return { state: parseState(json as string), repaired: repaired as string };
  }

  async merge(key: string, cfg: BreakerConfig, now: number, successes: number, failures: number): Promise<{ state: BreakerState; repaired: string }> {
    const [repaired, json] = await this.run(key, 'merge', now, cfg, successes, failures);
    return { state: parseState(json as string), repaired: repaired as string };
  }
}

export type Parsed<R> = StoreReply<R> & {
  repaired: string;
  /** Set by a record whose permit came from a history the key no longer holds: why ('key missing', 'older value restored'). */
  lost?: string;
};

// Shared (frozen) replies for the record hot path: every successful call while closed gets one.
const COUNTED_CLOSED: Parsed<RecordResult> = Object.freeze({ result: Object.freeze({ counted: true, state: 'closed' as const }), transition: null, state: undefined, repaired: '' });
const UNCOUNTED_CLOSED: Parsed<RecordResult> = Object.freeze({ result: Object.freeze({ counted: false, state: 'closed' as const }), transition: null, state: undefined, repaired: '' });

/** The script wrote this JSON itself after validating it, so it is parsed without a second check. */
function parseState(json: string): BreakerState {
  return JSON.parse(json) as BreakerState;
}

function toTransition(
  cfg: BreakerConfig,
  event: string | number,
  from: string | number,
  state: BreakerState | undefined,
  now: number,
): Transition | null {
  if (!event || !state) return null;
  // As the model builds it (transitions.ts): the epoch and incarnation of the state it led to.
  const t: Transition = {
    breaker: cfg.collectorName,
    event: event as TransitionEvent,
    from: from as CircuitStateName,
    to: state.state,
    at: now,
    timeoutSeconds: state.timeoutSeconds,
    epoch: state.epoch,
  };
  if (state.incarnation !== undefined) t.incarnation = state.incarnation;
  return t;
}
