// The worker's metrics endpoint setup (src/app/runtime.ts): host names resolve to the socket
// address the SDK needs, and an endpoint that cannot be served stops `temporal-breaker worker`
// at once with one line naming METRICS_PROMETHEUS_ADDRESS, before it touches Temporal.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/env';
import { resolveBindAddress, workerRuntimeOptions } from '../../src/app/runtime';
import { repoRoot } from '../helpers/paths';

describe('worker runtime options', () => {
  it('binds an IP address as given and resolves a host name', async () => {
    expect(await resolveBindAddress('0.0.0.0:9464')).toBe('0.0.0.0:9464');
    expect(await resolveBindAddress('[::1]:9464')).toBe('[::1]:9464');
    expect(await resolveBindAddress('localhost:9464')).toMatch(/^(127\.0\.0\.1|\[::1\]):9464$/);
    await expect(resolveBindAddress('no-such-host.invalid:9464')).rejects.toThrow(/METRICS_PROMETHEUS_ADDRESS/);
  });

  it('installs nothing without an address, the Prometheus exporter with one', async () => {
    expect(await workerRuntimeOptions({ metrics: {} })).toBeNull();
    expect(await workerRuntimeOptions({ metrics: { prometheusAddress: '127.0.0.1:9464' } })).toEqual({
      telemetryOptions: { metrics: { prometheus: { bindAddress: '127.0.0.1:9464' } } },
    });
  });

  it('stops the worker with one line when the port is taken', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      for (const v of ENV_VARS) delete env[v.name];
      env.METRICS_PROMETHEUS_ADDRESS = `127.0.0.1:${port}`;
      env.TEMPORAL_ADDRESS = '127.0.0.1:1'; // never reached: the runtime comes first
      const child = spawn(process.execPath, [join(repoRoot, 'bin/temporal-breaker.js'), 'worker'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      clearTimeout(timer);
      expect(code).toBe(1);
      const lines = stderr.split('\n').filter((l) => l.startsWith('temporal-breaker:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`cannot serve Prometheus metrics on METRICS_PROMETHEUS_ADDRESS '127\\.0\\.0\\.1:${port}': .*[Aa]ddress already in use`));
      expect(stderr).not.toMatch(/Temporal at .* is unreachable/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  }, 60_000);
});
