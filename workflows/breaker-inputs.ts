/**
 * What the breaker workflow accepts from outside (signals, updates, a start or continue-as-new
 * input), checked and bounded before it is kept: anything else is described in a few words and
 * audited as rejected input, never copied whole. Deterministic, no Node imports (workflow code).
 */
import type { BreakerCommand } from '../src/breaker/permit';
import type { Transition } from '../src/breaker/transitions';

export interface AuditEntry {
  at: number;
  kind: 'command' | 'transition' | 'probe' | 'rejected-input';
  detail: string;
}

export const COMMANDS: readonly BreakerCommand[] = ['forceOpen', 'forceClose', 'reset'];
const AUDIT_KINDS: readonly AuditEntry['kind'][] = ['command', 'transition', 'probe', 'rejected-input'];
const TRANSITION_EVENTS: readonly string[] = ['opened', 'half-opened', 'recovered', 'reopened', 'forced-open', 'forced-closed', 'reset'];
const STATES: readonly string[] = ['closed', 'open', 'half-open'];
/** INCARNATION_PATTERN of src/breaker/state.ts (not imported: that module brings zod into the bundle). */
const INCARNATION = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest reason kept with a command: BreakerClient's MAX_REASON_LENGTH. The update refuses a longer one; a signal keeps its first 500 characters. */
export const MAX_REASON = 500;
/** Longest audit entry (characters). */
export const MAX_DETAIL = 1000;

export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function json(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/** An unexpected value, described in a few words: a small one as its JSON, a large one by its type and size (never copied whole). */
export function summarize(v: unknown): string {
  if (typeof v === 'string') return v.length <= 100 ? JSON.stringify(v) : `a string of ${v.length} characters`;
  if (typeof v !== 'object' || v === null) return clip(String(v), 100);
  const j = json(v);
  if (j !== undefined && j.length <= 200) return j;
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  const keys = Object.keys(v);
  return `an object with ${keys.length} keys (${keys.slice(0, 5).map((k) => clip(k, 40)).join(', ')}${keys.length > 5 ? ', …' : ''})`;
}

export function describeReason(args: unknown): { reason?: string; problem?: string } {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) return { problem: `expected { reason?: string }, got ${summarize(args)}` };
  const reason = (args as { reason?: unknown }).reason;
  if (reason === undefined) return {};
  if (typeof reason !== 'string') return { problem: `reason must be a string, got ${summarize(reason)}` };
  return { reason: reason.slice(0, MAX_REASON) };
}

/** A transition as the stores report it; `epoch` and `incarnation` may be missing (a worker of an older version). */
export function validTransition(t: unknown): t is Omit<Transition, 'epoch'> & { epoch?: number } {
  const x = t as Partial<Transition> | null;
  return (
    typeof x === 'object' && x !== null && TRANSITION_EVENTS.includes(x.event as string) && typeof x.at === 'number' &&
    Number.isFinite(x.timeoutSeconds) && STATES.includes(x.from as string) && STATES.includes(x.to as string) &&
    (x.epoch === undefined || (Number.isSafeInteger(x.epoch) && x.epoch >= 0)) &&
    (x.incarnation === undefined || (typeof x.incarnation === 'string' && INCARNATION.test(x.incarnation)))
  );
}

/** An audit entry carried in (continue-as-new, or a start input): bounded, or dropped when malformed. */
export function carriedEntry(e: unknown): AuditEntry[] {
  const x = e as Partial<AuditEntry> | null;
  if (typeof x !== 'object' || x === null || typeof x.at !== 'number' || !AUDIT_KINDS.includes(x.kind as AuditEntry['kind']) || typeof x.detail !== 'string') return [];
  return [{ at: x.at, kind: x.kind!, detail: clip(x.detail, MAX_DETAIL) }];
}

/** A command signal carried across continue-as-new: bounded, or dropped when malformed. */
export function carriedCommand(c: unknown): { command: BreakerCommand; reason?: string }[] {
  const x = c as { command?: unknown; reason?: unknown } | null;
  if (typeof x !== 'object' || x === null || !COMMANDS.includes(x.command as BreakerCommand)) return [];
  return [{ command: x.command as BreakerCommand, ...(typeof x.reason === 'string' && x.reason ? { reason: x.reason.slice(0, MAX_REASON) } : {}) }];
}
