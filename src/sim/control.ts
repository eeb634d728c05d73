/**
 * Controlling a running simulator: the `SimulatorController` interface, implemented in process
 * (`Simulator.control`) and over HTTP by `SimulatorControl` (a fetch-based client of /_control).
 */
import type { Faults, FaultsInput, ResetInput } from './faults';
import type { SimulatorStats } from './stats';
import type { SimProvider } from './types';

export interface SimulatorController {
  /** Merges the given fields into the provider's faults; returns the provider's faults now. */
  setFaults(provider: SimProvider, faults: FaultsInput): Promise<Faults>;
  /** Clears one provider's faults. */
  clearFaults(provider: SimProvider): Promise<Faults>;
  /** Every provider's current faults. */
  faults(): Promise<Record<SimProvider, Faults>>;
  stats(): Promise<SimulatorStats>;
  /** Clears all faults and counters and restarts the seeded streams (optionally with a new seed). */
  reset(options?: ResetInput): Promise<void>;
}

/** An error answer of the control API (status and the server's message). */
export class SimulatorControlError extends Error {
  override readonly name = 'SimulatorControlError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fetch-based client of a simulator's control API (`new SimulatorControl('http://127.0.0.1:8787')`). */
export class SimulatorControl implements SimulatorController {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  setFaults(provider: SimProvider, faults: FaultsInput): Promise<Faults> {
    return this.call<Faults>('POST', `/_control/${encodeURIComponent(provider)}/faults`, faults);
  }

  clearFaults(provider: SimProvider): Promise<Faults> {
    return this.call<Faults>('DELETE', `/_control/${encodeURIComponent(provider)}/faults`);
  }

  faults(): Promise<Record<SimProvider, Faults>> {
    return this.call<Record<SimProvider, Faults>>('GET', '/_control/faults');
  }

  stats(): Promise<SimulatorStats> {
    return this.call<SimulatorStats>('GET', '/_control/stats');
  }

  async reset(options?: ResetInput): Promise<void> {
    await this.call<unknown>('POST', '/_control/reset', options ?? {});
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const message =
        typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string'
          ? (json as { error: string }).error
          : text || res.statusText;
      throw new SimulatorControlError(res.status, `simulator ${method} ${path}: ${res.status} ${message}`);
    }
    return json as T;
  }
}
