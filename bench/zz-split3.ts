import Redis from 'ioredis';
import { performance } from 'node:perf_hooks';
import { startBenchRedis } from './redis-server';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const load = async (s: string) => (await c.script('LOAD', s)) as string;
  const scripts: Record<string, string> = {
    'return 1': await load('return 1'),
    'return {1}': await load('return {1}'),
    'return 3 ints': await load('return {1,2,3}'),
    'return 11 ints': await load('return {1,2,3,4,5,6,7,8,9,10,11}'),
    'return 11 mixed': await load('return {"",1,"closed",0,0,-1,-1,-1,"","",""}'),
    'return 1 string (packed)': await load('return "|1|closed|0|0|-1|-1|-1|||"'),
  };
  const res: Record<string, number[]> = {};
  for (let round = 0; round < 6; round++) for (const [label, sha] of Object.entries(scripts)) {
    const N = 8000; const t = performance.now();
    for (let i = 0; i < N; i++) await c.evalsha(sha, 1, 'k');
    (res[label] ??= []).push(((performance.now() - t) / N) * 1000);
  }
  for (const [k, v] of Object.entries(res)) { v.sort((a, b) => a - b); console.log(k.padEnd(26), v.map((x) => x.toFixed(1)).join(' '), ' median', v[3].toFixed(1)); }
  await c.quit(); await r.stop();
})();
