import { startBenchRedis } from './redis-server';
import { runScenario, type ScenarioKind } from './scenarios';
(async () => {
  const r = await startBenchRedis();
  const [kind, callers] = (process.argv[2] ?? 'redis:1').split(':');
  const res = await runScenario({ kind: kind as ScenarioKind, callers: Number(callers), warmupMs: 300, measureMs: 3000, redisUrl: r.url, name: `one-${Date.now()}` });
  console.log(kind, callers, Math.round(res.decisions / 3), '/s');
  await r.stop();
})();
