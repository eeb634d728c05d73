/**
 * `temporal-breaker demo` (`npm start`): the whole system on one machine, on embedded defaults.
 *
 * - Temporal: TEMPORAL_ADDRESS, else a local dev server (the provisioned Temporal CLI, with the
 *   Web UI unless --no-ui and the BreakerState search attribute).
 * - Breaker state: REDIS_URL, else a redis-server from PATH on a free port, else process memory.
 * - The upstream simulator, a worker in this process, the breaker workflows and two collector
 *   workflows; then a scripted scenario (src/demo/scenarios.ts). Demo timeouts are short through
 *   configuration only (environment variables still win over them).
 * - A live view on a terminal, one line per event otherwise (or with --plain).
 * - --duration N stops N seconds after the command started; Ctrl-C (SIGINT) or SIGTERM stops
 *   everything it started, in order; a second Ctrl-C kills what is left at once.
 *
 * This file composes the parts: ./services (the servers), ./app (worker and workflows),
 * ./status-poll, ./view-model and ./lifecycle (signals, --duration, cleanups).
 */
import { performance } from 'node:perf_hooks';
import type { BreakerConfig } from '..';
import { createStores, type Stores } from '../app/stores';
import { CliError } from '../cli/temporal-client';
import { breakerWorkflowId } from '../client';
import { breakerConfigs } from '../config/breakers';
import { loadConfig } from '../config/load';
import type { AppConfig } from '../config/schema';
import { resetLeftoverCircuits, startApp } from './app';
import { EventFeed, feedLogger, tapStore, type Tally } from './feed';
import { startLifecycle } from './lifecycle';
import { playScenario, scenarioByName, type Scenario, type ScenarioContext, type ScenarioProgress, type ScenarioResult } from './scenarios';
import { installSdkRuntime } from './sdk-runtime';
import { startServices } from './services';
import { demoOverrides } from './settings';
import { StatusPoll } from './status-poll';
import { breakerTable, formatPlain, LiveView } from './view';
import { demoViewModel } from './view-model';

export { DEMO_BREAKER_SETTINGS, DEMO_COLLECTOR_INTERVAL_SECONDS, DEMO_COLLECTORS, DEMO_FORCED_OPEN_RECHECK_SECONDS, demoOverrides } from './settings';

export interface DemoOptions {
  /** Stop this many seconds after the command started. */
  duration?: number;
  scenario: string;
  /** Start the Temporal Web UI (--no-ui: false). */
  ui: boolean;
  /** One line per event even on a terminal. */
  plain?: boolean;
}

const secondsSince = (start: number, at: number) => `${((at - start) / 1000).toFixed(1)}s`;

export async function runDemo(opts: DemoOptions): Promise<void> {
  const env = process.env;
  let scenario: Scenario;
  try {
    scenario = scenarioByName(opts.scenario);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  // Fails early, naming the variable, on a bad configuration; nothing is started yet.
  const preliminary = loadConfig(env);
  for (const name of scenario.focus) {
    if (!(name in preliminary.breakers)) throw new CliError(`scenario '${scenario.name}' needs the breaker '${name}' (configured: ${Object.keys(preliminary.breakers).join(', ')})`);
  }

  const commandStart = Math.round(performance.timeOrigin);
  const wantLive = !opts.plain && process.stdout.isTTY === true;
  const feed = new EventFeed();
  let live: LiveView | null = null;
  const print = (line: string) => process.stdout.write(line + '\n');
  feed.on((e) => {
    if (!live) print(formatPlain(e, commandStart));
  });
  const say = (text: string) => feed.emit('demo', text);
  const life = startLifecycle({ duration: opts.duration, commandStart });

  /** Activity type → breaker, once the configuration is known (names the breaker of an activity failure). */
  let activityBreakers: Readonly<Record<string, string>> = {};
  let failure = null as Error | null;
  let result: ScenarioResult | null = null;
  const status = new StatusPoll((e) => feed.emit('warn', `status poll failed: ${e.message}`));
  const rows = status.rows;
  const tallies = new Map<string, Tally>();
  let breakers = new Map<string, BreakerConfig>();

  try {
    installSdkRuntime(feed, () => activityBreakers, preliminary.metrics.prometheusAddress);
    const { temporal, redis, embeddedRedis, sim, workflowBundle } = await startServices(env, preliminary, opts.ui, life, feed);

    const config: AppConfig = loadConfig(env, demoOverrides(env, { temporalAddress: temporal?.address, redisUrl: redis?.url, sim }));
    breakers = breakerConfigs(config);
    activityBreakers = config.activities;
    const logger = feedLogger(feed);
    const stores: Stores = createStores(config, logger);
    life.addCleanup('the breaker store', () => stores.close());
    status.attach(stores.breakers, breakers);
    const store = tapStore(stores.breakers, feed, breakers, tallies);
    if (!embeddedRedis) await resetLeftoverCircuits(stores.breakers, breakers, say);
    const client = await startApp({ config, env, temporal, breakers, stores, store, logger, workflowBundle, life, feed, onWorkerFailure: (e) => (failure = e) });

    let progress: ScenarioProgress | null = null;
    const model = demoViewModel({ scenario, commandStart, duration: opts.duration, config, temporal, redis, sim, breakers, rows, tallies, feed, progress: () => progress, result: () => result });
    await status.start();

    say(`everything up ${secondsSince(commandStart, Date.now())} after the command`);
    if (wantLive) {
      live = new LiveView(model);
      live.start(1000);
    } else {
      for (const l of model.uiLines) print(l);
      print('From another terminal:');
      for (const c of model.commands) print(`  ${c}`);
    }

    const ctx: ScenarioContext = {
      status: (name) => rows.get(name)?.status,
      sim: sim.control,
      signal: (breaker, signal, reason) => client.workflow.getHandle(breakerWorkflowId(breaker)).signal(signal, { reason }),
      breakers,
    };
    void playScenario(scenario, ctx, feed, life.signal, (p) => (progress = p)).then((r) => {
      result = r;
      if (r.outcome === 'complete') {
        const first = feed.firstTransitionAt;
        say(
          `timing: first state change ${first !== null ? `+${secondsSince(commandStart, first)}` : 'none'} after the command, ` +
            `scenario complete +${secondsSince(commandStart, r.at)} after the command`,
        );
        say(opts.duration !== undefined ? `the demo stops at +${opts.duration}s (--duration)` : 'the demo keeps running: try the commands above; Ctrl-C stops everything');
      } else if (r.outcome === 'failed' && !live) {
        life.requestStop('the scenario failed');
      }
    });

    await life.untilStopped();
  } catch (e) {
    // An error because the user stopped the demo during startup is no failure.
    failure = failure ?? (life.signal.aborted && !(e instanceof CliError) ? null : (e as Error));
  } finally {
    life.cancelDuration();
    await status.stop();
    if (live) {
      (live as LiveView).stop();
      live = null;
    }
    if (life.stopReason) say(`stopping (${life.stopReason})`);
    const stopped = await life.runCleanups((what, e) => feed.emit('error', `could not stop ${what}: ${e.message}`));
    if (stopped.length) say(`stopped ${stopped.join(', ')}`);
    if (rows.size && !wantLive) for (const line of breakerTable({ breakers: [...breakers.keys()], rows, tallies }, Date.now(), false)) print(line);
  }

  const first = feed.firstTransitionAt;
  const r = result as ScenarioResult | null;
  say(
    `summary: first state change ${first !== null ? `+${secondsSince(commandStart, first)}` : 'none'}; ` +
      `scenario '${scenario.name}' ${r?.outcome === 'complete' ? `complete at +${secondsSince(commandStart, r.at)}` : r?.outcome === 'failed' ? `FAILED (${r.reason})` : 'not finished'}; ` +
      `ran ${secondsSince(commandStart, Date.now())}`,
  );
  if (failure) throw failure instanceof CliError ? failure : new CliError(`demo failed: ${(failure as Error).message}`);
  if (r?.outcome === 'failed') throw new CliError(`scenario '${scenario.name}' failed: ${r.reason}`);
}
