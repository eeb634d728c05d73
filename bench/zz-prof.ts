import Redis from 'ioredis';
import { startBenchRedis } from './redis-server';
import { runScenario, type ScenarioKind } from './scenarios';
(async () => {
  const r = await startBenchRedis();
  const admin = new Redis(r.url);
  for (const [kind, callers] of (process.argv[2] ?? 'incr:1,redis:1,incr:16,redis:16').split(',').map((s) => s.split(':'))) {
    await admin.config('RESETSTAT');
    const res = await runScenario({ kind: kind as ScenarioKind, callers: Number(callers), warmupMs: 200, measureMs: 1500, redisUrl: r.url, name: `p-${kind}-${callers}` });
    const stats = (await admin.info('commandstats')).split('\n').filter((l) => /evalsha|incr|eval:/.test(l));
    const cpu = (await admin.info('cpu')).split('\n').filter((l) => /used_cpu_(sys|user):/.test(l)).map((l) => l.trim()).join(' ');
    console.log(kind, callers, Math.round(res.decisions / 1.5), '/s', stats.join(' | ').trim(), cpu);
  }
  await admin.quit(); await r.stop();
})();
