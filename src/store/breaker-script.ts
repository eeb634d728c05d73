import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState, CircuitStateName } from '../breaker/state';
import type { Decision, RecordResult, Transition, TransitionEvent } from '../breaker/transitions';
import { workerKey } from '../breaker/window';
import { incarnationIds } from './incarnation';
import type { RedisClientLike } from './redis-client';
import type { StoreReply } from './store';

const LUA = readFileSync(join(__dirname, 'lua', 'breaker.lua'), 'utf8');
const VERSION = createHash('sha1').update(LUA).digest('hex').slice(0, 12);
/** The EVAL command's name on the client: one per script version, so that two versions never collide. */
const COMMAND = `temporalCircuitBreaker_${VERSION}`;
/** The Redis Functions library and its one function, named by version for the same reason. */
export const FUNCTION_NAME = `temporal_circuit_breaker_${VERSION}`;
const LIBRARY = `#!lua name=${FUNCTION_NAME}\n${LUA}\nredis.register_function('${FUNCTION_NAME}', main)\n`;
const EVAL_SCRIPT = `${LUA}\nreturn main(KEYS, ARGV)\n`;

/** A server without Functions (Redis 6), or an ACL that denies FCALL or FUNCTION LOAD: EVALSHA from then on. */
const NO_FUNCTIONS = /unknown command|unknown subcommand|NOPERM/i;
const NOT_LOADED = /Function not found/i;

/** A reply of the script (see the top of lua/breaker.lua): absent keys are null or false. */
interface ScriptReply {
  state: BreakerState;
  repaired?: string;
  allowed?: boolean;
  probe?: boolean;
  probeId?: number;
  leaseExpiresAt?: number;
  retryAfterMs?: number;
  event?: TransitionEvent;
  from?: CircuitStateName;
  /** A record's, one per outcome. */
  results?: OutcomeReply[];
}

/** The state a transition led to, as a reply names it. */
type TransitionTarget = Pick<BreakerState, 'epoch' | 'incarnation' | 'timeoutSeconds'> & { state: CircuitStateName };

/** One outcome's result in a record's reply. */
interface OutcomeReply {
  counted: boolean;
  circuit: CircuitStateName;
  lost?: string;
  /** With a transition: the event, and the state it led to. */
  event?: TransitionEvent;
  from?: CircuitStateName;
  to?: TransitionTarget;
}

/** One outcome to record. */
export interface RecordEntry {
  permit: Permit;
  outcome: Outcome;
  now: number;
  details?: OutcomeDetails;
}

type Scripted = (key: string, ...args: (string | number)[]) => Promise<string>;

/** The breaker's one script on one client, and the one reader of its replies. */
export class BreakerScript {
  /** The script's settings argument, built once per (frozen) config object: 0.45 of the library's 4.1 us per call (a client that answers at once, 2026-12-01). */
  private readonly settingsOf = new WeakMap<BreakerConfig, string>();
  /** The incarnation of a state a call writes fresh (the script uses it only then). */
  private readonly nonce = incarnationIds();
  private readonly evalsha: Scripted;
  /**
   * FCALL while the server has Functions and lets this client use them: the library's definitions
   * run once per load instead of on every call, and its memos last. bench:store 2026-12-02, same
   * rounds, calls/INCR with FCALL (row redis) vs EVALSHA (row redis-eval): 0.46 vs 0.39 (1p x 1c),
   * 0.63 vs 0.57 (1 x 16), 0.44 vs 0.31 (4 x 1), 0.43 vs 0.30 (4 x 16); a one-outcome record 42 us
   * of Redis time against 86 us (INFO commandstats).
   */
  private useFunctions: boolean;
  /** The library's load in progress, shared by every call that found it missing. */
  private loading: Promise<void> | null = null;

  constructor(
    private readonly redis: RedisClientLike,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: EVAL_SCRIPT });
    const command = (redis as unknown as Record<string, Scripted>)[COMMAND];
    this.evalsha = command.bind(redis);
    this.useFunctions = typeof redis.fcall === 'function' && (typeof redis.nodes === 'function' || typeof redis.function === 'function');
  }

  private run(key: string, op: string, now: number, cfg: BreakerConfig, ...rest: (string | number)[]): Promise<ScriptReply> {
    const args = [op, now, this.ttlSeconds, this.settings(cfg), this.nonce(), ...rest];
    return (this.useFunctions ? this.fcall(key, args) : this.evalsha(key, ...args)).then(parseReply);
  }

  /** FCALL; a missing library is loaded (on every master of a Cluster) and the call sent again. */
  private async fcall(key: string, args: (string | number)[]): Promise<string> {
    try {
      return (await this.redis.fcall!(FUNCTION_NAME, 1, key, ...args)) as string;
    } catch (e) {
      const message = String((e as Error)?.message);
      if (NO_FUNCTIONS.test(message)) return this.withoutFunctions(key, args);
      if (!NOT_LOADED.test(message)) throw e;
    }
    try {
      await (this.loading ??= this.loadLibrary().finally(() => (this.loading = null)));
    } catch (e) {
      if (NO_FUNCTIONS.test(String((e as Error)?.message))) return this.withoutFunctions(key, args);
      throw e;
    }
    try {
      return (await this.redis.fcall!(FUNCTION_NAME, 1, key, ...args)) as string;
    } catch (e) {
      // A node the load did not reach (a Cluster's new master, say): this call by EVALSHA; the next one tries again.
      if (NOT_LOADED.test(String((e as Error)?.message))) return this.evalsha(key, ...args);
      throw e;
    }
  }

  private withoutFunctions(key: string, args: (string | number)[]): Promise<string> {
    this.useFunctions = false;
    return this.evalsha(key, ...args);
  }

  private async loadLibrary(): Promise<void> {
    const targets = typeof this.redis.nodes === 'function' ? this.redis.nodes('master') : [this.redis as Required<Pick<RedisClientLike, 'function'>>];
    await Promise.all(targets.map((node) => node.function('LOAD', 'REPLACE', LIBRARY)));
  }

  /**
   * 'failureThreshold,timeoutSeconds,halfOpenMaxCalls,halfOpenSuccessThreshold,backoffMultiplier,maxTimeoutSeconds',
   * then for a rate mode ',count|time,windowSize,slowCallDurationMs,minimumNumberOfCalls,failureRateThreshold,slowCallRateThreshold,minFailingWorkers'
   */
  private settings(cfg: BreakerConfig): string {
    let s = this.settingsOf.get(cfg);
    if (s === undefined) {
      const c = cfg;
      const rate = [c.mode === 'count-window' ? 'count' : 'time', c.windowSize, c.slowCallDurationMs, c.minimumNumberOfCalls, c.failureRateThreshold, c.slowCallRateThreshold, c.minFailingWorkers];
      s = [c.failureThreshold, c.timeoutSeconds, c.halfOpenMaxCalls, c.halfOpenSuccessThreshold, c.backoffMultiplier, c.maxTimeoutSeconds, ...(c.mode === 'consecutive' ? [] : rate)].join(',');
      if (Object.isFrozen(cfg)) this.settingsOf.set(cfg, s);
    }
    return s;
  }

  async acquire(key: string, cfg: BreakerConfig, now: number, leaseMs: number): Promise<ScriptStoreReply<Decision>> {
    const r = await this.run(key, 'acquire', now, cfg, leaseMs);
    const { epoch, incarnation, state } = r.state;
    if (!r.allowed) return reply(cfg, r, { allowed: false, state, retryAfterMs: r.retryAfterMs ?? null }, now);
    const permit: Permit = { breaker: cfg.collectorName, epoch, probeId: r.probeId ?? null, issuedAt: now, leaseExpiresAt: r.leaseExpiresAt ?? null };
    if (incarnation !== undefined) permit.incarnation = incarnation;
    return reply(cfg, r, { allowed: true, state, probe: r.probe === true, permit }, now);
  }

  /**
   * Outcomes of one breaker, applied in order by one script call as if each were its own; one
   * reply each (the state in each is the state after the last).
   */
  async record(key: string, cfg: BreakerConfig, entries: readonly RecordEntry[]): Promise<ScriptStoreReply<RecordResult>[]> {
    const args: (string | number)[] = [];
    for (const { permit, outcome, now, details } of entries) {
      const d = details?.durationMs;
      const duration = cfg.mode !== 'consecutive' && d !== undefined && Number.isFinite(d) ? d : -1;
      const worker = cfg.minFailingWorkers > 1 ? workerKey(details?.worker) : '';
      args.push(permit.epoch, permit.probeId ?? -1, outcome, permit.incarnation ?? '', permit.leaseExpiresAt ?? -1, duration, worker, now);
    }
    const r = await this.run(key, 'record', entries[entries.length - 1].now, cfg, ...args);
    const results = r.results ?? [];
    if (results.length !== entries.length) throw new Error(`breaker script answered ${results.length} outcomes for ${entries.length}`);
    return results.map((o, i) => {
      const out: ScriptStoreReply<RecordResult> = { result: { counted: o.counted, state: o.circuit }, transition: o.to ? transitionTo(cfg, o.event, o.from, o.to, entries[i].now) : null, state: r.state };
      if (i === 0 && r.repaired !== undefined) out.repaired = r.repaired;
      if (o.lost !== undefined) out.lost = o.lost;
      return out;
    });
  }

  async command(key: string, cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<ScriptStoreReply<null>> {
    return reply(cfg, await this.run(key, 'command', now, cfg, cmd), null, now);
  }

  /** The state, a corrupt value repaired (written back only then). */
  async load(key: string, cfg: BreakerConfig, now: number): Promise<ScriptStoreReply<null>> {
    return reply(cfg, await this.run(key, 'load', now, cfg), null, now);
  }

  /** Adds totals counted elsewhere (an in-process fallback) to the shared statistics. */
  async merge(key: string, cfg: BreakerConfig, now: number, successes: number, failures: number): Promise<ScriptStoreReply<null>> {
    return reply(cfg, await this.run(key, 'merge', now, cfg, successes, failures), null, now);
  }
}

/** A store reply that also says what the script found: a repaired value, a permit from a lost history. */
export type ScriptStoreReply<R> = StoreReply<R> & { state: BreakerState; repaired?: string; lost?: string };

/** The script wrote this JSON itself from a state it validated, so it is parsed without a second check. */
const parseReply = (json: string): ScriptReply => JSON.parse(json) as ScriptReply;

function reply<R>(cfg: BreakerConfig, r: ScriptReply, result: R, now: number): ScriptStoreReply<R> {
  const out: ScriptStoreReply<R> = { result, transition: transitionTo(cfg, r.event, r.from, r.state, now), state: r.state };
  if (r.repaired !== undefined) out.repaired = r.repaired;
  return out;
}

/**
 * The transition a reply reports, as the model builds it (transitions.ts): to the state it led
 * to, with that state's epoch, incarnation and open period. An acquire or command reply names
 * its final state; a record reply names each outcome's (a later outcome of the same call can only
 * add to the totals).
 */
function transitionTo(cfg: BreakerConfig, event: TransitionEvent | undefined, from: CircuitStateName | undefined, to: TransitionTarget, now: number): Transition | null {
  if (event === undefined || from === undefined) return null;
  const t: Transition = { breaker: cfg.collectorName, event, from, to: to.state, at: now, timeoutSeconds: to.timeoutSeconds, epoch: to.epoch };
  if (to.incarnation !== undefined) t.incarnation = to.incarnation;
  return t;
}
