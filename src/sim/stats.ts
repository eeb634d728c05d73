/** Call counters of the simulator, per provider. */
import { SIM_PROVIDERS, type SimProvider } from './types';

export interface ProviderStats {
  /** Calls received (counted on arrival, whatever the outcome). */
  calls: number;
  /** Answers sent, by HTTP status (`{ "200": 12, "503": 3 }`). */
  byStatus: Record<string, number>;
  /** Calls the client gave up on before an answer was sent (timeouts, aborts). */
  aborted: number;
  /** Calls being handled right now. */
  inFlight: number;
  /** Highest `inFlight` since the last reset. */
  maxInFlight: number;
}

export interface SimulatorStats {
  providers: Record<SimProvider, ProviderStats>;
  /** Requests to a path that belongs to no provider. */
  unrouted: number;
  /** ISO time of the last reset (or start). */
  since: string;
}

function emptyProvider(): ProviderStats {
  return { calls: 0, byStatus: {}, aborted: 0, inFlight: 0, maxInFlight: 0 };
}

export class StatsRecorder {
  private providers = Object.fromEntries(SIM_PROVIDERS.map((p) => [p, emptyProvider()])) as Record<SimProvider, ProviderStats>;
  private unrouted = 0;
  private since: number;

  constructor(private readonly clock: () => number) {
    this.since = clock();
  }

  /** A call arrived; returns the function to call once when it is over (answered or abandoned). */
  begin(provider: SimProvider): (outcome: { aborted: boolean }) => void {
    const s = this.providers[provider];
    s.calls += 1;
    s.inFlight += 1;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    let ended = false;
    return ({ aborted }) => {
      if (ended) return;
      ended = true;
      // looked up again: a reset replaces the record but keeps the live in-flight count
      const now = this.providers[provider];
      now.inFlight -= 1;
      if (aborted) now.aborted += 1;
    };
  }

  answered(provider: SimProvider, status: number): void {
    const by = this.providers[provider].byStatus;
    by[status] = (by[status] ?? 0) + 1;
  }

  unroutedCall(): void {
    this.unrouted += 1;
  }

  /** Zero the counters; calls still in flight stay counted as in flight. */
  reset(): void {
    for (const p of SIM_PROVIDERS) {
      const inFlight = this.providers[p].inFlight;
      this.providers[p] = { ...emptyProvider(), inFlight, maxInFlight: inFlight };
    }
    this.unrouted = 0;
    this.since = this.clock();
  }

  snapshot(): SimulatorStats {
    const providers = Object.fromEntries(
      SIM_PROVIDERS.map((p) => [p, { ...this.providers[p], byStatus: { ...this.providers[p].byStatus } }]),
    ) as Record<SimProvider, ProviderStats>;
    return { providers, unrouted: this.unrouted, since: new Date(this.since).toISOString() };
  }
}
