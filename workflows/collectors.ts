/**
 * Collector workflows: every cycle, each source runs in parallel behind its breaker. Per source,
 * the policy decides what an open circuit means for this workflow:
 * - `wait`: the activity's retry carries it to the probe time (the interceptor's
 *   `nextRetryDelay`), so the cycle completes late but complete;
 * - `skip`: an open circuit is final for this cycle; the skip is recorded and the cycle moves on.
 */
import { ActivityFailure, ApplicationFailure, continueAsNew, defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { COLLECTOR_ACTIVITY, DEFAULT_QUERIES, ONCHAIN_PROVIDERS, SOCIAL_PROVIDERS, type Provider } from '../src/providers';
import { CIRCUIT_OPEN_ERROR_TYPE, isCircuitOpen } from '../src/workflows';

export type OpenCircuitPolicy = 'wait' | 'skip';

export interface CollectorInput {
  idempotencyKey: string;
  [query: string]: string | number;
}

export interface CollectorSummary {
  source: string;
  idempotencyKey: string;
  stored: boolean;
  items: number;
}

type CollectorActivities = Record<string, (input: CollectorInput) => Promise<CollectorSummary>>;

export interface CycleRecord {
  cycle: number;
  source: Provider;
  outcome: 'collected' | 'skipped' | 'failed';
  detail?: string;
}

export interface CollectorWorkflowInput {
  sources?: Provider[];
  intervalSeconds?: number;
  /** Per-source policy for an open circuit (default `wait`). */
  policy?: Partial<Record<Provider, OpenCircuitPolicy>>;
  /** Per-source query (e.g. `{ moralis: { address } }`); defaults in DEFAULT_QUERIES. */
  queries?: Partial<Record<Provider, Record<string, string | number>>>;
  /** Stop after this many cycles (tests, demos); unset: run forever. */
  maxCycles?: number;
  /** Cycles per workflow run before continue-as-new (default 100). */
  cyclesPerRun?: number;
  /** Attempts for ordinary failures under the `skip` policy (default 3). */
  skipMaxAttempts?: number;
  startToCloseSeconds?: number;
  /** Carried across continue-as-new. */
  cycle?: number;
  totals?: CollectorTotals;
}

export interface CollectorTotals {
  cycles: number;
  collected: number;
  skipped: number;
  failed: number;
}

export interface CollectorProgress extends CollectorTotals {
  recent: CycleRecord[];
}

export const progressQuery = defineQuery<CollectorProgress>('progress');

function activitiesFor(policy: OpenCircuitPolicy, input: CollectorWorkflowInput): CollectorActivities {
  const startToCloseTimeout = `${input.startToCloseSeconds ?? 30} seconds`;
  if (policy === 'wait') {
    // No schedule-to-close: nextRetryDelay can be as long as the longest open period (3600 s).
    return proxyActivities<CollectorActivities>({
      startToCloseTimeout,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['UpstreamClientError'] },
    });
  }
  return proxyActivities<CollectorActivities>({
    startToCloseTimeout,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumAttempts: input.skipMaxAttempts ?? 3,
      nonRetryableErrorTypes: [CIRCUIT_OPEN_ERROR_TYPE, 'UpstreamClientError'],
    },
  });
}

function causeType(e: unknown): string | undefined {
  return e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? (e.cause.type ?? undefined) : undefined;
}

async function runCollector(defaultSources: readonly Provider[], input: CollectorWorkflowInput): Promise<CollectorTotals> {
  const sources = input.sources ?? [...defaultSources];
  const interval = input.intervalSeconds ?? 60;
  const perRun = input.cyclesPerRun ?? 100;
  const totals: CollectorTotals = { ...(input.totals ?? { cycles: 0, collected: 0, skipped: 0, failed: 0 }) };
  const recent: CycleRecord[] = [];
  let cycle = input.cycle ?? 0;
  const wait = activitiesFor('wait', input);
  const skip = activitiesFor('skip', input);
  const { workflowId } = workflowInfo();
  setHandler(progressQuery, () => ({ ...totals, recent }));

  const remember = (r: CycleRecord) => {
    recent.push(r);
    if (recent.length > 50) recent.shift();
    totals[r.outcome === 'collected' ? 'collected' : r.outcome === 'skipped' ? 'skipped' : 'failed'] += 1;
  };

  for (let inRun = 0; ; inRun++) {
    if (input.maxCycles !== undefined && cycle >= input.maxCycles) return totals;
    if (inRun >= perRun) {
      await continueAsNew<typeof onChainCollectorWorkflow>({ ...input, sources, cycle, totals });
    }
    const thisCycle = cycle;
    await Promise.all(
      sources.map(async (source) => {
        const policy = input.policy?.[source] ?? 'wait';
        const activity = (policy === 'wait' ? wait : skip)[COLLECTOR_ACTIVITY[source]];
        try {
          await activity({ ...DEFAULT_QUERIES[source], ...input.queries?.[source], idempotencyKey: `${workflowId}:${thisCycle}:${source}` });
          remember({ cycle: thisCycle, source, outcome: 'collected' });
        } catch (e) {
          const type = causeType(e);
          if (isCircuitOpen(e)) remember({ cycle: thisCycle, source, outcome: 'skipped', detail: 'circuit open' });
          else remember({ cycle: thisCycle, source, outcome: 'failed', detail: type ?? (e as Error).message });
        }
      }),
    );
    cycle += 1;
    totals.cycles += 1;
    if (input.maxCycles !== undefined && cycle >= input.maxCycles) return totals;
    await sleep(`${interval} seconds`);
  }
}

export async function onChainCollectorWorkflow(input: CollectorWorkflowInput = {}): Promise<CollectorTotals> {
  return runCollector(ONCHAIN_PROVIDERS, input);
}

export async function socialCollectorWorkflow(input: CollectorWorkflowInput = {}): Promise<CollectorTotals> {
  return runCollector(SOCIAL_PROVIDERS, input);
}
