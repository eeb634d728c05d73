// The package as a stranger gets it: `npm pack` the repository, install the tarball into a fresh
// project outside the repository (next to the real @temporalio packages and ioredis 6), type-check
// that project with `tsc --strict` against the exports map only, and run it with node: its own
// payment activity guarded by CircuitBreakerPlugin on the real Redis, in the time-skipping server.
// The consumer's sources are test/fixtures/consumer; it asserts as it goes and prints one
// `CONSUMER_RESULT {json}` line that this test checks.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerExecutable } from '../../src/dev/executables';
import { repoRoot } from '../helpers/paths';
import { newRedis, redisUrl } from '../helpers/redis';

const TEMPORAL_VERSION = '1.24.0';
const TEMPORAL_PACKAGES = ['client', 'worker', 'workflow', 'activity', 'common', 'plugin', 'proto', 'testing'].map((p) => `@temporalio/${p}`);
const fixture = resolve(repoRoot, 'test/fixtures/consumer');
const repoPackage = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const repoTypescript = (JSON.parse(readFileSync(resolve(repoRoot, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version;

/** What test/fixtures/consumer/src/main.ts prints (the fields this test reads). */
interface ConsumerResult {
  ok: boolean;
  runMs: number;
  calls: number;
  failures: (string | null)[];
  rejected: { ok: boolean; shortCircuited: boolean; errorType?: string };
  recovered: { ok: boolean; shortCircuited: boolean };
  waitWallMs: number;
  waitAttempts: number;
  serverSkippedMs: number;
  serverMsBeforeRetryingCall: number;
  opened: { state: string; circuit_opens: number; open_until: string | null };
  closed: { state: string; successful_recoveries: number };
  forceOpen: { state: string; forced: boolean };
  forceClose: { state: string; forced: boolean };
  reset: { state: string; forced: boolean };
  rawSignal: { state: string; forced: boolean; looks: number };
  unknown: { name: string; message: string };
  keys: string[];
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const tail = (s: string, lines = 40) => s.trimEnd().split('\n').slice(-lines).join('\n');
const describeRun = (what: string, r: Ran) =>
  `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${r.ms} ms\n--- stdout (tail) ---\n${tail(r.stdout)}\n--- stderr (tail) ---\n${tail(r.stderr)}`;

/** The environment of a stranger's shell: without what npm and vitest set for the repository's own scripts. */
function strangerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|npm_command$|INIT_CWD$|NODE_OPTIONS$|VITEST|TINYPOOL)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  const startedAt = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? strangerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[packed-consumer test] killed after ${opts.timeoutMs} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
    });
  });
}

function expectSuccess(what: string, r: Ran): void {
  expect(r.code, describeRun(what, r)).toBe(0);
}

let work: string;
let tarball: string | undefined;
let consumerDir: string | undefined;
let compiled = false;
const keyPrefix = `tcb-packed-consumer:${process.pid}:${Date.now()}:`;
const notes: string[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tcb-packed-'));
  expect(relative(repoRoot, work).startsWith('..'), `${work} must be outside the repository`).toBe(true);
});

afterAll(async () => {
  if (notes.length > 0) console.info(`[packed-consumer] closing note:\n  ${notes.join('\n  ')}`);
  if (work) rmSync(work, { recursive: true, force: true });
  // The consumer deletes its keys itself; this is the safety net when it did not get that far.
  const redis = newRedis();
  try {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}, 60_000);

describe('the packed package in a stranger’s project', () => {
  it('npm pack builds a tarball of the compiled library only', async () => {
    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    const packed = await run('npm', ['pack', '--pack-destination', packDir], { cwd: repoRoot, timeoutMs: 240_000 });
    expectSuccess('npm pack', packed);
    const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tgz, describeRun('npm pack', packed)).toEqual([`${repoPackage.name}-${repoPackage.version}.tgz`]);
    const file = join(packDir, tgz[0]);

    const listed = await run('tar', ['-tzf', file], { cwd: packDir, timeoutMs: 30_000 });
    expectSuccess('tar -tzf', listed);
    const entries = listed.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/')).map((l) => l.replace(/^package\//, ''));
    const size = statSync(file).size;
    console.info(`[packed-consumer] tarball ${tgz[0]}: ${size} bytes (${(size / 1024).toFixed(1)} KiB), ${entries.length} files; npm pack (with prepack build) ${packed.ms} ms`);
    notes.push(`tarball ${tgz[0]}: ${size} bytes, ${entries.length} files (npm pack incl. prepack: ${packed.ms} ms)`);

    expect(entries.filter((e) => /^(test|bench|scripts)\//.test(e))).toEqual([]);
    expect(entries.filter((e) => /\.(ts|mts|cts|tsx)$/.test(e) && !/\.d\.(ts|mts|cts)$/.test(e))).toEqual([]);
    expect(entries.filter((e) => e.endsWith('.map') || e.endsWith('.tsbuildinfo'))).toEqual([]);
    for (const wanted of ['package.json', 'dist/src/index.js', 'dist/src/worker.js', 'dist/src/workflows.js', 'dist/src/client.js', 'dist/src/store/lua/breaker.lua']) {
      expect(entries, `the tarball lacks ${wanted}`).toContain(wanted);
    }
    // Every compiled file has its source: prepack does not clean dist/, so a renamed or deleted
    // module would otherwise ship as a stale copy.
    const stale = entries
      .filter((e) => e.startsWith('dist/'))
      .filter((e) => {
        const source = e.slice('dist/'.length).replace(/\.d\.ts$|\.js$/, '.ts');
        return !existsSync(resolve(repoRoot, source));
      });
    expect(stale, 'compiled files without a source (stale dist/)').toEqual([]);
    for (const types of ['dist/src/index.d.ts', 'dist/src/worker.d.ts', 'dist/src/workflows.d.ts', 'dist/src/client.d.ts']) {
      expect(entries, `the tarball lacks ${types}`).toContain(types);
    }
    tarball = file;
  }, 300_000);

  it('installs from the tarball with @temporalio 1.24.0 and ioredis 6 into a fresh project', async () => {
    expect(tarball, 'no tarball: the npm pack step failed').toBeDefined();
    const dir = join(work, 'consumer');
    cpSync(fixture, dir, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
    const template = JSON.parse(readFileSync(join(dir, 'package.template.json'), 'utf8')) as Record<string, unknown>;
    rmSync(join(dir, 'package.template.json'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify(template, null, 2) + '\n');

    const specs = [tarball!, ...TEMPORAL_PACKAGES.map((p) => `${p}@${TEMPORAL_VERSION}`), 'ioredis@6', `typescript@${repoTypescript}`, '@types/node@20'];
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], { cwd: dir, timeoutMs: 280_000 });
    expectSuccess('npm install', installed);
    console.info(`[packed-consumer] npm install: ${installed.ms} ms`);
    notes.push(`npm install (tarball + ${specs.length - 1} packages, --prefer-offline): ${installed.ms} ms`);

    const versionOf = (pkg: string) => (JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    expect(versionOf(repoPackage.name)).toBe(repoPackage.version);
    expect(versionOf('ioredis'), 'ioredis: the current major').toMatch(/^6\./);
    expect(versionOf('typescript')).toBe(repoTypescript);
    for (const p of TEMPORAL_PACKAGES) expect(versionOf(p), p).toBe(TEMPORAL_VERSION);
    // Peer dependencies: one copy of the SDK (a second one breaks every instanceof on failures).
    expect(existsSync(join(dir, 'node_modules', repoPackage.name, 'node_modules', '@temporalio')), 'a nested @temporalio copy under the package').toBe(false);
    expect(existsSync(join(dir, 'node_modules', repoPackage.name, 'node_modules', 'ioredis')), 'a nested ioredis copy under the package').toBe(false);
    notes.push(`installed ioredis ${versionOf('ioredis')}, @temporalio/* ${TEMPORAL_VERSION}, typescript ${repoTypescript}`);
    consumerDir = dir;
  }, 300_000);

  it('resolves exactly the exports map: the five entry points, no deep imports', () => {
    expect(consumerDir, 'no consumer project: the install step failed').toBeDefined();
    const req = createRequire(join(consumerDir!, 'package.json'));
    const pkgDir = join(consumerDir!, 'node_modules', repoPackage.name);
    expect(req.resolve(repoPackage.name)).toBe(join(pkgDir, 'dist/src/index.js'));
    for (const sub of ['worker', 'workflows', 'client']) expect(req.resolve(`${repoPackage.name}/${sub}`)).toBe(join(pkgDir, `dist/src/${sub}.js`));
    expect(req.resolve(`${repoPackage.name}/package.json`)).toBe(join(pkgDir, 'package.json'));
    for (const deep of ['dist/src/store/memory-store', 'dist/src/store/memory-store.js', 'dist/workflows/circuit-breaker']) {
      let code: string | undefined;
      try {
        req.resolve(`${repoPackage.name}/${deep}`);
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code;
      }
      expect(code, `require.resolve('${repoPackage.name}/${deep}')`).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }
  });

  it('installs the operators’ CLI, which runs the compiled JavaScript without tsx', async () => {
    expect(consumerDir, 'no consumer project: the install step failed').toBeDefined();
    expect(existsSync(join(consumerDir!, 'node_modules', 'tsx')), 'tsx is not a dependency of the package').toBe(false);
    const bin = join(consumerDir!, 'node_modules', '.bin', 'temporal-breaker');
    const help = await run(bin, ['--help'], { cwd: consumerDir!, timeoutMs: 30_000 });
    expect(help.code, tail(help.stdout + help.stderr)).toBe(0);
    for (const command of ['status', 'force-open', 'force-close', 'reset', 'audit', 'worker']) expect(help.stdout).toContain(command);
  });

  it('type-checks with tsc --strict (Node16) against the exports; a deep import does not compile', async () => {
    expect(consumerDir, 'no consumer project: the install step failed').toBeDefined();
    const tsc = join(consumerDir!, 'node_modules/typescript/bin/tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--strict'], { cwd: consumerDir!, timeoutMs: 180_000 });
    expectSuccess('tsc -p tsconfig.json --strict', checked);
    expect(existsSync(join(consumerDir!, 'dist/main.js'))).toBe(true);
    compiled = true;
    notes.push(`consumer tsc --strict: ${checked.ms} ms`);

    // A second tiny file, compiled on its own: the dist path is not part of the package's API.
    const deepDir = join(consumerDir!, 'deep');
    mkdirSync(deepDir);
    writeFileSync(
      join(deepDir, 'deep-import.ts'),
      "import { MemoryBreakerStore } from 'temporal-circuit-breaker/dist/src/store/memory-store';\nexport const store = new MemoryBreakerStore();\n",
    );
    const deep = await run(
      process.execPath,
      [tsc, '--strict', '--noEmit', '--module', 'Node16', '--moduleResolution', 'Node16', '--target', 'ES2022', '--types', 'node', 'deep/deep-import.ts'],
      { cwd: consumerDir!, timeoutMs: 120_000 },
    );
    expect(deep.code, describeRun('tsc deep/deep-import.ts (must fail)', deep)).not.toBe(0);
    expect(deep.stdout, describeRun('tsc deep/deep-import.ts', deep)).toMatch(/TS2307[^\n]*temporal-circuit-breaker\/dist\/src\/store\/memory-store/);
  }, 240_000);

  it('runs with node: the plugin guards the consumer’s activity on Redis in the time-skipping server', async () => {
    expect(compiled, 'the consumer did not compile: the tsc step failed').toBe(true);
    const server = resolveServerExecutable('time-skipping');
    expect(server.executable, `no time-skipping server: ${server.description}`).toBeDefined();
    const ran = await run(process.execPath, ['dist/main.js'], {
      cwd: consumerDir!,
      env: strangerEnv({ REDIS_URL: redisUrl(), TEMPORAL_TEST_SERVER_PATH: server.executable!.path, TCB_KEY_PREFIX: keyPrefix }),
      timeoutMs: 200_000,
    });
    console.info(`[packed-consumer] consumer run (node dist/main.js, incl. server start): ${ran.ms} ms`);
    notes.push(`consumer run (node dist/main.js, incl. time-skipping server start): ${ran.ms} ms`);
    expectSuccess('node dist/main.js', ran);
    const line = ran.stdout.split('\n').find((l) => l.startsWith('CONSUMER_RESULT '));
    expect(line, describeRun('node dist/main.js printed no CONSUMER_RESULT line', ran)).toBeDefined();
    const result = JSON.parse(line!.slice('CONSUMER_RESULT '.length)) as ConsumerResult;
    const context = describeRun('node dist/main.js', ran);

    expect(result.ok, context).toBe(true);
    expect(result.failures, context).toHaveLength(3);
    expect(result.opened, context).toMatchObject({ state: 'open', circuit_opens: 1 });
    expect(result.rejected, context).toMatchObject({ ok: false, shortCircuited: true, errorType: 'CircuitOpenError' });
    expect(result.recovered, context).toMatchObject({ ok: true, shortCircuited: false });
    expect(result.calls, `real calls: 3 failures + 1 probe, none for the short-circuited call\n${context}`).toBe(4);
    expect(result.serverMsBeforeRetryingCall, `the open period had not ended before the 4th call\n${context}`).toBeLessThan(60_000);
    expect(result.waitAttempts, `the retrying call was rejected, then admitted as the probe\n${context}`).toBeGreaterThanOrEqual(2);
    expect(result.serverSkippedMs, `the server clock skipped the open period\n${context}`).toBeGreaterThan(30_000);
    expect(result.waitWallMs, `skipped, not waited in real time\n${context}`).toBeLessThan(30_000);
    expect(result.closed, context).toMatchObject({ state: 'closed', successful_recoveries: 1 });
    expect(result.forceOpen, context).toEqual({ state: 'open', forced: true });
    expect(result.forceClose, context).toEqual({ state: 'closed', forced: false });
    expect(result.reset, context).toEqual({ state: 'closed', forced: false });
    expect(result.rawSignal, context).toMatchObject({ state: 'open', forced: true });
    expect(result.unknown.name, context).toBe('UnknownBreakerError');
    expect(result.unknown.message, context).toContain('nope');
    expect(result.keys, context).toContain(`${keyPrefix}payments`);
    notes.push(
      `consumer's own timing: ${result.runMs} ms; the retrying call took ${result.waitAttempts} attempts, ${result.waitWallMs} ms of wall time for ${result.serverSkippedMs} ms of server time; raw signal seen after ${result.rawSignal.looks} status read(s)`,
    );

    const redis = newRedis();
    try {
      expect(await redis.keys(`${keyPrefix}*`), 'the consumer leaves no Redis keys behind').toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 240_000);
});
