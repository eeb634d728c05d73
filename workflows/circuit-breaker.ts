/**
 * One workflow per breaker (id `circuit-breaker:{name}`): the operators' handle on a circuit and
 * its audit log. Signals and updates change the shared state through activities (so every worker
 * sees the change at once); the interceptor reports transitions here; a durable timer runs
 * through each open period and then a probe activity, so recovery does not wait for traffic.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { BreakerControlActivities, BreakerSnapshot } from '../activities/breaker-control';
import type { BreakerCommand } from '../src/breaker/permit';
import type { BreakerStatus } from '../src/breaker/status';
import type { Transition } from '../src/breaker/transitions';
import { BREAKER_STATE_ATTRIBUTE, TRANSITION_SIGNAL } from '../src/temporal/names';
import { carriedCommand, carriedEntry, clip, COMMANDS, describeReason, MAX_DETAIL, MAX_REASON, summarize, validTransition, type AuditEntry } from './breaker-inputs';

export type { AuditEntry } from './breaker-inputs';

export interface CommandArgs {
  reason?: string;
}

export const forceOpenSignal = defineSignal<[CommandArgs?]>('forceOpen');
export const forceCloseSignal = defineSignal<[CommandArgs?]>('forceClose');
export const resetSignal = defineSignal<[CommandArgs?]>('reset');
export const transitionSignal = defineSignal<[Transition]>(TRANSITION_SIGNAL);
export const statusQuery = defineQuery<BreakerStatus | null>('status');
export const auditQuery = defineQuery<AuditEntry[]>('audit');
/** Reads the exact status from the store (a query can only return the last one seen). */
export const refreshStatusUpdate = defineUpdate<BreakerStatus>('refreshStatus');
/** A command that answers with the new status, or an error naming what was wrong. */
export const commandUpdate = defineUpdate<BreakerStatus, [{ command: BreakerCommand; reason?: string }]>('command');

export interface CircuitBreakerWorkflowInput {
  name: string;
  /** Carried across continue-as-new. */
  snapshot?: BreakerSnapshot | null;
  audit?: AuditEntry[];
  /** History events after which to continue as new (default 2000). */
  maxEvents?: number;
  /** Longest time between two status refreshes (seconds, default 300). */
  refreshSeconds?: number;
  /** While every half-open slot is taken, how often to look again (ms, default 5000). */
  halfOpenRecheckMs?: number;
  /** Carried across continue-as-new: command signals not applied yet. */
  pending?: { command: BreakerCommand; reason?: string }[];
  /** Carried across continue-as-new: a transition asked for a refresh not made yet. */
  refresh?: boolean;
}

const AUDIT_KEPT = 200;
/** Audit entries carried into continue-as-new. */
const AUDIT_CARRIED = 50;
/** Most commands waiting to be applied: a signal past it is dropped (and audited), an update refused. */
const MAX_PENDING = 100;
/** The fewest history events a run may hold before continuing as new (below it a run could not make progress). */
const MIN_EVENTS = 20;

const CONTROL_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['UnknownBreaker', 'InvalidCommand'] },
};
const { applyBreakerCommand, readBreakerStatus } = proxyActivities<BreakerControlActivities>(CONTROL_ACTIVITY_OPTIONS);

/** The breaker's state as the Temporal UI shows it in User Metadata (markdown). */
function currentDetails(s: BreakerStatus, lastTransition: string | null): string {
  const state = s.forced ? 'open (forced: until forceClose or reset)' : s.state;
  return [
    `**${s.collector_name}**: ${state}`,
    `health ${s.health_score.toFixed(3)} · failures ${s.failure_count}/${s.failure_threshold} · timeout ${s.timeout_seconds} s`,
    `open until: ${s.open_until ?? '—'}`,
    `last transition: ${lastTransition ?? '—'} (state changed ${s.last_state_change ?? 'never'})`,
    `opens ${s.statistics.circuit_opens} · recoveries ${s.statistics.successful_recoveries} ok / ${s.statistics.failed_recoveries} failed`,
  ].join('\n\n');
}

export async function circuitBreakerWorkflow(input: CircuitBreakerWorkflowInput): Promise<void> {
  const { name } = input;
  const { probeBreaker } = proxyActivities<BreakerControlActivities>({ ...CONTROL_ACTIVITY_OPTIONS, summary: `recovery probe of '${name}'` });
  let lastTransition: string | null = null;
  const maxEvents = Math.max(MIN_EVENTS, input.maxEvents ?? 2000);
  const recheckMs = input.halfOpenRecheckMs ?? 5000;
  const refreshMs = (input.refreshSeconds ?? 300) * 1000;
  let snapshot: BreakerSnapshot | null = input.snapshot ?? null;
  const audit: AuditEntry[] = (Array.isArray(input.audit) ? input.audit : []).slice(-AUDIT_CARRIED).flatMap(carriedEntry);
  type Pending = { command: BreakerCommand; reason?: string; done?: (s: BreakerStatus) => void; fail?: (e: unknown) => void };
  const pending: Pending[] = (Array.isArray(input.pending) ? input.pending : []).slice(0, MAX_PENDING).flatMap(carriedCommand);
  let refreshWanted = snapshot === null || input.refresh === true;

  const note = (kind: AuditEntry['kind'], raw: string) => {
    const detail = clip(raw, MAX_DETAIL);
    audit.push({ at: Date.now(), kind, detail });
    if (audit.length > AUDIT_KEPT) audit.splice(0, audit.length - AUDIT_KEPT);
    log.info(`breaker ${name}: ${kind}: ${detail}`, { breaker: name });
  };

  const publish = (next: BreakerSnapshot) => {
    // Half-open has no end time: if traffic took the first probe, keep probing from here so
    // recovery never waits for more traffic.
    snapshot = next.status.state === 'half-open' && next.openUntilMs === null ? { ...next, openUntilMs: Date.now() } : next;
    const s = next.status;
    setCurrentDetails(currentDetails(s, lastTransition));
    upsertSearchAttributes({ [BREAKER_STATE_ATTRIBUTE]: [s.state] });
    upsertMemo({
      state: s.state,
      forced: s.forced,
      health_score: s.health_score,
      timeout_seconds: s.timeout_seconds,
      open_until: s.open_until,
      circuit_opens: s.statistics.circuit_opens,
      last_state_change: s.last_state_change,
    });
  };

  setHandler(statusQuery, () => snapshot?.status ?? null);
  setHandler(auditQuery, () => audit);

  for (const [signal, command] of [
    [forceOpenSignal, 'forceOpen'],
    [forceCloseSignal, 'forceClose'],
    [resetSignal, 'reset'],
  ] as const) {
    setHandler(signal, (args?: CommandArgs) => {
      const { reason, problem } = describeReason(args);
      if (pending.length >= MAX_PENDING) {
        note('rejected-input', `${command} signal dropped: ${MAX_PENDING} commands are already waiting to be applied`);
        return;
      }
      if (problem) note('rejected-input', `${command} signal: ${problem}; the command is applied without a reason`);
      pending.push({ command, reason });
    });
  }

  setHandler(transitionSignal, (t: Transition) => {
    if (!validTransition(t)) {
      note('rejected-input', `malformed transition signal ignored: ${summarize(t)}`);
      return;
    }
    lastTransition = `${t.event}: ${t.from} → ${t.to}`;
    note('transition', `${t.event}: ${t.from} → ${t.to} (timeout ${t.timeoutSeconds}s)`);
    // Ordered by what the store issued, never by `at` (the reporting worker's clock): refresh
    // unless the state last read from the store is this one already, or a later one of its history.
    const known = t.epoch !== undefined && snapshot?.epoch !== undefined && snapshot.incarnation === t.incarnation && t.epoch <= snapshot.epoch;
    if (!known) refreshWanted = true;
  });

  setHandler(
    commandUpdate,
    (args) =>
      new Promise<BreakerStatus>((resolve, reject) => {
        pending.push({ command: args.command, reason: args.reason, done: resolve, fail: reject });
      }),
    {
      validator: (args) => {
        if (typeof args !== 'object' || args === null) throw new Error('command update: expected { command, reason? }');
        if (!COMMANDS.includes(args.command)) throw new Error(`command update: unknown command '${clip(String(args.command), 60)}' (expected ${COMMANDS.join(', ')})`);
        const { problem } = describeReason({ reason: args.reason });
        if (problem) throw new Error(`command update: ${problem}`);
        // As BreakerClient: a reason past the bound is refused, never cut silently.
        if (typeof args.reason === 'string' && args.reason.length > MAX_REASON) {
          throw new Error(`command update: reason is ${args.reason.length} characters long; at most ${MAX_REASON}`);
        }
        if (pending.length >= MAX_PENDING) throw new Error(`command update: ${MAX_PENDING} commands are already waiting to be applied; try again shortly`);
      },
    },
  );

  setHandler(refreshStatusUpdate, async () => {
    publish(await readBreakerStatus({ name }));
    return snapshot!.status;
  });

  const probeDue = () => snapshot?.openUntilMs != null && Date.now() >= snapshot.openUntilMs;
  const overLimit = () => workflowInfo().historyLength >= maxEvents || workflowInfo().continueAsNewSuggested;

  const runCommand = async (cmd: Pending): Promise<void> => {
    const label = `${cmd.command}${cmd.reason ? ` (${cmd.reason})` : ''}`;
    let next: BreakerSnapshot;
    try {
      next = await applyBreakerCommand({ name, command: cmd.command, reason: cmd.reason });
    } catch (e) {
      if (!cmd.fail) throw e;
      // An update is answered with the failure; the workflow goes on.
      note('command', `${label} failed: ${(e as Error).message}`);
      cmd.fail(e);
      return;
    }
    lastTransition = label;
    publish(next);
    note('command', `${label} → ${next.status.state}`);
    cmd.done?.(next.status);
  };

  for (;;) {
    if (pending.length === 0 && !refreshWanted) {
      // Wake for the probe time, or at the latest for a periodic refresh that keeps the memo's
      // counts and health score current even when no transition happens.
      const untilProbe = snapshot?.openUntilMs != null ? Math.max(1, snapshot.openUntilMs - Date.now()) : Infinity;
      const woke = await condition(() => pending.length > 0 || refreshWanted, Math.min(untilProbe, refreshMs));
      if (!woke && !probeDue()) refreshWanted = true;
    }

    // The limit is checked after every command, so that a burst of signals cannot grow this run's
    // history without bound: what is left goes on in the next run (one command per run at least,
    // so the work always moves on).
    while (pending.length > 0) {
      await runCommand(pending.shift()!);
      if (overLimit()) break;
    }

    if (refreshWanted && !overLimit()) {
      refreshWanted = false;
      publish(await readBreakerStatus({ name }));
    }

    // Recovery without traffic: once the open period is over, probe until the circuit settles.
    for (let i = 0; probeDue() && pending.length === 0 && !overLimit() && i < 10; i++) {
      const r = await probeBreaker({ name });
      for (const t of r.transitions) {
        lastTransition = `${t.event}: ${t.from} → ${t.to}`;
        note('transition', `${t.event}: ${t.from} → ${t.to} (timeout ${t.timeoutSeconds}s)`);
      }
      if (r.admitted) note('probe', `probe ${r.outcome} → ${r.status.state}`);
      publish(r);
      if (!r.admitted) {
        if (r.status.state === 'half-open') snapshot = { ...r, openUntilMs: Date.now() + recheckMs };
        // No probe for this upstream: recovery waits for traffic (the interceptor reports it).
        else if (r.openUntilMs !== null && r.openUntilMs <= Date.now()) snapshot = { ...r, openUntilMs: null };
        break;
      }
      if (r.status.state === 'half-open') snapshot = { ...r, openUntilMs: Date.now() };
    }

    if (overLimit()) {
      // Every update is answered in this run. A command update finishes only once its command is
      // applied, so waiting for the handlers alone would wait forever: apply the waiting updates
      // (and the signals queued before them, in order), then wait for the other handlers. Command
      // signals still waiting go on in the next run.
      for (;;) {
        while (pending.some((p) => p.done)) await runCommand(pending.shift()!);
        if (allHandlersFinished()) break;
        await condition(() => allHandlersFinished() || pending.some((p) => p.done));
      }
      await continueAsNew<typeof circuitBreakerWorkflow>({
        ...input,
        snapshot,
        audit: audit.slice(-AUDIT_CARRIED),
        pending: pending.map(({ command, reason }) => ({ command, ...(reason ? { reason } : {}) })),
        refresh: refreshWanted,
      });
    }
  }
}
