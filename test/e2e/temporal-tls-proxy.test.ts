// Temporal behind TLS, as Temporal Cloud or a self-hosted cluster behind an ingress looks to our
// programs: the dev server behind nginx (Debian's, `grpc_pass`) terminating TLS with certificates
// this file makes (openssl), once requiring a client certificate (mutual TLS) and once requiring
// `authorization: Bearer <key>` (an API key). The worker, the CLI and the library's
// `connectBreakerClient` read the SDK's client settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY, a
// temporal.toml profile) and connect with the right ones; with wrong ones each fails in one line
// naming the setting and the server, and no secret appears in any output.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBreakerClient } from '../../src/client';
import { startGrpcTlsProxy, type GrpcTlsProxy } from '../helpers/grpc-proxy';
import { runCli, stopAllWorkers, WorkerProcess, type CliResult } from '../helpers/processes';
import { redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';
import { makeCertificates, type TestCertificates } from '../helpers/tls';

const id = randomUUID().slice(0, 8);
const API_KEY = `tcb-test-key-${randomUUID()}`;
const WRONG_KEY = `tcb-wrong-key-${randomUUID()}`;
const base = {
  TEMPORAL_TASK_QUEUE: `tls-proxy-${id}`,
  REDIS_URL: '',
  REDIS_KEY_PREFIX: `tls-proxy-${id}:cb_state:`,
  BREAKERS: 'moralis,glassnode',
  TCB_LOG_LEVEL: 'info',
};

let dir: string;
let certs: TestCertificates;
let env: TestWorkflowEnvironment;
let proxy: GrpcTlsProxy;
let mtls: Record<string, string>;
let apiKey: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcb-tls-proxy-'));
  certs = makeCertificates(dir);
  env = await createDevServerEnv();
  proxy = await startGrpcTlsProxy({ dir, upstream: env.address, certs, apiKey: API_KEY });
  base.REDIS_URL = redisUrl();
  mtls = {
    ...base,
    TEMPORAL_ADDRESS: proxy.mtlsAddress,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
  };
  apiKey = { ...base, TEMPORAL_ADDRESS: proxy.apiKeyAddress, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert, TEMPORAL_API_KEY: API_KEY };
});

afterAll(async () => {
  await stopAllWorkers();
  await proxy?.stop();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** No output of a run holds a secret: the API keys, the client key's PEM. */
function expectNoSecret(text: string): void {
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(WRONG_KEY);
  expect(text).not.toContain('PRIVATE KEY');
}

/** A failed CLI run: exit code 1, exactly one line on stderr, no secret. */
function oneLineFailure(r: CliResult): string {
  expectNoSecret(r.stdout + r.stderr);
  expect({ code: r.code, lines: r.errorLines.length }, r.stderr).toEqual({ code: 1, lines: 1 });
  return r.errorLines[0]!;
}

describe('Temporal behind a TLS-terminating gRPC proxy (nginx)', () => {
  it('a worker connects with mutual TLS, another with an API key; the CLI and connectBreakerClient connect through both', async () => {
    const started = Date.now();
    const viaMtls = WorkerProcess.start('mtls', mtls);
    const viaKey = WorkerProcess.start('api-key', apiKey);
    await Promise.all([viaMtls.ready(), viaKey.ready()]);
    console.info(`[tls-proxy] both workers running in ${Date.now() - started} ms`);
    expect(viaMtls.output).toContain(`connected to Temporal at ${proxy.mtlsAddress} (namespace default, TLS with a custom CA, client certificate)`);
    expect(viaKey.output).toContain(`connected to Temporal at ${proxy.apiKeyAddress} (namespace default, TLS with a custom CA, API key)`);

    // The CLI: through each proxy with its settings, and through a temporal.toml profile.
    const toml = join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      `[profile.mtls]\naddress = "${proxy.mtlsAddress}"\n[profile.mtls.tls]\nserver_ca_cert_path = "${certs.caCert}"\nclient_cert_path = "${certs.clientCert}"\nclient_key_path = "${certs.clientKey}"\n`,
    );
    const { TEMPORAL_ADDRESS: _a, TEMPORAL_TLS_SERVER_CA_CERT_PATH: _b, TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _d, ...noTemporal } = mtls;
    const b = await runCli(['force-open', 'glassnode', '--reason', 'through the API-key proxy'], apiKey);
    const [a, c] = await Promise.all([
      runCli(['status', 'moralis', '--json'], mtls),
      runCli(['status', '--json'], { ...noTemporal, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls' }),
    ]);
    for (const r of [a, b, c]) {
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expectNoSecret(r.stdout);
    }
    expect(JSON.parse(a.stdout)).toMatchObject({ collector_name: 'moralis', state: 'closed' });
    expect(b.stdout.trim()).toBe('glassnode: open (forced)');
    expect((JSON.parse(c.stdout) as { collector_name: string; state: string }[]).map((s) => [s.collector_name, s.state])).toEqual([
      ['moralis', 'closed'],
      ['glassnode', 'open'],
    ]);

    // The library's helper (grpc-js): the same settings, from an environment object.
    const connected = await connectBreakerClient({ env: apiKey, taskQueue: base.TEMPORAL_TASK_QUEUE, breakers: ['moralis', 'glassnode'] });
    try {
      expect(connected.settings.description).toBe(`${proxy.apiKeyAddress} (namespace default, TLS with a custom CA, API key)`);
      expect((await connected.breakers.reset('glassnode', 'back to normal')).state).toBe('closed');
    } finally {
      await connected.close();
    }
    for (const w of [viaMtls, viaKey]) expectNoSecret(w.output);
  });

  it('wrong settings fail in one line naming the setting and the server, without a secret', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noClientCert } = mtls;
    const missingKey = join(dir, 'no-such-client.key');
    const runs = await Promise.all([
      runCli(['status', 'moralis'], noClientCert),
      runCli(['status', 'moralis'], { ...mtls, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.otherCaCert }),
      runCli(['status', 'moralis'], { ...mtls, TEMPORAL_TLS_CLIENT_KEY_PATH: missingKey }),
      runCli(['status', 'moralis'], { ...apiKey, TEMPORAL_API_KEY: WRONG_KEY }),
      runCli(['status', 'moralis'], { ...mtls, TEMPORAL_TLS_CLIENT_CERT_PATH: certs.serverCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.serverKey }),
      runCli(['worker'], { ...apiKey, TEMPORAL_API_KEY: WRONG_KEY }),
      runCli(['worker'], { ...apiKey, TEMPORAL_API_KEY: '', TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert }),
    ]);
    const lines = runs.map(oneLineFailure);
    console.info(`[tls-proxy] failure lines:\n  ${lines.join('\n  ')}`);
    const m = proxy.mtlsAddress;
    const k = proxy.apiKeyAddress;
    expect(lines[0]).toBe(`temporal-breaker: Temporal at ${m} requires a client certificate (mutual TLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH`);
    expect(lines[1]).toBe(`temporal-breaker: Temporal at ${m}: the server's TLS certificate is not trusted (UnknownIssuer): check TEMPORAL_TLS_SERVER_CA_CERT_PATH (the CA that signed the server's certificate)`);
    expect(lines[2]).toBe(`temporal-breaker: TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read '${missingKey}': no such file (for the Temporal server at ${m})`);
    expect(lines[3]).toBe(`temporal-breaker: Temporal at ${k} refused the API key (TEMPORAL_API_KEY): invalid API key`);
    // A certificate the proxy does not accept as a client's (a server certificate: wrong key usage).
    expect(lines[4]).toMatch(new RegExp(`^temporal-breaker: Temporal at ${m} (rejected the client certificate: check TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH|requires a client certificate)`));
    expect(lines[5]).toBe(`temporal-breaker: Temporal at ${k} refused the API key (TEMPORAL_API_KEY): invalid API key`);
    expect(lines[6]).toBe(`temporal-breaker: Temporal at ${k} requires credentials (invalid API key): set TEMPORAL_API_KEY, or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)`);

    // The library's helper: a one-line TemporalConnectError, no secret.
    const err = await connectBreakerClient({ env: { ...apiKey, TEMPORAL_API_KEY: WRONG_KEY }, connectTimeoutMs: 5_000 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('TemporalConnectError');
    expect(err!.message).not.toContain('\n');
    expectNoSecret(err!.message);
    expect(err!.message).toMatch(new RegExp(`^Temporal at ${k} (refused the API key \\(TEMPORAL_API_KEY\\)|is unreachable)`));
  });
});
