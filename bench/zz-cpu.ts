import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { startBenchRedis } from './redis-server';
import { CircuitBreaker, RedisBreakerStore, silentLogger, parseBreakerConfig } from '../src';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const admin = new Redis(r.url);
  const luaFile = process.env.LUA ?? 'src/store/lua/breaker.lua';
  const full = readFileSync(luaFile, 'utf8');
  const shaFull = (await c.script('LOAD', full)) as string;
  const shaTriv = (await c.script('LOAD', 'return 1')) as string;
  const sha11 = (await c.script('LOAD', 'return {"",1,"closed",0,0,-1,-1,-1,"","",""}')) as string;
  const now = Date.now();
  const args = (op: string, extra: (string | number)[] = []) => [op, now, 86400, '5,300,3,2,1.5,3600', ...extra];
  const store = new RedisBreakerStore({ redis: c, logger: silentLogger });
  const cfg = parseBreakerConfig({ collectorName: 'cpu' });
  const b = new CircuitBreaker(cfg, store);
  const permit = { breaker: 'cpu', epoch: 0, probeId: null, issuedAt: now, leaseExpiresAt: null };
  const cases: Record<string, () => Promise<unknown>> = {
    'incr': () => c.incr('x'),
    'evalsha return 1, 0 args': () => c.evalsha(shaTriv, 1, 'k'),
    'evalsha return 1, 10 args': () => c.evalsha(shaTriv, 1, 'k', ...args('acquire', [60000])),
    'evalsha return 11-array': () => c.evalsha(sha11, 1, 'k'),
    'raw script acquire': () => c.evalsha(shaFull, 1, 'cb_state:cpu', ...args('acquire', [60000])),
    'raw script record': () => c.evalsha(shaFull, 1, 'cb_state:cpu', ...args('record', [0, -1, 'success'])),
    'store.acquire': () => store.acquire(cfg, now, 60000),
    'store.record': () => store.record(cfg, permit, 'success', now),
    'breaker acquire+record /2': async () => { const d = await b.acquire(now); if (d.allowed) await b.recordSuccess(d.permit, now); },
  };
  const redisCpu = async () => { const i = await admin.info('cpu'); return Number(/used_cpu_user:([\d.]+)/.exec(i)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(i)![1]); };
  for (const [label, f] of Object.entries(cases)) {
    const N = 60000, C = 32;
    for (let i = 0; i < 2000; i++) await f();
    const r0 = await redisCpu(); const u0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
    let left = N;
    await Promise.all(Array.from({ length: C }, async () => { while (left-- > 0) await f(); }));
    const wall = Number(process.hrtime.bigint() - t0) / 1e3;
    const u = process.cpuUsage(u0); const r1 = await redisCpu();
    const div = label.endsWith('/2') ? 2 * N : N;
    console.log(label.padEnd(28), 'node', ((u.user + u.system) / div).toFixed(2).padStart(6), 'µs/op  redis', (((r1 - r0) * 1e6) / div).toFixed(2).padStart(6), 'µs/op  ', Math.round(div / (wall / 1e6)), 'ops/s');
  }
  await c.quit(); await admin.quit(); await r.stop();
})();
