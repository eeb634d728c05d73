// docs/configuration.md is generated (scripts/gen-config-docs.ts): it must be exactly what the
// generator renders from the code today, so it cannot drift from ENV_VARS, the schema's defaults
// or the metric names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, OTHER_VARS, envDefaults, renderConfigDocs } from '../../scripts/gen-config-docs';
import { ENV_VARS } from '../../src/config/env';
import { loadConfig } from '../../src/config/load';
import { BREAKER_METRICS } from '../../src/temporal/metrics';
import { repoRoot } from '../helpers/paths';

const doc = readFileSync(CONFIG_DOC, 'utf8');

/** The rows of the markdown table under `## heading`, as cells. */
function table(heading: string): string[][] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  expect(section, `section '${heading}'`).toBeDefined();
  return section!
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
    .slice(1)
    .map((l) => l.slice(2, -2).split(/ (?<!\\)\| /).map((c) => c.replace(/\\\|/g, '|')));
}

describe('docs/configuration.md', () => {
  it('is exactly what scripts/gen-config-docs.ts generates (run `npm run docs:config`)', () => {
    expect(doc).toBe(renderConfigDocs());
  });

  it('has one row per variable of ENV_VARS, in order, with its meaning', () => {
    const rows = table('Environment variables');
    expect(rows.map((r) => r[0])).toEqual(ENV_VARS.map((v) => `\`${v.name}\``));
    for (const v of ENV_VARS) expect(rows.find((r) => r[0] === `\`${v.name}\``)![2]).toBe(v.description);
  });

  it('shows the defaults the schema gives', () => {
    const rows = new Map(table('Environment variables').map((r) => [r[0].replace(/`/g, ''), r[1]]));
    const config = loadConfig({});
    expect(rows.get('TEMPORAL_ADDRESS')).toBe(`\`${config.temporal.address}\``);
    expect(rows.get('REDIS_KEY_PREFIX')).toBe(`\`${config.redis.keyPrefix}\``);
    expect(rows.get('REDIS_URL')).toBe('unset');
    expect(rows.get('BREAKER_FAILURE_THRESHOLD')).toBe('`5`');
    expect(rows.get('BREAKER_TIMEOUT_SECONDS')).toBe('`300`');
    expect(rows.get('BREAKER_BACKOFF_MULTIPLIER')).toBe('`1.5`');
    expect(rows.get('MORALIS_BASE_URL')).toBe(`\`${config.providers.moralis.baseUrl}\``);
    // Every default shown is one the configuration accepts back from its variable.
    const env = Object.fromEntries(
      [...envDefaults()].filter(([name, d]) => d !== 'unset' && name !== 'TCB_CONFIG_FILE').map(([name, d]) => [name, d.replace(/^`|`$/g, '')]),
    );
    expect(loadConfig(env)).toEqual(config);
  });

  it('lists only other variables the code reads', () => {
    const sources = ['src/log/logger.ts', 'src/dev/executables.ts', 'test/helpers/redis.ts', 'scripts/provision.sh'].map((f) => readFileSync(join(repoRoot, f), 'utf8')).join('\n');
    for (const v of OTHER_VARS) expect(sources, v.name).toContain(v.name);
    for (const v of OTHER_VARS) expect(ENV_VARS.map((e) => e.name)).not.toContain(v.name);
  });

  it('lists every breaker metric', () => {
    expect(table('Metrics').map((r) => r[0])).toEqual(Object.values(BREAKER_METRICS).map((m) => `\`${m.name}\``));
  });
});
