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
 */
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import { CircuitBreaker, type BreakerConfig, type BreakerStore } from '..';
import { createStores, redisConnection, type Stores } from '../app/stores';
import { createAppWorker } from '../app/worker';
import { breakerWorkflowId, connectionOptions, explainConnectError } from '../client';
import { CliError, connectNative, temporalSettings } from '../cli/temporal-client';
import { breakerConfigs } from '../config/breakers';
import { loadConfig } from '../config/load';
import { resolveServerExecutable } from '../dev/executables';
import { provisionIfMissing } from '../dev/provision';
import { PROVIDERS, type AppConfig } from '../config/schema';
import type { CollectorWorkflowInput } from '../../workflows/collectors';
import { startSimulator, type Simulator } from '../sim';
import { compactOperatorCommands, operatorCommands } from './commands';
import { startDevServer, type DemoTemporal } from './dev-server';
import { EventFeed, feedLogger, tapStore, type Tally } from './feed';
import { findOnPath } from './processes';
import { startDemoRedis, type DemoRedis } from './redis-server';
import { playScenario, scenarioByName, type Scenario, type ScenarioContext, type ScenarioProgress, type ScenarioResult } from './scenarios';
import { breakerTable, formatPlain, LiveView, type BreakerRow, type ViewModel } from './view';

export interface DemoOptions {
  /** Stop this many seconds after the command started. */
  duration?: number;
  scenario: string;
  /** Start the Temporal Web UI (--no-ui: false). */
  ui: boolean;
  /** One line per event even on a terminal. */
  plain?: boolean;
}

/**
 * The demo's breaker settings, applied through the configuration (as `breakerDefaults`), each
 * only when its environment variable is unset: a circuit opens after 3 failures and probes after
 * 10 s, so the whole scenario plays in well under two minutes.
 */
export const DEMO_BREAKER_SETTINGS: readonly { key: string; env: string; value: number }[] = [
  { key: 'failureThreshold', env: 'BREAKER_FAILURE_THRESHOLD', value: 3 },
  { key: 'timeoutSeconds', env: 'BREAKER_TIMEOUT_SECONDS', value: 10 },
  { key: 'maxTimeoutSeconds', env: 'BREAKER_MAX_TIMEOUT_SECONDS', value: 60 },
];
/** Activities rejected by a forced-open circuit look again after this long (FORCED_OPEN_RECHECK_SECONDS). */
export const DEMO_FORCED_OPEN_RECHECK_SECONDS = 5;
/** Seconds between two collection cycles. */
export const DEMO_COLLECTOR_INTERVAL_SECONDS = 3;

export const DEMO_COLLECTORS: readonly { workflowId: string; type: string; input: CollectorWorkflowInput; label: string }[] = [
  {
    workflowId: 'demo-collector:onchain',
    type: 'onChainCollectorWorkflow',
    input: { intervalSeconds: DEMO_COLLECTOR_INTERVAL_SECONDS, policy: { moralis: 'wait', glassnode: 'wait' } },
    label: 'moralis + glassnode, policy wait',
  },
  {
    workflowId: 'demo-collector:social',
    type: 'socialCollectorWorkflow',
    input: { intervalSeconds: DEMO_COLLECTOR_INTERVAL_SECONDS, policy: { twitter: 'skip', reddit: 'skip', lunarcrush: 'skip' } },
    label: 'twitter + reddit + lunarcrush, policy skip',
  },
];

/** The configuration overrides of the demo (fixed settings + where its own servers are). */
export function demoOverrides(env: NodeJS.ProcessEnv, where: { temporalAddress?: string; redisUrl?: string; sim: Pick<Simulator, 'providers'> }) {
  const breakerDefaults = Object.fromEntries(DEMO_BREAKER_SETTINGS.filter((s) => env[s.env] === undefined).map((s) => [s.key, s.value]));
  return {
    ...(where.temporalAddress ? { temporal: { address: where.temporalAddress } } : {}),
    ...(where.redisUrl ? { redis: { url: where.redisUrl } } : {}),
    ...(Object.keys(breakerDefaults).length ? { breakerDefaults } : {}),
    ...(env.FORCED_OPEN_RECHECK_SECONDS === undefined ? { interceptor: { forcedOpenRecheckSeconds: DEMO_FORCED_OPEN_RECHECK_SECONDS } } : {}),
    providers: Object.fromEntries(PROVIDERS.map((p) => [p, { baseUrl: where.sim.providers[p].baseUrl, apiKey: where.sim.providers[p].apiKey }])),
  };
}

interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
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
    opts.duration !== undefined ? setTimeout(() => requestStop(`--duration ${opts.duration}s reached`), commandStart + opts.duration * 1000 - Date.now()) : undefined;

  const cleanups: Cleanup[] = [];
  /** Activity type → breaker, once the configuration is known (names the breaker of an activity failure). */
  let activityBreakers: Readonly<Record<string, string>> = {};
  let failure = null as Error | null;
  let result: ScenarioResult | null = null;
  let temporal: DemoTemporal | null = null;
  let redis: DemoRedis | null = null;
  const rows = new Map<string, BreakerRow>();
  const tallies = new Map<string, Tally>();
  let breakers = new Map<string, BreakerConfig>();
  let pollStore: BreakerStore | null = null;
  let pollTimer: NodeJS.Timeout | undefined;

  const poll = async () => {
    if (!pollStore) return;
    for (const [name, cfg] of breakers) {
      const status = await new CircuitBreaker(cfg, pollStore).getStatus(Date.now());
      rows.set(name, { status, openUntilMs: status.open_until === null ? null : Date.parse(status.open_until) });
    }
  };

  try {
    try {
      Runtime.install({
        logger: new DefaultLogger('WARN', (entry) => sdkLog(feed, entry, activityBreakers)),
        telemetryOptions: {
          logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
          ...(preliminary.metrics.prometheusAddress ? { metrics: { prometheus: { bindAddress: preliminary.metrics.prometheusAddress } } } : {}),
        },
        shutdownSignals: [], // the demo stops its worker itself, after the scenario's own cleanup
      });
    } catch {
      // a runtime is already installed in this process: keep it
    }

    // A Temporal of your own: TEMPORAL_ADDRESS, or a temporal.toml profile named by TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE.
    const embeddedTemporal = !env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE && !env.TEMPORAL_CONFIG_FILE;
    const embeddedRedis = !env.REDIS_URL && !env.REDIS_SENTINELS;
    // A fresh clone: build and install what the embedded defaults need, with progress on the terminal.
    provisionIfMissing({ temporal: embeddedTemporal ? ['dev-server'] : [], redis: embeddedRedis }, say, env);
    say(
      `starting: ${embeddedTemporal ? `a Temporal dev server (Web UI ${opts.ui ? 'on' : 'off, --no-ui'})` : `nothing for Temporal (${preliminary.temporal.address})`}, ` +
        `${embeddedRedis ? 'a redis-server if one is on PATH' : 'nothing for Redis (REDIS_URL / REDIS_SENTINELS are set)'}, the upstream simulator, the workflow bundle`,
    );
    const namespace = preliminary.temporal.namespace;
    const bundleLogger = new DefaultLogger('WARN', (entry) => feed.emit('warn', `workflow bundle: ${entry.message}`));
    const [temporalR, redisR, simR, bundleR] = await Promise.allSettled([
      embeddedTemporal ? startDevServer({ ui: opts.ui, namespace, signal: abort.signal }) : Promise.resolve(null),
      embeddedRedis ? startDemoRedis(abort.signal) : Promise.resolve(null),
      startSimulator({ port: 0 }),
      bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: bundleLogger }),
    ]);
    if (temporalR.status === 'fulfilled' && temporalR.value) {
      const t = (temporal = temporalR.value);
      cleanups.push({ what: t.process ? `the Temporal dev server (pid ${t.process.pid})` : 'the Temporal dev server', run: () => t.stop() });
    }
    if (redisR.status === 'fulfilled' && redisR.value) {
      const r = (redis = redisR.value);
      cleanups.push({ what: `redis-server (pid ${r.process.pid})`, run: () => r.process.stop() });
    }
    if (simR.status === 'fulfilled') {
      const s = simR.value;
      cleanups.push({ what: 'the upstream simulator', run: () => s.close() });
    }
    for (const r of [temporalR, redisR, simR, bundleR]) if (r.status === 'rejected') throw r.reason;
    if (abort.signal.aborted) throw new Error('stopped during startup');
    const sim = (simR as PromiseFulfilledResult<Simulator>).value;
    const workflowBundle = (bundleR as PromiseFulfilledResult<Awaited<ReturnType<typeof bundleWorkflowCode>>>).value;

    if (temporal) {
      say(
        `Temporal dev server at ${temporal.address}${temporal.process ? ` (pid ${temporal.process.pid})` : ''}, ` +
          `Web UI ${temporal.uiUrl ?? 'off'}, search attribute BreakerState registered; executable: ${temporal.description}`,
      );
    } else {
      say(`Temporal at ${preliminary.temporal.address} (TEMPORAL_ADDRESS or your temporal.toml profile); the demo starts no server and no UI there`);
    }
    if (redis) say(`breaker state in Redis: redis-server started at ${redis.url} (pid ${redis.process.pid}, ${redis.executable}, no persistence)`);
    else if (embeddedRedis) say('breaker state in process memory: no redis-server on PATH (set REDIS_URL, or install redis-server, to share it through Redis)');
    else say(`breaker state in ${redisConnection(preliminary.redis).description}`);
    say(`upstream simulator at ${sim.url}`);

    const config: AppConfig = loadConfig(env, demoOverrides(env, { temporalAddress: temporal?.address, redisUrl: redis?.url, sim }));
    breakers = breakerConfigs(config);
    activityBreakers = config.activities;
    const logger = feedLogger(feed);
    const stores: Stores = createStores(config, logger);
    cleanups.push({ what: 'the breaker store', run: () => stores.close() });
    pollStore = stores.breakers;
    const store = tapStore(stores.breakers, feed, breakers, tallies);
    if (!embeddedRedis) {
      // A shared Redis may hold an earlier run's state: start the scenario from closed circuits.
      for (const [name, cfg] of breakers) {
        const s = await stores.breakers.load(cfg);
        if (s.state !== 'closed') {
          // Through the untapped store: housekeeping, not a state change of the scenario.
          await stores.breakers.command(cfg, 'reset', Date.now());
          say(`${name} was ${s.state} (state left in Redis by an earlier run): reset it for the scenario`);
        }
      }
    }

    const address = config.temporal.address;
    // TLS, mutual TLS, API key: the SDK's client configuration (TEMPORAL_API_KEY, TEMPORAL_TLS_*, temporal.toml).
    const settings = temporalSettings(config, temporal ? {} : env); // the demo's own dev server: plain text
    const nativeConnection = await connectNative(settings);
    cleanups.push({ what: 'the worker connection', run: () => nativeConnection.close() });
    const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5_000 }).catch((e: unknown) => {
      throw new CliError(explainConnectError(e, settings));
    });
    cleanups.push({ what: 'the client connection', run: () => connection.close() });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    // The plugin registers the BreakerState search attribute and starts the breaker workflows when the worker runs.
    const { worker }: { worker: Worker } = await createAppWorker({
      config,
      connection: nativeConnection,
      store,
      results: stores.results,
      logger,
      workflowBundle,
      workerOptions: { shutdownGraceTime: '2 seconds', shutdownForceTime: '10 seconds' },
    });
    const running = worker.run().catch((e: Error) => {
      failure = e;
      feed.emit('error', `worker failed: ${e.message}`);
      requestStop('the worker failed');
    });
    cleanups.push({
      what: 'the worker',
      run: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    });
    const b0 = breakers.values().next().value!;
    say(
      `worker running on task queue '${config.temporal.taskQueue}', breakers ${[...breakers.keys()].join(', ')}: ` +
        `failure threshold ${b0.failureThreshold}, open ${b0.timeoutSeconds}s, backoff ×${b0.backoffMultiplier} up to ${b0.maxTimeoutSeconds}s, ` +
        `${b0.halfOpenSuccessThreshold} probe successes close (demo settings, through configuration)`,
    );

    for (const c of DEMO_COLLECTORS) {
      await client.workflow.start(c.type, {
        workflowId: c.workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [c.input],
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      });
    }
    if (!temporal) {
      // On a server of the user's, the collectors go with the demo (the breaker workflows stay, as in production).
      cleanups.push({
        what: 'the demo collector workflows',
        run: () => Promise.all(DEMO_COLLECTORS.map((c) => client.workflow.getHandle(c.workflowId).terminate('demo stopped').catch(() => undefined))),
      });
    }
    say(
      `workflows: ${[...breakers.keys()].map(breakerWorkflowId).join(', ')}; ` +
        DEMO_COLLECTORS.map((c) => `${c.workflowId} (${c.label}, every ${DEMO_COLLECTOR_INTERVAL_SECONDS}s)`).join(', '),
    );

    const temporalCli = findOnPath('temporal') ? 'temporal' : (temporal?.cliPath ?? provisionedCli() ?? 'temporal');
    const commands = operatorCommands({ address, namespace: config.temporal.namespace, temporalCli }, scenario.focus[0]);
    const workflowsUrl = temporal?.uiUrl ? `${temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows` : null;
    const uiLines = workflowsUrl
      ? [`Web UI    ${workflowsUrl}`, `          open circuits: ${workflowsUrl}?query=${encodeURIComponent('BreakerState="open"')}`]
      : [`Web UI    ${temporal ? 'off (--no-ui)' : "your server's UI (TEMPORAL_ADDRESS is set)"}`];

    await poll();
    let polling = false;
    pollTimer = setInterval(() => {
      if (polling) return;
      polling = true;
      poll()
        .catch((e: Error) => feed.emit('warn', `status poll failed: ${e.message}`))
        .finally(() => (polling = false));
    }, 500);

    let progress: ScenarioProgress | null = null;
    const model: ViewModel = {
      scenarioName: scenario.name,
      commandStart,
      stopsAt: opts.duration !== undefined ? commandStart + opts.duration * 1000 : null,
      temporalLine: `Temporal  ${address} (${temporal ? 'dev server started by the demo' : 'TEMPORAL_ADDRESS'}), namespace ${config.temporal.namespace}`,
      storeLine: `Store     ${redis ? `Redis ${redis.url} (redis-server started by the demo)` : config.redis.url ? redisConnection(config.redis).description : 'process memory (no redis-server on PATH)'}; simulator ${sim.url}`,
      uiLines,
      breakers: [...scenario.focus, ...[...breakers.keys()].filter((n) => !scenario.focus.includes(n))],
      rows,
      tallies,
      get progress() {
        return progress;
      },
      get result() {
        return result;
      },
      commands,
      compactCommands: compactOperatorCommands({ address, namespace: config.temporal.namespace, temporalCli }, scenario.focus[0]),
      feed,
    };

    say(`everything up ${secondsSince(commandStart, Date.now())} after the command`);
    if (wantLive) {
      live = new LiveView(model);
      live.start(1000);
    } else {
      for (const l of uiLines) print(l);
      print('From another terminal:');
      for (const c of commands) print(`  ${c}`);
    }

    const ctx: ScenarioContext = {
      status: (name) => rows.get(name)?.status,
      sim: sim.control,
      signal: (breaker, signal, reason) => client.workflow.getHandle(breakerWorkflowId(breaker)).signal(signal, { reason }),
      breakers,
    };
    void playScenario(scenario, ctx, feed, abort.signal, (p) => (progress = p)).then((r) => {
      result = r;
      if (r.outcome === 'complete') {
        const first = feed.firstTransitionAt;
        say(
          `timing: first state change ${first !== null ? `+${secondsSince(commandStart, first)}` : 'none'} after the command, ` +
            `scenario complete +${secondsSince(commandStart, r.at)} after the command`,
        );
        say(opts.duration !== undefined ? `the demo stops at +${opts.duration}s (--duration)` : 'the demo keeps running: try the commands above; Ctrl-C stops everything');
      } else if (r.outcome === 'failed' && !live) {
        requestStop('the scenario failed');
      }
    });

    if (!abort.signal.aborted) await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  } catch (e) {
    // An error because the user stopped the demo during startup is no failure.
    failure = failure ?? (abort.signal.aborted && !(e instanceof CliError) ? null : (e as Error));
  } finally {
    if (durationTimer) clearTimeout(durationTimer);
    if (pollTimer) clearInterval(pollTimer);
    await poll().catch(() => undefined); // the last statuses, for the final frame or table
    if (live) {
      (live as LiveView).stop();
      live = null;
    }
    if (stopReason) say(`stopping (${stopReason})`);
    const stopped: string[] = [];
    for (const c of cleanups.reverse()) {
      try {
        await withTimeout(c.run(), 20_000, c.what);
        stopped.push(c.what);
      } catch (e) {
        feed.emit('error', `could not stop ${c.what}: ${(e as Error).message}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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

/** The SDK's warnings as events; an activity failure (an upstream error the breaker counts) says which call failed and why. */
function sdkLog(feed: EventFeed, entry: LogEntry, activityBreakers: Readonly<Record<string, string>>): void {
  const meta = entry.meta ?? {};
  if (entry.message === 'Activity failed' && typeof meta.activityType === 'string') {
    const error = meta.error as { message?: string; type?: string; name?: string } | undefined;
    const message = (error?.message ?? '').split('\n')[0].replace(/ from [A-Z]+ \S+/, '');
    const breaker = activityBreakers[meta.activityType];
    const call = `${meta.activityType} attempt ${String(meta.attempt ?? '?')}`;
    const text =
      error?.type === 'CircuitOpenError'
        ? `${call} short-circuited, the upstream was not called (${message})`
        : `${call} failed (${error ? `${error.type ?? error.name ?? 'Error'}: ${message}` : 'unknown error'})`;
    feed.emit('activity', text, breaker ? { breaker } : {});
    return;
  }
  feed.emit(entry.level === 'ERROR' ? 'error' : 'warn', `temporal sdk: ${entry.message}`);
}

/** The provisioned Temporal CLI, when there is one (for the printed `temporal workflow signal` command). */
function provisionedCli(): string | null {
  try {
    return resolveServerExecutable('dev-server').executable?.path ?? null;
  } catch {
    return null;
  }
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
