/** The breakers' statuses for the view, the scenario and the final table: read from the store every 500 ms into `rows`. */
import { CircuitBreaker, type BreakerConfig, type BreakerStore } from '..';
import type { BreakerRow } from './view';

export class StatusPoll {
  readonly rows = new Map<string, BreakerRow>();
  private store: BreakerStore | null = null;
  private breakers: ReadonlyMap<string, BreakerConfig> = new Map();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onError: (e: Error) => void) {}

  /** What to poll, once the store exists (from then on `stop` takes a last poll). */
  attach(store: BreakerStore, breakers: ReadonlyMap<string, BreakerConfig>): void {
    this.store = store;
    this.breakers = breakers;
  }

  /** A first poll, then one every 500 ms (none while the previous one still runs). */
  async start(): Promise<void> {
    await this.poll();
    let polling = false;
    this.timer = setInterval(() => {
      if (polling) return;
      polling = true;
      this.poll()
        .catch((e: Error) => this.onError(e))
        .finally(() => (polling = false));
    }, 500);
  }

  /** Stops polling, after a last poll: the last statuses, for the final frame or table. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.poll().catch(() => undefined);
  }

  private async poll(): Promise<void> {
    const store = this.store;
    if (!store) return;
    for (const [name, cfg] of this.breakers) {
      const status = await new CircuitBreaker(cfg, store).getStatus(Date.now());
      this.rows.set(name, { status, openUntilMs: status.open_until === null ? null : Date.parse(status.open_until) });
    }
  }
}
