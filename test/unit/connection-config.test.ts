// Connection settings for secured servers, without servers: the Redis settings (ACL user,
// password, TLS files, Sentinel) as the configuration reads and checks them, what the worker logs
// about them (never a password), and the Temporal client settings as the SDK's envconfig reads them
// (temporal.toml profiles, TEMPORAL_API_KEY, TEMPORAL_TLS_*), with one-line errors naming the setting.
// The real servers are in test/e2e/temporal-tls-proxy.test.ts, test/store/redis-secure.test.ts and
// test/e2e/faults-redis-sentinel.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisConnection, redisProblem } from '../../src/app/stores';
import { explainConnectError, loadTemporalConnectSettings, TemporalConnectionConfigError } from '../../src/client';
import { ConfigError, loadConfig } from '../../src/config/load';

const dir = mkdtempSync(join(tmpdir(), 'tcb-conn-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('Redis connection settings', () => {
  it('accepts an ACL user and password in the URL or as variables, and never describes the password', () => {
    const inUrl = loadConfig({ REDIS_URL: 'redis://breaker:pa%24%24word@cache:6380/1' });
    const c = redisConnection(inUrl.redis);
    expect(c.description).toBe('Redis redis://breaker:***@cache:6380/1');
    expect(c.server).toBe('cache:6380');
    const vars = redisConnection(loadConfig({ REDIS_URL: 'redis://cache:6380', REDIS_USERNAME: 'breaker', REDIS_PASSWORD: 'pa$$word' }).redis);
    expect(vars.options).toMatchObject({ username: 'breaker', password: 'pa$$word' });
    expect(vars.description).toBe('Redis redis://cache:6380, user breaker, password set');
    expect(vars.description).not.toContain('pa$$word');
  });

  it('reads the TLS files of a rediss:// URL, naming the variable of a missing one', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const c = redisConnection(loadConfig({ REDIS_URL: 'rediss://u:pw@cache:6380', REDIS_TLS_CA_FILE: ca, REDIS_TLS_SERVER_NAME: 'cache.internal' }).redis);
    expect(c.options.tls).toMatchObject({ servername: 'cache.internal' });
    expect(Buffer.isBuffer((c.options.tls as { ca: Buffer }).ca)).toBe(true);
    expect(c.description).toBe(`Redis rediss://u:***@cache:6380 (TLS, CA ${ca}), user u`.replace(', user u', ''));
    const missing = join(dir, 'nope.pem');
    expect(() => redisConnection(loadConfig({ REDIS_URL: 'rediss://cache:6380', REDIS_TLS_CA_FILE: missing }).redis)).toThrow(
      `invalid configuration: redis.tls.caFile (REDIS_TLS_CA_FILE): cannot read '${missing}': no such file`,
    );
  });

  it('rejects TLS files without rediss://, half a client certificate, and Sentinel settings that do not fit', () => {
    expect(configError({ REDIS_URL: 'redis://cache:6380', REDIS_TLS_CA_FILE: '/ca.pem' })).toBe('invalid configuration: redis.tls: the TLS settings need a rediss:// URL (redis.url)');
    expect(configError({ REDIS_URL: 'rediss://cache:6380', REDIS_TLS_CERT_FILE: '/c.pem' })).toBe(
      'invalid configuration: redis.tls.keyFile (REDIS_TLS_KEY_FILE): a client certificate needs both redis.tls.certFile and redis.tls.keyFile',
    );
    expect(configError({ REDIS_SENTINELS: 's1:26379' })).toBe("invalid configuration: redis.name (REDIS_SENTINEL_MASTER): redis.sentinels needs the primary's name (ioredis's `name`)");
    expect(configError({ REDIS_SENTINEL_MASTER: 'mymaster' })).toBe('invalid configuration: redis.sentinels (REDIS_SENTINELS): redis.name needs redis.sentinels');
    expect(configError({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm' })).toBe('invalid configuration: redis.sentinels.0: a sentinel is host:port (or { host, port } in the config file)');
    expect(configError({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_URL: 'redis://x:1' })).toMatch(/set either redis\.url .* or redis\.sentinels/);
  });

  it('takes Sentinel as REDIS_SENTINELS + REDIS_SENTINEL_MASTER or in the ioredis form of the config file', () => {
    const fromVars = loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_MASTER: 'mymaster', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw' });
    const cfg = file('sentinel.json', JSON.stringify({ redis: { sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], name: 'mymaster', password: 'pw', sentinelPassword: 'spw' } }));
    const fromFile = loadConfig({ TCB_CONFIG_FILE: cfg });
    expect(fromFile.redis).toEqual(fromVars.redis);
    const c = redisConnection(fromVars.redis);
    expect(c.options).toMatchObject({ sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], name: 'mymaster', password: 'pw', sentinelPassword: 'spw', failoverDetector: true });
    expect(c.description).toBe("Redis Sentinel primary 'mymaster' via 10.0.0.1:26379,10.0.0.2:26379, password set, sentinel password set");
  });

  it('turns the errors a reconnect cannot cure into one line naming the setting', () => {
    const c = { server: 'cache:6380', credentials: 'the user and password in REDIS_URL' };
    expect(redisProblem('WRONGPASS invalid username-password pair or user is disabled.', c)).toBe(
      'Redis at cache:6380 refused the credentials (the user and password in REDIS_URL): WRONGPASS invalid username-password pair or user is disabled.',
    );
    expect(redisProblem('NOAUTH Authentication required.', c)).toMatch(/refused the credentials/);
    expect(redisProblem('unable to verify the first certificate', c)).toMatch(/^Redis at cache:6380: TLS failed \(unable to verify the first certificate\): check REDIS_TLS_CA_FILE/);
    expect(redisProblem('connect ECONNREFUSED 127.0.0.1:6380', c)).toBeNull();
  });
});

describe('Temporal connection settings (the SDK envconfig)', () => {
  const ca = file('t-ca.pem', 'CA PEM');
  const crt = file('t-client.pem', 'CLIENT PEM');
  const key = file('t-client.key', 'KEY PEM');

  it('plain text on localhost:7233 by default; an API key alone means TLS with the system roots', () => {
    const s = loadTemporalConnectSettings({ env: {} });
    expect(s).toMatchObject({ address: 'localhost:7233', namespace: 'default', tls: false });
    const k = loadTemporalConnectSettings({ env: { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'secret-key' } });
    expect(k).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', tls: {}, apiKey: 'secret-key' });
    expect(k.description).toBe('ns.acct.tmprl.cloud:7233 (namespace ns.acct, TLS, API key)');
  });

  it('reads mutual TLS from TEMPORAL_TLS_* and from a temporal.toml profile; the variables win', () => {
    const env = { TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca, TEMPORAL_TLS_CLIENT_CERT_PATH: crt, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_NAME: 'frontend' };
    const s = loadTemporalConnectSettings({ env });
    expect(s.tls).toEqual({ serverNameOverride: 'frontend', serverRootCACertificate: Buffer.from('CA PEM'), clientCertPair: { crt: Buffer.from('CLIENT PEM'), key: Buffer.from('KEY PEM') } });
    expect(s.description).toBe('h:7233 (namespace default, TLS with a custom CA, client certificate, server name frontend)');
    const toml = file('temporal.toml', `[profile.prod]\naddress = "prod:7233"\nnamespace = "prod-ns"\n[profile.prod.tls]\nserver_ca_cert_path = "${ca}"\nclient_cert_path = "${crt}"\nclient_key_path = "${key}"\n`);
    const p = loadTemporalConnectSettings({ env: { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' } });
    expect(p).toMatchObject({ address: 'prod:7233', namespace: 'prod-ns', profile: 'prod' });
    expect(p.tls).toMatchObject({ clientCertPair: { crt: Buffer.from('CLIENT PEM') } });
    expect(loadTemporalConnectSettings({ env: { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' } }).namespace).toBe('other');
    // The app configuration takes the profile's address and namespace as its lowest layer.
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }).temporal).toMatchObject({ address: 'prod:7233', namespace: 'prod-ns' });
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'env:1' }).temporal.address).toBe('env:1');
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(/Profile 'nope' not found/);
  });

  it('a missing file or half a key pair is an error naming the setting and the server', () => {
    const missing = join(dir, 'missing.key');
    const err = (env: Record<string, string>) => {
      try {
        loadTemporalConnectSettings({ env });
      } catch (e) {
        expect(e).toBeInstanceOf(TemporalConnectionConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: crt, TEMPORAL_TLS_CLIENT_KEY_PATH: missing })).toBe(
      `TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read '${missing}': no such file (for the Temporal server at h:7233)`,
    );
    expect(err({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: crt })).toBe(
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set but the client key is missing: set TEMPORAL_TLS_CLIENT_KEY_PATH too (for the Temporal server at h:7233)',
    );
  });

  it('explains what the SDK reports in one line, never with the API key', () => {
    const s = loadTemporalConnectSettings({ env: { TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_API_KEY: 'k-123', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca } });
    const cases: [string, RegExp][] = [
      ['tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))', /^Temporal at h:7233: the server's TLS certificate is not trusted \(UnknownIssuer\): check TEMPORAL_TLS_SERVER_CA_CERT_PATH/],
      ["Failed to call GetSystemInfo: code: 'The request does not have valid authentication credentials', message: \"invalid API key k-123\"", /^Temporal at h:7233 refused the API key \(TEMPORAL_API_KEY\): invalid API key \*\*\*$/],
      ['Failed to call GetSystemInfo: ... status: 400 Bad Request', /^Temporal at h:7233 requires a client certificate \(mutual TLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH$/],
      ['tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused })))', /^Temporal at h:7233 is unreachable: connection refused/],
    ];
    for (const [message, expected] of cases) {
      const line = explainConnectError(new Error(message), s);
      expect(line).toMatch(expected);
      expect(line).not.toContain('k-123');
      expect(line).not.toContain('\n');
    }
  });
});
