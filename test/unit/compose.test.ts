// docker-compose.yml without Docker: the file is parsed and checked for the services a cluster
// deployment needs, pinned images, ports, dependencies, and an environment the configuration
// schema accepts (every variable one of ENV_VARS, the values valid, the addresses pointing at the
// right services). The Dockerfile is checked for what the compose commands need.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ENV_VARS } from '../../src/config/env';
import { loadConfig } from '../../src/config/load';
import { loadTemporalConnectSettings } from '../../src/client';
import { PROVIDERS } from '../../src/providers';
import { DEFAULT_SIM_API_KEYS } from '../../src/sim';
import { repoRoot } from '../helpers/paths';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  expose?: (string | number)[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  profiles?: string[];
  deploy?: { replicas?: number };
  container_name?: string;
  healthcheck?: unknown;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const text = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const doc = parseDocument(text, { merge: true });
const compose = doc.toJS() as ComposeFile;
const services = compose.services;
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** Variables the simulator reads itself (none: it takes flags). */
const SIMULATOR_ENV: readonly string[] = [];
const CONFIG_VARS = new Set(ENV_VARS.map((v) => v.name));

/** A service's environment as a map, `${VAR:-default}` resolved to its default (as with VAR unset). */
function environment(s: Service): Record<string, string> {
  const raw = s.environment ?? {};
  const entries: [string, string][] = Array.isArray(raw)
    ? raw.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries.map(([k, v]) => [k, v.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_, _name: string, def?: string) => def ?? '')]));
}

const dependsOn = (s: Service): string[] => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
const condition = (s: Service, dep: string): string | undefined => (Array.isArray(s.depends_on) ? undefined : s.depends_on?.[dep]?.condition);
const commandOf = (s: Service): string[] => (typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []));
const byImage = (re: RegExp): [string, Service][] => Object.entries(services).filter(([, s]) => s.image && re.test(s.image));
function one(re: RegExp): [string, Service] {
  const found = byImage(re);
  expect(found.map(([n]) => n), `exactly one service with an image matching ${re}`).toHaveLength(1);
  return found[0];
}
/** `host:container` port mappings of a service. */
function published(s: Service): { host: number; container: number }[] {
  return (s.ports ?? []).map((p) => {
    const str = typeof p === 'object' ? `${p.published}:${p.target}` : String(p);
    const m = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/tcp)?$/.exec(str);
    expect(m, `port mapping '${str}' is host:container`).not.toBeNull();
    return { host: Number(m![1]), container: Number(m![2]) };
  });
}

const [temporalName, temporal] = one(/^temporalio\/(auto-setup|server):/);
const [dbName, db] = one(/^postgres:/);
const [, ui] = one(/^temporalio\/ui:/);
const [redisName, redis] = one(/^redis:/);
const worker = services.worker;
const simulator = services.simulator;

describe('docker-compose.yml', () => {
  it('parses cleanly', () => {
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
    expect(Object.keys(services).length).toBeGreaterThan(0);
  });

  it('has a Temporal server on PostgreSQL', () => {
    const env = environment(temporal);
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe(dbName);
    expect(env.POSTGRES_USER).toBe(environment(db).POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(environment(db).POSTGRES_PASSWORD);
    expect(condition(temporal, dbName)).toBe('service_healthy');
    expect(db.healthcheck).toBeDefined();
    expect(published(temporal)).toContainEqual({ host: 7233, container: 7233 });
  });

  it('has the Temporal UI on the server', () => {
    expect(environment(ui).TEMPORAL_ADDRESS).toBe(`${temporalName}:7233`);
    expect(dependsOn(ui)).toContain(temporalName);
    expect(published(ui)).toContainEqual({ host: 8080, container: 8080 });
  });

  it('has Redis with a health check', () => {
    expect(redis.healthcheck).toBeDefined();
    expect(published(redis).map((p) => p.container)).toContain(6379);
  });

  it('runs the worker, at least two replicas of it, after Temporal and Redis', () => {
    expect(worker, 'a service named worker').toBeDefined();
    expect(worker.build).toBeDefined();
    expect(commandOf(worker)).toEqual(['node', 'bin/temporal-breaker.js', 'worker']);
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
    // Replicas cannot share a container name or a fixed host port.
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(condition(worker, redisName)).toBe('service_healthy');
    // Directly on the server, or on a one-shot setup job that runs after it.
    const deps = dependsOn(worker);
    const viaSetup = deps.filter((d) => dependsOn(services[d] ?? {}).includes(temporalName) && condition(worker, d) === 'service_completed_successfully');
    expect(deps.includes(temporalName) || viaSetup.length > 0, `worker waits for ${temporalName}`).toBe(true);
  });

  it('has the upstream simulator behind a profile', () => {
    expect(simulator, 'a service named simulator').toBeDefined();
    expect(simulator.profiles).toContain('sim');
    expect(simulator.build).toBeDefined();
    const cmd = commandOf(simulator);
    expect(cmd.join(' ')).toMatch(/dist\/src\/sim\/main\.js/); // the compiled simulator, as the image holds it
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0'); // reachable from the other containers
    const port = Number(cmd[cmd.indexOf('--port') + 1]);
    expect(published(simulator)).toContainEqual({ host: port, container: port });
    expect(existsSync(join(repoRoot, 'src/sim/main.ts'))).toBe(true);
  });

  it('pins every image (a tag, never latest)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image ?? s.build, `${name}: image or build`).toBeDefined();
      if (!s.image) continue;
      const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(s.image)?.[1];
      expect(tag, `${name}: '${s.image}' has a tag`).toBeDefined();
      expect(tag, `${name}: '${s.image}'`).not.toBe('latest');
    }
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from, `Dockerfile FROM ${from}`).toMatch(/^[^:]+:(?!latest$)[^:]+$/);
  });

  it('depends only on services that exist and start without a profile', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of dependsOn(s)) {
        expect(services[dep], `${name} depends on '${dep}'`).toBeDefined();
        const required = Array.isArray(s.depends_on) || s.depends_on?.[dep]?.required !== false;
        // `docker compose up` without the profile would fail on a dependency that is not started.
        if (required && services[dep].profiles?.length) expect(s.profiles ?? [], `${name} needs profiled '${dep}'`).toEqual(expect.arrayContaining(services[dep].profiles!));
      }
    }
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s as { volumes?: string[] }).volumes ?? []) {
        const named = /^([A-Za-z0-9_-]+):/.exec(v)?.[1];
        if (named) expect(compose.volumes ?? {}, `${name}: volume '${named}' declared`).toHaveProperty(named);
      }
    }
  });

  it('sets only configuration variables on our services', () => {
    for (const [name, s] of [['worker', worker], ['simulator', simulator]] as const) {
      for (const key of Object.keys(environment(s))) {
        expect(CONFIG_VARS.has(key) || (name === 'simulator' && SIMULATOR_ENV.includes(key)), `${name}: ${key} is in ENV_VARS (src/config/env.ts)`).toBe(true);
      }
    }
  });

  it('gives the worker a configuration the schema accepts, pointing at the compose services', () => {
    const env = environment(worker);
    const config = loadConfig(env);
    expect(config.temporal.address).toBe(`${temporalName}:7233`);
    expect(config.redis.url).toBe(`redis://${redisName}:6379`);
    expect(config.redis.password, 'Redis behind a password').toBeDefined();
    // Metrics on all interfaces, on a port the worker exposes to the network.
    const metrics = config.metrics.prometheusAddress;
    expect(metrics).toMatch(/^0\.0\.0\.0:\d+$/);
    expect((worker.expose ?? []).map(String)).toContain(metrics!.split(':')[1]);
    // By default the providers are the simulator's, with the keys it accepts.
    const cmd = commandOf(simulator);
    const simPort = cmd[cmd.indexOf('--port') + 1];
    for (const p of PROVIDERS) {
      expect(config.providers[p].baseUrl).toBe(`http://simulator:${simPort}/${p}`);
      expect(config.providers[p].apiKey).toBe(DEFAULT_SIM_API_KEYS[p]);
    }
  });

  it('puts Redis behind the password the worker has, and takes Temporal TLS / API-key settings from an optional env file', () => {
    const env = environment(worker);
    const config = loadConfig(env);
    const cmd = commandOf(redis);
    const requirepass = cmd[cmd.indexOf('--requirepass') + 1]?.replace(/\$\{[A-Z_]+:-([^}]*)\}/, '$1');
    expect(cmd).toContain('--requirepass');
    expect(config.redis.password).toBe(requirepass);
    expect(environment(redis).REDISCLI_AUTH, 'the health check authenticates').toBe(requirepass);
    expect(text).toMatch(/--requirepass", "\$\{REDIS_PASSWORD:-[^}]+\}"/); // overridable from the shell / .env
    // Temporal: plain text to the compose server by default, as the SDK's client config reads it.
    const settings = loadTemporalConnectSettings({ env, address: config.temporal.address, namespace: config.temporal.namespace });
    expect(settings).toMatchObject({ address: `${temporalName}:7233`, tls: false });
    // Secrets never in this file: an optional env file, and the certificates mounted read-only.
    const w = worker as Service & { env_file?: { path: string; required?: boolean }[]; volumes?: string[] };
    expect(w.env_file).toEqual([{ path: 'temporal.env', required: false }]);
    expect(w.volumes).toContain('./certs:/certs:ro');
    for (const key of Object.keys(env)) expect(key, 'no secret in docker-compose.yml').not.toMatch(/API_KEY$|_KEY_(PATH|DATA)$/.source === '' ? /$^/ : /^TEMPORAL_API_KEY$|^TEMPORAL_TLS_CLIENT_KEY/);
  });

  it('builds an image that holds what the commands run', () => {
    // The build stage compiles the sources; the image runs the compiled package, without tsx.
    for (const dir of ['src', 'workflows', 'activities']) expect(dockerfile, `Dockerfile's build stage copies ${dir}/`).toMatch(new RegExp(`^COPY\\s+${dir}\\s`, 'm'));
    expect(dockerfile).toMatch(/^RUN npm run build:lib$/m);
    expect(dockerfile).toMatch(/^COPY\s+bin\s/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    // ioredis is a peer dependency of the library: the image installs it for the app's worker.
    expect(dockerfile).toMatch(/npm install [^\n]*ioredis@/);
    for (const s of Object.values(services)) {
      const cmd = commandOf(s);
      if (cmd?.[0] === 'node') expect(existsSync(join(repoRoot, cmd[1].replace(/^dist\//, '').replace(/\.js$/, '.ts'))) || existsSync(join(repoRoot, cmd[1])), `${cmd[1]} exists (as a source)`).toBe(true);
    }
    expect(existsSync(join(repoRoot, 'bin/temporal-breaker.js'))).toBe(true);
  });
});
