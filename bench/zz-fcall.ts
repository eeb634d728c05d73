import Redis from 'ioredis';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { startBenchRedis } from './redis-server';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const full = readFileSync('src/store/lua/breaker.lua', 'utf8');
  const shaFull = (await c.script('LOAD', full)) as string;
  const now = Date.now();
  await c.evalsha(shaFull, 1, 'k', 'record', now, 86400, '5,300,3,2,1.5,3600', 0, -1, 'success');
  const lib = `#!lua name=cbproto
local cache = {}
redis.register_function('acq_cached', function(keys, args)
  local raw = redis.call('GET', keys[1])
  local c = cache[keys[1]]
  if c and c.raw == raw then return { '', c.epoch } end
  local s = cjson.decode(raw)
  cache[keys[1]] = { raw = raw, epoch = s.epoch }
  return { '', s.epoch }
end)
redis.register_function('acq_plain', function(keys, args)
  local s = cjson.decode(redis.call('GET', keys[1]))
  return { '', s.epoch }
end)`;
  await c.call('FUNCTION', 'LOAD', 'REPLACE', lib);
  const A = ['acquire', now, 86400, '5,300,3,2,1.5,3600', 60000];
  const cases: Record<string, () => Promise<unknown>> = {
    incr: () => c.incr('x'),
    'evalsha acquire (current)': () => c.evalsha(shaFull, 1, 'k', ...A),
    'fcall decode each call': () => c.call('FCALL', 'acq_plain', '1', 'k'),
    'fcall cached decode': () => c.call('FCALL', 'acq_cached', '1', 'k'),
  };
  const res: Record<string, number[]> = {};
  for (let round = 0; round < 5; round++) for (const [label, f] of Object.entries(cases)) {
    for (let i = 0; i < 500; i++) await f();
    const N = 5000; const t = performance.now();
    for (let i = 0; i < N; i++) await f();
    (res[label] ??= []).push(((performance.now() - t) / N) * 1000);
  }
  for (const [label, f] of Object.entries(cases)) {
    await c.config('RESETSTAT');
    for (let i = 0; i < 20000; i += 500) { const p = c.pipeline(); for (let j = 0; j < 500; j++) (p as any).call ? null : null; await Promise.all(Array.from({ length: 500 }, () => f())); }
    const st = (await c.info('commandstats')).split('\n').filter((l) => /cmdstat_(incr|evalsha|fcall):/.test(l)).map((l) => l.match(/^cmdstat_(\w+):.*usec_per_call=([\d.]+)/)!.slice(1).join('=')).join(' ');
    const v = res[label].sort((a, b) => a - b);
    console.log(label.padEnd(28), '1-caller median', v[2].toFixed(1), 'µs | server', st);
  }
  await c.quit(); await r.stop();
})();
