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

export interface CommandArgs {
  reason?: string;
}

export interface AuditEntry {
  at: number;
  kind: 'command' | 'transition' | 'probe' | 'rejected-input';
  detail: string;
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
}

const COMMANDS: readonly BreakerCommand[] = ['forceOpen', 'forceClose', 'reset'];
const AUDIT_KEPT = 200;

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

function describeReason(args: unknown): { reason?: string; problem?: string } {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) return { problem: `expected { reason?: string }, got ${JSON.stringify(args)}` };
  const reason = (args as { reason?: unknown }).reason;
  if (reason === undefined) return {};
  if (typeof reason !== 'string') return { problem: `reason must be a string, got ${JSON.stringify(reason)}` };
  return { reason: reason.slice(0, 500) };
}

function validTransition(t: unknown): t is Transition {
  const x = t as Partial<Transition> | null;
  return (
    typeof x === 'object' && x !== null && typeof x.event === 'string' && typeof x.at === 'number' &&
    typeof x.timeoutSeconds === 'number' && ['closed', 'open', 'half-open'].includes(x.to as string)
  );
}

export async function circuitBreakerWorkflow(input: CircuitBreakerWorkflowInput): Promise<void> {
  const { name } = input;
  const { probeBreaker } = proxyActivities<BreakerControlActivities>({ ...CONTROL_ACTIVITY_OPTIONS, summary: `recovery probe of '${name}'` });
  let lastTransition: string | null = null;
  const maxEvents = input.maxEvents ?? 2000;
  const recheckMs = input.halfOpenRecheckMs ?? 5000;
  const refreshMs = (input.refreshSeconds ?? 300) * 1000;
  let snapshot: BreakerSnapshot | null = input.snapshot ?? null;
  const audit: AuditEntry[] = [...(input.audit ?? [])];
  const pending: { command: BreakerCommand; reason?: string; done?: (s: BreakerStatus) => void }[] = [];
  let refreshWanted = snapshot === null;
  let lastTransitionAt = 0;

  const note = (kind: AuditEntry['kind'], detail: string) => {
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
      if (problem) note('rejected-input', `${command} signal: ${problem}; the command is applied without a reason`);
      pending.push({ command, reason });
    });
  }

  setHandler(transitionSignal, (t: Transition) => {
    if (!validTransition(t)) {
      note('rejected-input', `malformed transition signal ignored: ${JSON.stringify(t)}`);
      return;
    }
    lastTransition = `${t.event}: ${t.from} → ${t.to}`;
    note('transition', `${t.event}: ${t.from} → ${t.to} (timeout ${t.timeoutSeconds}s)`);
    if (t.at >= lastTransitionAt) {
      lastTransitionAt = t.at;
      refreshWanted = true;
    }
  });

  setHandler(
    commandUpdate,
    (args) =>
      new Promise<BreakerStatus>((resolve) => {
        pending.push({ command: args.command, reason: args.reason, done: resolve });
      }),
    {
      validator: (args) => {
        if (typeof args !== 'object' || args === null) throw new Error('command update: expected { command, reason? }');
        if (!COMMANDS.includes(args.command)) throw new Error(`command update: unknown command '${String(args.command)}' (expected ${COMMANDS.join(', ')})`);
        const { problem } = describeReason({ reason: args.reason });
        if (problem) throw new Error(`command update: ${problem}`);
      },
    },
  );

  setHandler(refreshStatusUpdate, async () => {
    publish(await readBreakerStatus({ name }));
    return snapshot!.status;
  });

  const probeDue = () => snapshot?.openUntilMs != null && Date.now() >= snapshot.openUntilMs;

  for (;;) {
    if (pending.length === 0 && !refreshWanted) {
      // Wake for the probe time, or at the latest for a periodic refresh that keeps the memo's
      // counts and health score current even when no transition happens.
      const untilProbe = snapshot?.openUntilMs != null ? Math.max(1, snapshot.openUntilMs - Date.now()) : Infinity;
      const woke = await condition(() => pending.length > 0 || refreshWanted, Math.min(untilProbe, refreshMs));
      if (!woke && !probeDue()) refreshWanted = true;
    }

    while (pending.length > 0) {
      const cmd = pending.shift()!;
      const next = await applyBreakerCommand({ name, command: cmd.command, reason: cmd.reason });
      lastTransition = `${cmd.command}${cmd.reason ? ` (${cmd.reason})` : ''}`;
      publish(next);
      note('command', `${cmd.command}${cmd.reason ? ` (${cmd.reason})` : ''} → ${next.status.state}`);
      cmd.done?.(next.status);
    }

    if (refreshWanted) {
      refreshWanted = false;
      publish(await readBreakerStatus({ name }));
    }

    // Recovery without traffic: once the open period is over, probe until the circuit settles.
    for (let i = 0; probeDue() && pending.length === 0 && i < 10; i++) {
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

    if (workflowInfo().historyLength >= maxEvents || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (pending.length === 0) {
        await continueAsNew<typeof circuitBreakerWorkflow>({ ...input, snapshot, audit: audit.slice(-50) });
      }
    }
  }
}
