/**
 * The demo as a user runs it: `npx tsx src/cli/main.ts demo …` as a child process on embedded
 * defaults (no TEMPORAL_ADDRESS, no REDIS_URL), so it starts its own Temporal dev server and
 * redis-server. Checks the scenario's story in the plain output, the exit, and that nothing it
 * started is left running.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { findRedisServer } from '../../src/demo/redis-server';
import { repoRoot } from '../helpers/paths';

interface Run {
  pid: number;
  output: () => string;
  /** ms since spawn at which each output line arrived */
  lines: { at: number; text: string }[];
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  started: number;
}

const runs: Run[] = [];

function demoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  // The vitest globalSetup exports REDIS_URL; the demo must run on its embedded defaults.
  for (const name of ['TEMPORAL_ADDRESS', 'REDIS_URL', 'TCB_CONFIG_FILE', 'TEMPORAL_NAMESPACE', 'BREAKERS']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('BREAKER_')) delete env[name];
  return env;
}

function startDemo(args: string[]): Run {
  const started = Date.now();
  // Its own process group, like a job in a terminal: a Ctrl-C signals the whole group.
  const child = spawn('npx', ['tsx', 'src/cli/main.ts', 'demo', ...args], { cwd: repoRoot, env: demoEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const lines: Run['lines'] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const text of parts) lines.push({ at: Date.now() - started, text });
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  child.on('exit', (code, signal) => (exit = { code, signal }));
  // 'close': every holder of the output pipes (npx, tsx, node) is gone, i.e. the demo itself ended.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('close', () => resolve({ ...exit, at: Date.now() - started })),
  );
  const run: Run = { pid: child.pid!, output: () => out, lines, closed, started };
  runs.push(run);
  return run;
}

async function waitForLine(run: Run, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs / 1000}s; output:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
    s.once('connect', () => (s.destroy(), resolve(true)));
  });

/** The processes the demo says it started (dev server, redis-server) and the ports it used. */
function startedByDemo(out: string): { pids: number[]; ports: number[] } {
  const pids = [...out.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]));
  const ports = [
    ...out.matchAll(/Temporal dev server at 127\.0\.0\.1:(\d+)/g),
    ...out.matchAll(/redis-server started at redis:\/\/127\.0\.0\.1:(\d+)/g),
    ...out.matchAll(/upstream simulator at http:\/\/127\.0\.0\.1:(\d+)/g),
  ].map((m) => Number(m[1]));
  return { pids: [...new Set(pids)], ports };
}

async function expectNothingLeft(out: string, expectRedis: boolean): Promise<void> {
  const { pids, ports } = startedByDemo(out);
  expect(pids.length).toBe(expectRedis ? 2 : 1); // the dev server (and redis-server)
  for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).toBe(false);
  expect(ports.length).toBe(expectRedis ? 3 : 2);
  for (const port of ports) expect(await answers(port), `something still listens on ${port}`).toBe(false);
}

/** Will the demo find a redis-server (same lookup as the demo's)? */
const redisOnPath = () => findRedisServer(demoEnv()) !== null;

afterEach(async () => {
  // Whatever happened, leave nothing behind: the demo's group, then what it started.
  for (const run of runs.splice(0)) {
    try {
      process.kill(-run.pid, 'SIGKILL');
    } catch {
      // gone
    }
    for (const pid of startedByDemo(run.output()).pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

describe('demo on embedded defaults', () => {
  it('plays the outage scenario: opens, fails a recovery with backoff, recovers; exits 0; leaves nothing running', { timeout: 200_000 }, async () => {
    const duration = 75;
    const run = startDemo(['--plain', '--no-ui', '--duration', String(duration)]);
    const result = await Promise.race([
      run.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`demo still running after ${duration + 60}s:\n${run.output()}`)), (duration + 60) * 1000)),
    ]);
    const out = run.output();
    console.info(`[demo] output:\n${out}`);

    expect(result.code, out).toBe(0);
    expect(out).toMatch(/Temporal dev server at 127\.0\.0\.1:\d+ \(pid \d+\), Web UI off/);
    const withRedis = redisOnPath();
    expect(out).toMatch(withRedis ? /breaker state in Redis: redis-server started at redis:\/\// : /breaker state in process memory/);

    // The story, in order, from the plain output (one line per transition).
    const opened = out.search(/moralis: closed → open: circuit OPENED after 3 failures in a row/);
    const failedRecovery = out.search(/moralis: half-open → open: probe failed: FAILED RECOVERY, backoff 10s → 15s/);
    const recovered = out.search(/moralis: half-open → closed: .*SUCCESSFUL RECOVERY/);
    expect(opened, 'circuit opened').toBeGreaterThan(-1);
    expect(failedRecovery, 'failed recovery with backoff').toBeGreaterThan(opened);
    expect(recovered, 'successful recovery').toBeGreaterThan(failedRecovery);
    expect(out).toMatch(/scenario: 'outage' complete/);
    expect(out).toMatch(new RegExp(`stopping \\(--duration ${duration}s reached\\)`));
    expect(out).toMatch(/stopped the worker, .*the upstream simulator, .*the Temporal dev server \(pid \d+\)/);
    // The exact commands for a second terminal.
    expect(out).toMatch(/TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ npx temporal-breaker force-open moralis --reason "maintenance"/);
    expect(out).toMatch(/workflow signal --workflow-id circuit-breaker:moralis --name forceOpen --input '\{"reason":"maintenance"\}' --address 127\.0\.0\.1:\d+/);

    // Timing: the demo's own account (from process start) and what this test saw (from spawn).
    const timing = out.match(/timing: first state change \+([\d.]+)s after the command, scenario complete \+([\d.]+)s after the command/);
    expect(timing, 'timing line').not.toBeNull();
    const [firstChange, scenarioEnd] = [Number(timing![1]), Number(timing![2])];
    const seenOpen = run.lines.find((l) => /circuit OPENED/.test(l.text))!.at / 1000;
    const seenEnd = run.lines.find((l) => /'outage' complete/.test(l.text))!.at / 1000;
    console.info(
      `[demo] first state change: +${firstChange}s after process start (${seenOpen.toFixed(1)}s after spawning npx); ` +
        `scenario end: +${scenarioEnd}s (${seenEnd.toFixed(1)}s after spawn); demo exited ${(result.at / 1000).toFixed(1)}s after spawn`,
    );
    expect(firstChange).toBeLessThan(30);
    expect(scenarioEnd).toBeLessThan(120);

    await expectNothingLeft(out, withRedis);
  });

  it('stops everything it started on Ctrl-C (SIGINT to its process group)', { timeout: 120_000 }, async () => {
    const run = startDemo(['--plain', '--no-ui']);
    await waitForLine(run, /circuit OPENED/, 90_000);
    const sentAt = Date.now();
    process.kill(-run.pid, 'SIGINT');
    const result = await Promise.race([
      run.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`demo still running 30s after SIGINT:\n${run.output()}`)), 30_000)),
    ]);
    const out = run.output();
    console.info(`[demo] stopped ${((Date.now() - sentAt) / 1000).toFixed(1)}s after SIGINT; output tail:\n${out.split('\n').slice(-4).join('\n')}`);
    // npm/npx re-raise the signal they got; the demo itself finishes its cleanup and its summary.
    expect(result.code === 0 || result.signal === 'SIGINT', `exit ${result.code} ${result.signal}`).toBe(true);
    expect(out).toMatch(/stopping \(SIGINT received\)/);
    expect(out).not.toMatch(/SIGINT again/);
    expect(out).toMatch(/stopped the worker, .*the Temporal dev server \(pid \d+\)/);
    expect(out).toMatch(/summary: first state change \+[\d.]+s; scenario 'outage' not finished/);
    await expectNothingLeft(out, redisOnPath());
  });

  it('names the valid scenarios when given an unknown one, starting nothing', { timeout: 60_000 }, async () => {
    const run = startDemo(['--plain', '--scenario', 'nope']);
    const result = await run.closed;
    const out = run.output();
    expect(result.code).toBe(1);
    expect(out).toMatch(/unknown scenario 'nope'; valid scenarios: outage \(.*\); operator \(.*\)/);
    expect(out).not.toMatch(/starting/);
  });
});
