/** The demo's pure parts: the live frame fits the terminal, the printed commands, the config overrides, scenario lookup. */
import { describe, expect, it } from 'vitest';
import { parseBreakerConfig } from '../../src/breaker/config';
import { initialState } from '../../src/breaker/state';
import { toStatus } from '../../src/breaker/status';
import { loadConfig } from '../../src/config/load';
import { compactOperatorCommands, operatorCommands } from '../../src/demo/commands';
import { EventFeed } from '../../src/demo/feed';
import { demoOverrides } from '../../src/demo/run';
import { scenarioByName, SCENARIOS } from '../../src/demo/scenarios';
import { renderFrame, type ViewModel } from '../../src/demo/view';
import { simulatorProvidersConfig } from '../../src/sim';

const ctx = { address: '127.0.0.1:7233', namespace: 'default', temporalCli: '/opt/temporal cli/temporal', env: {} };

function model(): ViewModel {
  const names = ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'];
  const now = Date.now();
  const rows = new Map(
    names.map((n) => {
      const cfg = parseBreakerConfig({ collectorName: n, timeoutSeconds: 10 });
      return [n, { status: toStatus(cfg, initialState(cfg), now), openUntilMs: null }];
    }),
  );
  const feed = new EventFeed();
  for (let i = 0; i < 30; i++) feed.emit('transition', `closed → open: event ${i} ${'x'.repeat(100)}`, { breaker: 'moralis' });
  return {
    scenarioName: 'outage',
    commandStart: now - 5000,
    stopsAt: null,
    temporalLine: 'Temporal  127.0.0.1:7233 (dev server started by the demo), namespace default',
    storeLine: 'Store     Redis redis://127.0.0.1:40000 (redis-server started by the demo); simulator http://127.0.0.1:40001',
    uiLines: ['Web UI    http://127.0.0.1:8233/namespaces/default/workflows', `          open circuits: http://127.0.0.1:8233/namespaces/default/workflows?query=${'x'.repeat(40)}`],
    breakers: names,
    rows,
    tallies: new Map(),
    progress: null,
    result: null,
    commands: operatorCommands(ctx, 'moralis'),
    compactCommands: compactOperatorCommands(ctx, 'moralis'),
    feed,
  };
}

const screenRows = (lines: string[], width: number) =>
  lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').length / width)), 0);

describe('demo live view', () => {
  it.each([
    [80, 24],
    [100, 30],
    [160, 50],
  ])('a frame fits a %ix%i terminal (no scrolling), with the force-open commands and some events', (width, height) => {
    const lines = renderFrame(model(), Date.now(), width, height);
    expect(screenRows(lines, width)).toBeLessThanOrEqual(height - 1);
    const text = lines.join('\n');
    expect(text).toContain('npx temporal-breaker force-open moralis --reason "maintenance"');
    expect(text).toContain('--name forceOpen');
    expect(text).toMatch(/event 29/); // the latest event
  });

  it('shows every command when there is room', () => {
    const text = renderFrame(model(), Date.now(), 200, 60).join('\n');
    for (const c of operatorCommands(ctx, 'moralis')) expect(text).toContain(c);
  });
});

describe('demo commands', () => {
  it('are exact and shell-quoted', () => {
    const [open, , , status, signal] = operatorCommands(ctx, 'moralis');
    expect(open).toBe('TEMPORAL_ADDRESS=127.0.0.1:7233 npx temporal-breaker force-open moralis --reason "maintenance"');
    expect(status).toBe('TEMPORAL_ADDRESS=127.0.0.1:7233 npx temporal-breaker status');
    expect(signal).toBe(
      `'/opt/temporal cli/temporal' workflow signal --workflow-id circuit-breaker:moralis --name forceOpen --input '{"reason":"maintenance"}' --address 127.0.0.1:7233`,
    );
    const ns = operatorCommands({ ...ctx, namespace: 'dev', env: { BREAKERS: 'moralis,glassnode' } }, 'moralis');
    expect(ns[0]).toMatch(/^TEMPORAL_ADDRESS=127\.0\.0\.1:7233 TEMPORAL_NAMESPACE=dev BREAKERS=moralis,glassnode npx/);
    expect(ns[4]).toMatch(/--namespace dev$/);
  });
});

describe('demo configuration', () => {
  const sim = { providers: simulatorProvidersConfig('http://127.0.0.1:9999') };

  it('shortens the breaker timeouts through configuration and points the collectors at the simulator', () => {
    const config = loadConfig({}, demoOverrides({}, { temporalAddress: '127.0.0.1:7444', redisUrl: 'redis://127.0.0.1:6390', sim }));
    expect(config.temporal.address).toBe('127.0.0.1:7444');
    expect(config.redis.url).toBe('redis://127.0.0.1:6390');
    expect(config.breakers.moralis).toMatchObject({ failureThreshold: 3, timeoutSeconds: 10, maxTimeoutSeconds: 60 });
    expect(config.providers.moralis.baseUrl).toBe('http://127.0.0.1:9999/moralis');
    expect(config.interceptor.forcedOpenRecheckSeconds).toBe(5);
  });

  it('lets environment variables win over the demo settings', () => {
    const env = { BREAKER_TIMEOUT_SECONDS: '20', FORCED_OPEN_RECHECK_SECONDS: '7' };
    const config = loadConfig(env, demoOverrides(env, { sim }));
    expect(config.breakers.moralis).toMatchObject({ failureThreshold: 3, timeoutSeconds: 20 });
    expect(config.interceptor.forcedOpenRecheckSeconds).toBe(7);
  });
});

describe('demo scenarios', () => {
  it('an unknown name lists the valid ones', () => {
    expect(() => scenarioByName('nope')).toThrow(/unknown scenario 'nope'; valid scenarios: outage \(.+\); operator \(.+\)/);
    expect(() => scenarioByName('toString')).toThrow(/unknown scenario/);
    expect(Object.keys(SCENARIOS)).toEqual(['outage', 'operator']);
  });
});
