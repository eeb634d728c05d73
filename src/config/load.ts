import { readFileSync } from 'node:fs';
import { ENV_VARS } from './env';
import { appConfigSchema, type AppConfig } from './schema';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function convert(name: string, type: string, raw: string): unknown {
  if (type === 'string') return raw;
  if (type === 'list') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`invalid configuration: ${name}='${raw}' is not a number`);
  return n;
}

/**
 * The configuration from an optional JSON file (`TCB_CONFIG_FILE`) overlaid with environment
 * variables, validated as a whole. An error names the variable or field and the rule.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): AppConfig {
  let base: Record<string, unknown> = {};
  if (env.TCB_CONFIG_FILE) {
    let text: string;
    try {
      text = readFileSync(env.TCB_CONFIG_FILE, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read TCB_CONFIG_FILE '${env.TCB_CONFIG_FILE}': ${(e as Error).message}`);
    }
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`TCB_CONFIG_FILE '${env.TCB_CONFIG_FILE}' is not valid JSON: ${(e as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const v of ENV_VARS) {
    const raw = env[v.name];
    if (raw === undefined || v.path.length === 0) continue;
    setPath(fromEnv, v.path, convert(v.name, v.type, raw));
  }
  const merged = deepMerge(deepMerge(base, fromEnv), overrides);
  const { breakerNames, breakerDefaults, ...rest } = merged as { breakerNames?: string[]; breakerDefaults?: Record<string, unknown>; [k: string]: unknown };
  if (breakerNames || breakerDefaults) {
    const names = breakerNames ?? Object.keys((rest.breakers as object | undefined) ?? {});
    const fallbackNames = names.length ? names : ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'];
    const existing = (rest.breakers as Record<string, Record<string, unknown>> | undefined) ?? {};
    rest.breakers = Object.fromEntries(fallbackNames.map((n) => [n, { ...breakerDefaults, ...existing[n] }]));
  }
  const result = appConfigSchema.safeParse(rest);
  if (!result.success) {
    const byPath = new Map(ENV_VARS.map((v) => [v.path.join('.'), v.name]));
    const issues = result.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      const envName = byPath.get(path);
      return `${path || '(root)'}${envName ? ` (${envName})` : ''}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`);
  }
  return result.data;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
