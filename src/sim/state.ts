/**
 * The simulator's whole mutable state: per-provider faults, seeded random streams and call
 * counters, and the in-process SimulatorController over them (src/sim/server.ts serves it over HTTP).
 */
import type { SimulatorController } from './control';
import { InvalidControlInputError, NO_FAULTS, parseFaults, parseReset, type Faults, type FaultsInput, type ResetInput } from './faults';
import { deriveSeed, mulberry32, type Rng } from './rng';
import { StatsRecorder } from './stats';
import { SIM_PROVIDERS, isSimProvider, type SimProvider } from './types';

interface Streams {
  errors: Rng;
  data: Rng;
}

/** Faults, seeded streams and counters: the simulator's whole mutable state. */
export class SimulatorState implements SimulatorController {
  private faultsBy = new Map<SimProvider, Faults>();
  private streams = new Map<SimProvider, Streams>();
  readonly recorder: StatsRecorder;

  constructor(
    public seed: number,
    readonly clock: () => number,
  ) {
    this.recorder = new StatsRecorder(clock);
    this.reseed(seed);
  }

  private reseed(seed: number): void {
    this.seed = seed;
    for (const p of SIM_PROVIDERS) {
      this.streams.set(p, {
        errors: mulberry32(deriveSeed(seed, `errors:${p}`)),
        data: mulberry32(deriveSeed(seed, `data:${p}`)),
      });
    }
  }

  faultsOf(p: SimProvider): Faults {
    return this.faultsBy.get(p) ?? NO_FAULTS;
  }

  streamsOf(p: SimProvider): Streams {
    const s = this.streams.get(p);
    if (!s) throw new Error(`no streams for ${p}`);
    return s;
  }

  setFaultsSync(p: SimProvider, input: unknown): Faults {
    assertProvider(p);
    const parsed = parseFaults(input);
    const next: Faults = { ...this.faultsOf(p) };
    for (const [k, v] of Object.entries(parsed) as [keyof Faults, never][]) if (v !== undefined) next[k] = v;
    this.faultsBy.set(p, Object.freeze(next));
    return { ...next };
  }

  clearFaultsSync(p: SimProvider): Faults {
    assertProvider(p);
    this.faultsBy.delete(p);
    return { ...NO_FAULTS };
  }

  allFaults(): Record<SimProvider, Faults> {
    return Object.fromEntries(SIM_PROVIDERS.map((p) => [p, { ...this.faultsOf(p) }])) as Record<SimProvider, Faults>;
  }

  resetSync(input: unknown): void {
    const parsed = parseReset(input);
    this.faultsBy.clear();
    this.recorder.reset();
    this.reseed(parsed?.seed ?? this.seed);
  }

  // SimulatorController (in process)
  async setFaults(p: SimProvider, faults: FaultsInput): Promise<Faults> {
    return this.setFaultsSync(p, faults);
  }
  async clearFaults(p: SimProvider): Promise<Faults> {
    return this.clearFaultsSync(p);
  }
  async faults(): Promise<Record<SimProvider, Faults>> {
    return this.allFaults();
  }
  async stats() {
    return this.recorder.snapshot();
  }
  async reset(options?: ResetInput): Promise<void> {
    this.resetSync(options ?? {});
  }
}

function assertProvider(p: string): asserts p is SimProvider {
  if (!isSimProvider(p)) throw new InvalidControlInputError('provider', [{ field: 'provider', message: `unknown provider "${p}"; one of ${SIM_PROVIDERS.join(', ')}` }]);
}
