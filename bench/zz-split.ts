import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startBenchRedis } from './redis-server';
import { CircuitBreaker, RedisBreakerStore, silentLogger, parseBreakerConfig } from '../src';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const full = readFileSync('src/store/lua/breaker.lua', 'utf8');
  const shaFull = (await c.script('LOAD', full)) as string;
  const now = Date.now();
  const A = ['acquire', now, 86400, '5,300,3,2,1.5,3600', 60000];
  const R = ['record', now, 86400, '5,300,3,2,1.5,3600', 0, -1, 'success'];
  const store = new RedisBreakerStore({ redis: c, logger: silentLogger });
  const cfg = parseBreakerConfig({ collectorName: 'split' });
  const b = new CircuitBreaker(cfg, store);
  const permit = { breaker: 'split', epoch: 0, probeId: null, issuedAt: now, leaseExpiresAt: null };
  const cases: Record<string, () => Promise<unknown>> = {
    'incr': () => c.incr('x'),
    'raw evalsha acquire': () => c.evalsha(shaFull, 1, 'cb_state:split', ...A),
    'raw evalsha record': () => c.evalsha(shaFull, 1, 'cb_state:split', ...R),
    'store.acquire': () => store.acquire(cfg, now, 60000),
    'store.record': () => store.record(cfg, permit, 'success', now),
    'breaker acquire+record': async () => { const d = await b.acquire(now); if (d.allowed) await b.recordSuccess(d.permit, now); },
  };
  const res: Record<string, number[]> = {};
  for (let round = 0; round < 5; round++) for (const [label, f] of Object.entries(cases)) {
    for (let i = 0; i < 500; i++) await f();
    const N = 5000; const t = performance.now();
    for (let i = 0; i < N; i++) await f();
    (res[label] ??= []).push(((performance.now() - t) / N) * 1000);
  }
  for (const [k, v] of Object.entries(res)) { v.sort((a, b) => a - b); console.log(k.padEnd(26), 'median', v[2].toFixed(1), 'µs  [', v.map((x) => x.toFixed(0)).join(' '), ']'); }
  await c.quit(); await r.stop();
})();
