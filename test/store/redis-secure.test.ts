// Redis as a managed service runs it: TLS only (`--tls-port`, no plain port), the default user
// off, an ACL user limited to the breaker's keys. A redis-server of this file's own (Debian's, on a
// free port, certificates made with openssl) serves the stores the app builds from its
// configuration (src/app/stores.ts): REDIS_URL=rediss://user:password@…, REDIS_TLS_CA_FILE, or
// REDIS_USERNAME / REDIS_PASSWORD. Two stores share one breaker's state through it; a wrong
// password, a wrong CA or missing credentials is one error line naming the setting (the fallback
// keeps deciding), and no log line holds a password.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, type Logger } from '../../src';
import { createStores, type Stores } from '../../src/app/stores';
import { breakerConfigs } from '../../src/config/breakers';
import { loadConfig } from '../../src/config/load';
import { freePort, portAnswers } from '../../src/demo/processes';
import { makeCertificates, type TestCertificates } from '../helpers/tls';

const PASSWORD = `pw-${randomUUID()}`;
const WRONG = `wrong-${randomUUID()}`;
const PREFIX = `secure-${randomUUID().slice(0, 8)}:`;

let dir: string;
let certs: TestCertificates;
let port: number;
let server: ChildProcess;
let serverLog = '';

interface Line {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}
function captureLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcb-redis-secure-'));
  certs = makeCertificates(dir);
  port = await freePort();
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      'port 0',
      `tls-port ${port}`,
      'bind 127.0.0.1',
      `tls-cert-file ${certs.serverCert}`,
      `tls-key-file ${certs.serverKey}`,
      `tls-ca-cert-file ${certs.caCert}`,
      'tls-auth-clients no',
      'save ""',
      'appendonly no',
      `dir ${dir}`,
      'user default off',
      // The breaker's keys only (the result store is not used here), every command.
      `user breaker on >${PASSWORD} ~${PREFIX}* +@all`,
      '',
    ].join('\n'),
  );
  server = spawn(process.env.REDIS_SERVER_PATH || 'redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (c: Buffer) => (serverLog += c.toString()));
  server.stderr?.on('data', (c: Buffer) => (serverLog += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await portAnswers(port, '127.0.0.1'))) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server with TLS did not start: ${serverLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function stores(env: Record<string, string>, logger: Logger): Stores {
  return createStores(loadConfig({ BREAKERS: 'moralis', BREAKER_FAILURE_THRESHOLD: '3', REDIS_KEY_PREFIX: `${PREFIX}cb_state:`, REDIS_TIMEOUT_MS: '1000', ...env }), logger);
}

const moralis = () => breakerConfigs(loadConfig({ BREAKERS: 'moralis', BREAKER_FAILURE_THRESHOLD: '3' })).get('moralis')!;

async function waitReady(s: Stores): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (s.redis!.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`redis client not ready: ${s.redis!.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Redis over TLS with an ACL user', () => {
  it('two stores share one breaker through rediss:// with the user in the URL or in REDIS_USERNAME / REDIS_PASSWORD', async () => {
    const log = captureLogger();
    const a = stores({ REDIS_URL: `rediss://breaker:${PASSWORD}@127.0.0.1:${port}`, REDIS_TLS_CA_FILE: certs.caCert }, log);
    const b = stores({ REDIS_URL: `rediss://localhost:${port}`, REDIS_USERNAME: 'breaker', REDIS_PASSWORD: PASSWORD, REDIS_TLS_CA_FILE: certs.caCert }, log);
    try {
      expect(a.description).toBe(`Redis rediss://breaker:***@127.0.0.1:${port} (TLS, CA ${certs.caCert})`);
      expect(b.description).toBe(`Redis rediss://localhost:${port} (TLS, CA ${certs.caCert}), user breaker, password set`);
      await Promise.all([waitReady(a), waitReady(b)]);
      const inA = new CircuitBreaker(moralis(), a.breakers);
      const inB = new CircuitBreaker(moralis(), b.breakers);
      const now = Date.now();
      for (let i = 0; i < 3; i++) {
        const d = await (i % 2 ? inB : inA).acquire(now + i);
        expect(d.allowed).toBe(true);
        if (d.allowed) await (i % 2 ? inB : inA).recordOutcome(d.permit, 'failure', now + i);
      }
      // Opened by three failures from two stores; each sees it open.
      expect((await inA.getStatus(now + 10)).state).toBe('open');
      expect((await inB.getStatus(now + 10)).state).toBe('open');
      expect((await inB.getStatus(now + 10)).statistics.total_failures).toBe(3);
      // In Redis, under the ACL user's key prefix.
      const admin = new Redis(`rediss://breaker:${PASSWORD}@127.0.0.1:${port}`, { tls: { ca: readFileSync(certs.caCert) }, maxRetriesPerRequest: 1 });
      try {
        expect(await admin.exists(`${PREFIX}cb_state:moralis`)).toBe(1);
        // The user cannot touch other keys: the ACL is real.
        await expect(admin.set('elsewhere', '1')).rejects.toThrow(/NOPERM/);
      } finally {
        admin.disconnect();
      }
    } finally {
      await a.close();
      await b.close();
    }
    expect(log.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect(JSON.stringify(log.lines)).not.toContain(PASSWORD);
  });

  it('a wrong password, a wrong CA, no credentials: one error line naming the setting, the fallback decides, no password logged', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['wrong password', { REDIS_URL: `rediss://breaker:${WRONG}@127.0.0.1:${port}`, REDIS_TLS_CA_FILE: certs.caCert }, new RegExp(`^Redis at 127\\.0\\.0\\.1:${port} refused the credentials \\(the user and password in REDIS_URL\\): WRONGPASS`)],
      ['wrong password variable', { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_USERNAME: 'breaker', REDIS_PASSWORD: WRONG, REDIS_TLS_CA_FILE: certs.caCert }, /refused the credentials \(REDIS_USERNAME \/ REDIS_PASSWORD\): WRONGPASS/],
      ['no credentials', { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_TLS_CA_FILE: certs.caCert }, /refused the credentials \(the user and password in REDIS_URL\): NOAUTH/],
      ['wrong CA', { REDIS_URL: `rediss://breaker:${PASSWORD}@127.0.0.1:${port}`, REDIS_TLS_CA_FILE: certs.otherCaCert }, new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}: TLS failed \\(.*certificate.*\\): check REDIS_TLS_CA_FILE`)],
    ];
    await Promise.all(
      cases.map(async ([what, env, expected]) => {
        const log = captureLogger();
        const s = stores(env, log);
        try {
          const deadline = Date.now() + 8_000;
          while (!log.lines.some((l) => l.level === 'error')) {
            if (Date.now() > deadline) throw new Error(`${what}: no error line: ${JSON.stringify(log.lines)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          // The breaker still decides (the in-process fallback): the store never fails the call.
          const d = await new CircuitBreaker(moralis(), s.breakers).acquire(Date.now());
          expect(d.allowed, what).toBe(true);
          await new Promise((r) => setTimeout(r, 500)); // a few reconnects: still one line for them
        } finally {
          await s.close();
        }
        const errors = log.lines.filter((l) => l.level === 'error' && /^Redis at /.test(l.msg));
        expect(errors.length, `${what}: ${JSON.stringify(log.lines.filter((l) => l.level !== 'debug'))}`).toBe(1);
        expect(errors[0]!.msg, what).toMatch(expected);
        const all = JSON.stringify(log.lines);
        expect(all, what).not.toContain(PASSWORD);
        expect(all, what).not.toContain(WRONG);
      }),
    );
  });
});
