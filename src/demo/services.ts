/**
 * The servers the demo starts for itself, all at once: a Temporal dev server (unless the user
 * names a Temporal of theirs), a redis-server from PATH (unless REDIS_URL / REDIS_SENTINELS), the
 * upstream simulator and the workflow bundle; and the lines saying what runs where.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { redisConnection } from '../app/stores';
import type { AppConfig } from '../config/schema';
import { provisionIfMissing } from '../dev/provision';
import { startSimulator, type Simulator } from '../sim';
import { startDevServer, type DemoTemporal } from './dev-server';
import type { EventFeed } from './feed';
import type { Lifecycle } from './lifecycle';
import { startDemoRedis, type DemoRedis } from './redis-server';

export type WorkflowBundle = Awaited<ReturnType<typeof bundleWorkflowCode>>;

export interface DemoServices {
  /** The dev server the demo started, null on a Temporal of the user's. */
  temporal: DemoTemporal | null;
  /** The redis-server the demo started, null without one. */
  redis: DemoRedis | null;
  /** Whether the breaker state is the demo's own (its redis-server or process memory), not a Redis of the user's. */
  embeddedRedis: boolean;
  sim: Simulator;
  workflowBundle: WorkflowBundle;
}

/**
 * Starts the services in parallel; each one started is stopped by `life`'s cleanups, even when
 * another fails (the first failure is thrown) or the demo is stopped meanwhile.
 */
export async function startServices(env: NodeJS.ProcessEnv, preliminary: AppConfig, ui: boolean, life: Lifecycle, feed: EventFeed): Promise<DemoServices> {
  const say = (text: string) => feed.emit('demo', text);
  // A Temporal of your own: TEMPORAL_ADDRESS, or a temporal.toml profile named by TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE.
  const embeddedTemporal = !env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE && !env.TEMPORAL_CONFIG_FILE;
  const embeddedRedis = !env.REDIS_URL && !env.REDIS_SENTINELS;
  // A fresh clone: build and install what the embedded defaults need, with progress on the terminal.
  provisionIfMissing({ temporal: embeddedTemporal ? ['dev-server'] : [], redis: embeddedRedis }, say, env);
  say(
    `starting: ${embeddedTemporal ? `a Temporal dev server (Web UI ${ui ? 'on' : 'off, --no-ui'})` : `nothing for Temporal (${preliminary.temporal.address})`}, ` +
      `${embeddedRedis ? 'a redis-server if one is on PATH' : 'nothing for Redis (REDIS_URL / REDIS_SENTINELS are set)'}, the upstream simulator, the workflow bundle`,
  );
  const namespace = preliminary.temporal.namespace;
  const bundleLogger = new DefaultLogger('WARN', (entry) => feed.emit('warn', `workflow bundle: ${entry.message}`));
  const [temporalR, redisR, simR, bundleR] = await Promise.allSettled([
    embeddedTemporal ? startDevServer({ ui, namespace, signal: life.signal }) : Promise.resolve(null),
    embeddedRedis ? startDemoRedis(life.signal) : Promise.resolve(null),
    startSimulator({ port: 0 }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: bundleLogger }),
  ]);
  let temporal: DemoTemporal | null = null;
  let redis: DemoRedis | null = null;
  if (temporalR.status === 'fulfilled' && temporalR.value) {
    const t = (temporal = temporalR.value);
    life.addCleanup(t.process ? `the Temporal dev server (pid ${t.process.pid})` : 'the Temporal dev server', () => t.stop());
  }
  if (redisR.status === 'fulfilled' && redisR.value) {
    const r = (redis = redisR.value);
    life.addCleanup(`redis-server (pid ${r.process.pid})`, () => r.process.stop());
  }
  if (simR.status === 'fulfilled') {
    const s = simR.value;
    life.addCleanup('the upstream simulator', () => s.close());
  }
  for (const r of [temporalR, redisR, simR, bundleR]) if (r.status === 'rejected') throw r.reason;
  if (life.signal.aborted) throw new Error('stopped during startup');
  const sim = (simR as PromiseFulfilledResult<Simulator>).value;
  const workflowBundle = (bundleR as PromiseFulfilledResult<WorkflowBundle>).value;

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
  return { temporal, redis, embeddedRedis, sim, workflowBundle };
}
