import { readFileSync } from 'node:fs';
import { loadClientConfigProfile } from '@temporalio/envconfig';
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`TCB_CONFIG_FILE '${env.TCB_CONFIG_FILE}' is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`TCB_CONFIG_FILE '${env.TCB_CONFIG_FILE}' must hold a JSON object, not ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
    }
    base = parsed as Record<string, unknown>;
  }
  const fromEnv: Record<string, unknown> = {};
  for (const v of ENV_VARS) {
    const raw = env[v.name];
    if (raw === undefined || v.path.length === 0) continue;
    setPath(fromEnv, v.path, convert(v.name, v.type, raw));
  }
  const merged = deepMerge(deepMerge(deepMerge(temporalProfile(env), base), fromEnv), overrides);
  const { breakerNames, breakerDefaults, ...rest } = merged as { breakerNames?: string[]; breakerDefaults?: Record<string, unknown>; [k: string]: unknown };
  const existing = (rest.breakers as Record<string, Record<string, unknown> | undefined> | undefined) ?? {};
  if (breakerNames || breakerDefaults) {
    const names = breakerNames ?? Object.keys((rest.breakers as object | undefined) ?? {});
    const fallbackNames = names.length ? names : ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'];
    rest.breakers = Object.fromEntries(fallbackNames.map((n) => [n, { ...breakerDefaults, ...existing[n] }]));
  }
  const result = appConfigSchema.safeParse(rest);
  if (!result.success) {
    const byPath = new Map(ENV_VARS.map((v) => [v.path.join('.'), v.name]));
    const defaultVarsSet = ENV_VARS.filter((v) => v.path[0] === 'breakerDefaults' && env[v.name] !== undefined);
    const issues = result.error.issues.map((i) => {
      let path = i.path.map(String).join('.');
      let envName = byPath.get(path);
      // A breaker setting that came from a BREAKER_* variable (it applies to every breaker): name
      // the variable (for a cross-field rule: the variables involved), once for all breakers.
      const [top, breaker, key, ...deeper] = i.path.map(String);
      if (!envName && top === 'breakers' && key !== undefined && deeper.length === 0 && existing[breaker]?.[key] === undefined) {
        const fromVars = defaultVarsSet.filter((v) => existing[breaker]?.[v.path[1]] === undefined);
        const own = fromVars.filter((v) => v.path[1] === key);
        const involved = own.length ? own : i.code === 'custom' ? fromVars.filter((v) => new RegExp(`\\b${v.path[1]}\\b`).test(i.message)) : [];
        if (involved.length) {
          path = `breakerDefaults.${key}`;
          envName = involved.map((v) => v.name).join(', ');
        }
      }
      // A bad breaker name: the name and the rule, not zod's bare "Invalid key in record".
      if (i.code === 'invalid_key' && top === 'breakers') {
        return `breakers${env.BREAKERS !== undefined ? ' (BREAKERS)' : ''}: '${breaker}': ${i.issues.map((x) => x.message).join(', ')}`;
      }
      return `${path || '(root)'}${envName ? ` (${envName})` : ''}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${[...new Set(issues)].join('; ')}`);
  }
  return result.data;
}

/**
 * The address and namespace of the Temporal client config file's profile (TEMPORAL_CONFIG_FILE /
 * TEMPORAL_PROFILE, the SDK's `temporal.toml`): the lowest layer, under TCB_CONFIG_FILE and the
 * variables. Its TLS and API-key settings are read where the connection is made (src/client/connect-settings.ts).
 */
function temporalProfile(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  let profile: { address?: string; namespace?: string };
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars, disableEnv: true });
  } catch (e) {
    const where = `${vars.TEMPORAL_CONFIG_FILE ?? 'temporal.toml'}${vars.TEMPORAL_PROFILE ? ` (TEMPORAL_PROFILE=${vars.TEMPORAL_PROFILE})` : ''}`;
    throw new ConfigError(`invalid configuration: Temporal client config ${where} (TEMPORAL_CONFIG_FILE): ${(e as Error).message.split('\n')[0]}`);
  }
  const temporal = { ...(profile.address ? { address: profile.address } : {}), ...(profile.namespace ? { namespace: profile.namespace } : {}) };
  return Object.keys(temporal).length ? { temporal } : {};
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
