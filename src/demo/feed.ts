/**
 * What happens during the demo, as one stream of events: breaker transitions (tapped from the
 * store every worker-side caller goes through), scenario steps, warnings. The live view shows the
 * latest; the plain output prints each as one line.
 */
import type { BreakerConfig, BreakerStore, Logger, Transition } from '..';

export type DemoEventKind = 'demo' | 'scenario' | 'transition' | 'activity' | 'warn' | 'error';

export interface DemoEvent {
  /** ms since epoch */
  at: number;
  kind: DemoEventKind;
  text: string;
  breaker?: string;
  transition?: Transition;
}

export class EventFeed {
  private readonly listeners: ((e: DemoEvent) => void)[] = [];
  private readonly kept: DemoEvent[] = [];
  /** When the first breaker transition was seen (ms since epoch). */
  firstTransitionAt: number | null = null;

  on(listener: (e: DemoEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(kind: DemoEventKind, text: string, extra: Partial<DemoEvent> = {}): void {
    const event: DemoEvent = { at: Date.now(), kind, text, ...extra };
    if (kind === 'transition' && this.firstTransitionAt === null) this.firstTransitionAt = event.at;
    this.kept.push(event);
    if (this.kept.length > 200) this.kept.shift();
    for (const l of this.listeners) l(event);
  }

  recent(n: number): DemoEvent[] {
    return n <= 0 ? [] : this.kept.slice(-n);
  }
}

const clock = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? '?' : new Date(ms).toISOString().slice(11, 19));

/** One sentence per transition, naming what it means for the breaker (opened, failed recovery with backoff…). */
export function describeTransition(t: Transition, previousTimeoutSeconds: number, cfg: BreakerConfig | undefined): string {
  const arrow = `${t.from} → ${t.to}`;
  const probeAt = clock(t.at + t.timeoutSeconds * 1000);
  switch (t.event) {
    case 'opened':
      return `${arrow}: circuit OPENED after ${cfg?.failureThreshold ?? '?'} failures in a row; calls are short-circuited for ${t.timeoutSeconds}s (first probe at ${probeAt}Z)`;
    case 'half-opened':
      return `${arrow}: open period over, recovery probe admitted`;
    case 'reopened':
      return `${arrow}: probe failed: FAILED RECOVERY, backoff ${previousTimeoutSeconds}s → ${t.timeoutSeconds}s (next probe at ${probeAt}Z)`;
    case 'recovered':
      return `${arrow}: ${cfg?.halfOpenSuccessThreshold ?? '?'} probes succeeded: SUCCESSFUL RECOVERY, circuit closed (timeout back to ${t.timeoutSeconds}s)`;
    case 'forced-open':
      return `${arrow}: FORCED OPEN by an operator command (holds until force-close or reset)`;
    case 'forced-closed':
      return `${arrow}: FORCED CLOSED by an operator command (counters cleared, timeout ${t.timeoutSeconds}s)`;
    case 'reset':
      return `${arrow}: RESET by an operator command (counters and backoff cleared)`;
  }
}

/** Per-breaker tallies the store tap keeps (things a status does not count). */
export interface Tally {
  rejected: number;
  probes: number;
}

/**
 * The store every worker-side caller of this process uses (interceptor, breaker-control
 * activities), with each transition reported to the feed and each rejection counted.
 */
export function tapStore(inner: BreakerStore, feed: EventFeed, configs: ReadonlyMap<string, BreakerConfig>, tallies: Map<string, Tally>): BreakerStore {
  const lastTimeout = new Map<string, number>();
  const tally = (name: string): Tally => {
    let t = tallies.get(name);
    if (!t) tallies.set(name, (t = { rejected: 0, probes: 0 }));
    return t;
  };
  const seen = (t: Transition | null) => {
    if (!t) return;
    const cfg = configs.get(t.breaker);
    const previous = lastTimeout.get(t.breaker) ?? cfg?.timeoutSeconds ?? t.timeoutSeconds;
    lastTimeout.set(t.breaker, t.timeoutSeconds);
    feed.emit('transition', describeTransition(t, previous, cfg), { breaker: t.breaker, transition: t });
  };
  return {
    kind: inner.kind,
    async acquire(cfg, now, leaseMs) {
      const reply = await inner.acquire(cfg, now, leaseMs);
      seen(reply.transition);
      if (!reply.result.allowed) tally(cfg.collectorName).rejected += 1;
      else if (reply.result.probe) tally(cfg.collectorName).probes += 1;
      return reply;
    },
    async record(cfg, permit, outcome, now) {
      const reply = await inner.record(cfg, permit, outcome, now);
      seen(reply.transition);
      return reply;
    },
    async command(cfg, cmd, now) {
      const reply = await inner.command(cfg, cmd, now);
      seen(reply.transition);
      return reply;
    },
    load: (cfg) => inner.load(cfg),
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}

/**
 * The app's structured logger, for the demo: warnings and errors become events, and so does each
 * short-circuited call (the SDK logs a rejection only at DEBUG: it is a BENIGN failure); the rest
 * is dropped.
 */
export function feedLogger(feed: EventFeed): Logger {
  const fmt = (msg: string, fields?: Record<string, unknown>) => {
    const rest = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    return `${msg}${rest}`;
  };
  return {
    debug() {},
    info: (msg, fields) => {
      if (msg !== 'call short-circuited' || !fields) return;
      const retry = typeof fields.retryInMs === 'number' ? `; next attempt in ${Math.ceil(fields.retryInMs / 1000)} s` : '';
      feed.emit('activity', `${String(fields.activityType)} short-circuited, the upstream was not called (circuit '${String(fields.breaker)}' is ${String(fields.state)}${retry})`, {
        breaker: fields.breaker as string | undefined,
      });
    },
    warn: (msg, fields) => feed.emit('warn', fmt(msg, fields), { breaker: fields?.breaker as string | undefined }),
    error: (msg, fields) => feed.emit('error', fmt(msg, fields), { breaker: fields?.breaker as string | undefined }),
  };
}
