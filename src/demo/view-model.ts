/** What the demo shows besides its events: where everything runs, the Web UI links and the operator commands to paste. */
import type { BreakerConfig } from '..';
import { redisConnection } from '../app/stores';
import type { AppConfig } from '../config/schema';
import { resolveServerExecutable } from '../dev/executables';
import type { Simulator } from '../sim';
import { compactOperatorCommands, operatorCommands } from './commands';
import type { DemoTemporal } from './dev-server';
import type { EventFeed, Tally } from './feed';
import { findOnPath } from './processes';
import type { DemoRedis } from './redis-server';
import type { Scenario, ScenarioProgress, ScenarioResult } from './scenarios';
import type { BreakerRow, ViewModel } from './view';

export interface ViewSources {
  scenario: Scenario;
  commandStart: number;
  duration?: number;
  config: AppConfig;
  temporal: DemoTemporal | null;
  redis: DemoRedis | null;
  sim: Simulator;
  breakers: ReadonlyMap<string, BreakerConfig>;
  rows: Map<string, BreakerRow>;
  tallies: Map<string, Tally>;
  feed: EventFeed;
  progress: () => ScenarioProgress | null;
  result: () => ScenarioResult | null;
}

/** The live view's model; its Web UI lines and commands are also what the plain output prints. */
export function demoViewModel(v: ViewSources): ViewModel {
  const { scenario, config, temporal, redis } = v;
  const address = config.temporal.address;
  const temporalCli = findOnPath('temporal') ? 'temporal' : (temporal?.cliPath ?? provisionedCli() ?? 'temporal');
  const commands = operatorCommands({ address, namespace: config.temporal.namespace, temporalCli }, scenario.focus[0]);
  const workflowsUrl = temporal?.uiUrl ? `${temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows` : null;
  const uiLines = workflowsUrl
    ? [`Web UI    ${workflowsUrl}`, `          open circuits: ${workflowsUrl}?query=${encodeURIComponent('BreakerState="open"')}`]
    : [`Web UI    ${temporal ? 'off (--no-ui)' : "your server's UI (TEMPORAL_ADDRESS is set)"}`];

  return {
    scenarioName: scenario.name,
    commandStart: v.commandStart,
    stopsAt: v.duration !== undefined ? v.commandStart + v.duration * 1000 : null,
    temporalLine: `Temporal  ${address} (${temporal ? 'dev server started by the demo' : 'TEMPORAL_ADDRESS'}), namespace ${config.temporal.namespace}`,
    storeLine: `Store     ${redis ? `Redis ${redis.url} (redis-server started by the demo)` : config.redis.url ? redisConnection(config.redis).description : 'process memory (no redis-server on PATH)'}; simulator ${v.sim.url}`,
    uiLines,
    breakers: [...scenario.focus, ...[...v.breakers.keys()].filter((n) => !scenario.focus.includes(n))],
    rows: v.rows,
    tallies: v.tallies,
    get progress() {
      return v.progress();
    },
    get result() {
      return v.result();
    },
    commands,
    compactCommands: compactOperatorCommands({ address, namespace: config.temporal.namespace, temporalCli }, scenario.focus[0]),
    feed: v.feed,
  };
}

/** The provisioned Temporal CLI, when there is one (for the printed `temporal workflow signal` command). */
function provisionedCli(): string | null {
  try {
    return resolveServerExecutable('dev-server').executable?.path ?? null;
  } catch {
    return null;
  }
}
