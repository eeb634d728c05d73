import Redis from 'ioredis';
import { performance } from 'node:perf_hooks';
import { startBenchRedis } from './redis-server';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const sha1 = (await c.script('LOAD', 'return 1')) as string;
  const shaArr = (await c.script('LOAD', 'return {"",1,"closed",0,0,-1,-1,-1,"","",""}')) as string;
  const cases: Record<string, () => Promise<unknown>> = {
    'incr': () => c.incr('x'),
    'get (nil)': () => c.get('nokey'),
    'set small': () => c.set('y', 'v'),
    'evalsha return 1': () => c.evalsha(sha1, 1, 'k'),
    'evalsha return 11-array': () => c.evalsha(shaArr, 1, 'k'),
    'call EVALSHA return 1': () => c.call('EVALSHA', sha1, '1', 'k'),
    'fcall-less: lpush+ltrim multi?': () => c.incrby('x', 1),
  };
  for (let round = 0; round < 3; round++) for (const [label, f] of Object.entries(cases)) {
    for (let i = 0; i < 1000; i++) await f();
    const N = 10000; const t = performance.now();
    for (let i = 0; i < N; i++) await f();
    const us = ((performance.now() - t) / N) * 1000;
    if (round) console.log(round, label.padEnd(28), us.toFixed(1), 'µs');
  }
  await c.quit(); await r.stop();
})();
