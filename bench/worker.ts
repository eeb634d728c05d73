/** A bench worker process (forked by bench/run.ts with tsx): runs the scenarios it is sent. */
import { benchLibrary } from './library';
import { runScenario, type ScenarioSpec } from './scenarios';

benchLibrary(); // loaded, and checked against src/, before the run starts

interface Request {
  id: number;
  spec?: ScenarioSpec;
  startAt?: number;
  exit?: true;
}

process.on('message', (m: Request) => {
  if (m.exit) {
    process.disconnect?.();
    return;
  }
  runScenario(m.spec!, m.startAt).then(
    (result) => process.send?.({ id: m.id, ok: true, result }),
    (e: unknown) => process.send?.({ id: m.id, ok: false, error: (e as Error)?.stack ?? String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, ready: true });
