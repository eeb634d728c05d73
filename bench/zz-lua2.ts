import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { startBenchRedis } from './redis-server';
(async () => {
  const r = await startBenchRedis();
  const c = new Redis(r.url);
  const file = process.argv[2] ?? 'src/store/lua/breaker.lua';
  const full = readFileSync(file, 'utf8');
  const key = 'k';
  const now = Date.now();
  const args = (op: string, extra: (string|number)[]) => [op, now, 86400, '5,300,3,2,1.5,3600', ...extra];
  await c.eval(full, 1, key, ...args('record', [0, -1, 'success']));
  const cut = (marker: string) => { const i = full.indexOf(marker); if (i < 0) throw new Error(marker); return full.slice(0, i) + ' return 1 ' + '\n'; };
  const variants: Record<string, [string, (string|number)[]]> = {
    'return 1, 12 args': ['return 1', args('acquire', [60000, 1, 2])],
    'after cfg': [cut('local NULL'), args('acquire', [60000])],
    'after fn defs': [cut('local s, repaired = load()'), args('acquire', [60000])],
    'after load()': [cut('local dirty = '), args('acquire', [60000])],
    'record: after load() (record args)': [cut('local dirty = '), args('record', [0, -1, 'success'])],
    'GET+decode+encode+SET': ["local s = cjson.decode(redis.call('GET', KEYS[1])) redis.call('SET', KEYS[1], cjson.encode(s), 'EX', 86400) return 1", []],
    'full acquire (closed)': [full, args('acquire', [60000])],
    'full record success': [full, args('record', [0, -1, 'success'])],
  };
  for (const [label, [script, argv]] of Object.entries(variants)) {
    const sha = (await c.script('LOAD', script)) as string;
    await c.config('RESETSTAT');
    for (let i = 0; i < 20000; i += 500) {
      const p = c.pipeline();
      for (let j = 0; j < 500; j++) p.evalsha(sha, 1, key, ...argv);
      await p.exec();
    }
    const st = (await c.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    console.log(label.padEnd(26), st?.match(/usec_per_call=([\d.]+)/)?.[1]);
  }
  await c.quit(); await r.stop();
})();
