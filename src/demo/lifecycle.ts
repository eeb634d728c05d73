/**
 * When and how the demo stops: one abort signal for everything it starts, the reason it stops
 * (SIGINT / SIGTERM, --duration, a failure), and the cleanups of what it started, run in reverse
 * order once it stops.
 */

export interface Lifecycle {
  /** Aborted once the demo should stop. */
  readonly signal: AbortSignal;
  /** Why the demo stops; '' while it runs (and when it stops on an error of its own). */
  readonly stopReason: string;
  /** Stops the demo; only the first reason is kept. */
  requestStop(why: string): void;
  /** Stops what was just started, when the demo stops (the last added runs first). */
  addCleanup(what: string, run: () => Promise<unknown>): void;
  /** Resolves once the demo should stop. */
  untilStopped(): Promise<void>;
  /** No --duration stop any more (the demo is stopping anyway). */
  cancelDuration(): void;
  /** Runs the cleanups (each given 20 s), then stops listening for signals; resolves to what stopped. */
  runCleanups(onError: (what: string, e: Error) => void): Promise<string[]>;
}

interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
}

/** Listens for SIGINT / SIGTERM and starts the --duration timer (counted from `commandStart`). */
export function startLifecycle(opts: { duration?: number; commandStart: number }): Lifecycle {
  const abort = new AbortController();
  let stopReason = '';
  const requestStop = (why: string) => {
    if (abort.signal.aborted) return;
    stopReason = why;
    abort.abort();
  };
  let firstSignalAt: number | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstSignalAt === null) {
      firstSignalAt = Date.now();
      return requestStop(`${sig} received`);
    }
    // One Ctrl-C can arrive several times: the terminal signals the whole process group and
    // wrappers (npm, npx, tsx) relay it again. Only a later one means "stop waiting".
    if (Date.now() - firstSignalAt < 1000) return;
    process.stderr.write(`\ndemo: ${sig} again: killing what is left and exiting\n`);
    process.exit(130); // the exit hook of ./processes kills the servers
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const durationTimer =
    opts.duration !== undefined ? setTimeout(() => requestStop(`--duration ${opts.duration}s reached`), opts.commandStart + opts.duration * 1000 - Date.now()) : undefined;

  const cleanups: Cleanup[] = [];
  return {
    signal: abort.signal,
    get stopReason() {
      return stopReason;
    },
    requestStop,
    addCleanup: (what, run) => void cleanups.push({ what, run }),
    untilStopped: async () => {
      if (!abort.signal.aborted) await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    cancelDuration: () => {
      if (durationTimer) clearTimeout(durationTimer);
    },
    runCleanups: async (onError) => {
      const stopped: string[] = [];
      for (const c of cleanups.reverse()) {
        try {
          await withTimeout(c.run(), 20_000, c.what);
          stopped.push(c.what);
        } catch (e) {
          onError(c.what, e as Error);
        }
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      return stopped;
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000}s`)), ms);
    }),
  ]);
}
