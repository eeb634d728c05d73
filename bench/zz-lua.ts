import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { startBenchRedis } from './redis-server';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const full = readFileSync('src/store/lua/breaker.lua', 'utf8');
  const key = 'k';
  const now = Date.now();
  const args = (op: string, extra: (string|number)[]) => [op, now, 86400, '5,300,3,2,1.5,3600', ...extra];
  // seed state
  await c.eval(full, 1, key, ...args('record', [0, -1, 'success']));
  const state = await c.get(key);
  console.log('state bytes', state!.length);
  const variants: Record<string, [string, (string|number)[]]> = {
    'return 1': ['return 1', []],
    'GET': ["return redis.call('GET', KEYS[1])", []],
    'GET+decode': ["local s = cjson.decode(redis.call('GET', KEYS[1])) return 1", []],
    'GET+decode+encode': ["local s = cjson.decode(redis.call('GET', KEYS[1])) local j = cjson.encode(s) return 1", []],
    'GET+decode+encode+SET': ["local s = cjson.decode(redis.call('GET', KEYS[1])) redis.call('SET', KEYS[1], cjson.encode(s), 'EX', 86400) return 1", []],
    'full acquire (closed)': [full, args('acquire', [60000])],
    'full record success': [full, args('record', [0, -1, 'success'])],
    'full load': [full, args('load', [])],
  };
  for (const [label, [script, argv]] of Object.entries(variants)) {
    const sha = (await c.script('LOAD', script)) as string; await c.config('RESETSTAT');
    const N = 20000;
    for (let i = 0; i < N; i += 500) {
      const p = c.pipeline();
      for (let j = 0; j < 500; j++) p.evalsha(sha, 1, key, ...argv);
      await p.exec();
    }
    const st = (await c.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    console.log(label.padEnd(26), st?.match(/usec_per_call=([\d.]+)/)?.[1]);
  }
  await c.quit(); await r.stop();
})();
