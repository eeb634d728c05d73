/**
 * CLI: `tsx src/sim/main.ts --port 8787 [--host 127.0.0.1] [--seed 1]`
 * Starts the upstream simulator and prints its URL (first line on stdout), then one line per
 * provider with its base URL and API key. Stops on SIGINT / SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SIM_HOST, DEFAULT_SIM_SEED, startSimulator, type Simulator } from './server';
import { SIM_PROVIDERS } from './types';

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer between ${min} and ${max}`);
    return n;
  };
}

export async function main(argv: readonly string[] = process.argv, log: (line: string) => void = (l) => console.log(l)): Promise<Simulator> {
  const program = new Command()
    .name('upstream-simulator')
    .description('Local stand-in for Moralis, Glassnode, Twitter, Reddit and LunarCrush, with fault injection under /_control')
    .option('-p, --port <port>', 'port to listen on (0 = a free port)', integer('port', 0, 65535), 8787)
    .option('-H, --host <host>', 'address to bind', DEFAULT_SIM_HOST)
    .option('-s, --seed <seed>', 'seed of the error-rate and payload streams', integer('seed', -(2 ** 31), 2 ** 32 - 1), DEFAULT_SIM_SEED)
    .showHelpAfterError()
    .parse(argv as string[]);
  const opts = program.opts<{ port: number; host: string; seed: number }>();
  const sim = await startSimulator({ port: opts.port, host: opts.host, seed: opts.seed });
  log(`upstream simulator listening on ${sim.url} (seed ${sim.seed})`);
  for (const p of SIM_PROVIDERS) log(`  ${p.padEnd(10)} ${sim.providers[p].baseUrl}  key=${sim.providers[p].apiKey}`);
  log(`  control    ${sim.url}/_control/stats | POST ${sim.url}/_control/{provider}/faults | POST ${sim.url}/_control/reset`);
  return sim;
}

if (require.main === module) {
  main().then(
    (sim) => {
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      console.error(`upstream simulator: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
