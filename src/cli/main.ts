import { Command, InvalidArgumentError } from 'commander';
import type { BreakerCommand } from '..';
import { MAX_REASON_LENGTH } from '../client';
import { loadConfig } from '../config/load';
import { breakerClient, checkBreakerName, statusTable, withBreakers } from './breaker-commands';
import { CliError, connectClient } from './temporal-client';
import { runWorker } from './worker-command';
import { runDemo } from '../demo/run';

const program = new Command('temporal-breaker')
  .description('A circuit breaker for Temporal activities, shared by a whole worker fleet through Redis')
  // A usage error is one line naming the problem (commander's suggestion folded in), not the help.
  .configureOutput({
    outputError: (str, write) => write(`temporal-breaker: ${shortenArgument(str.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' '))} (see --help)\n`),
  })
  .exitOverride();

program
  .command('worker')
  .description('run a worker: collector and breaker workflows, breaker interceptor, breaker workflows started')
  .action(async () => {
    await runWorker(loadConfig());
  });

program
  .command('status')
  .description('the exact current status of one breaker, or of all')
  .argument('[name]', 'breaker name')
  .option('--json', 'print the status JSON')
  .action(async (name: string | undefined, opts: { json?: boolean }) => {
    const config = loadConfig();
    const names = name ? [name] : Object.keys(config.breakers);
    if (name) checkBreakerName(config, name);
    const { client, connection } = await connectClient(config);
    try {
      const breakers = breakerClient(client, config);
      const statuses = [];
      for (const n of names) statuses.push(await withBreakers(breakers, n, (b) => b.status(n)));
      console.log(opts.json ? JSON.stringify(name ? statuses[0] : statuses, null, 2) : statusTable(statuses));
    } finally {
      await connection.close();
    }
  });

const commands: [string, BreakerCommand, string][] = [
  ['force-open', 'forceOpen', 'hold the circuit open until force-close or reset'],
  ['force-close', 'forceClose', 'close the circuit, clearing its counters (statistics kept)'],
  ['reset', 'reset', 'clear every state counter and the backoff (statistics kept)'],
];
for (const [verb, command, description] of commands) {
  program
    .command(verb)
    .description(description)
    .argument('<name>', 'breaker name')
    .option('--reason <text>', 'why (kept in the breaker workflow history)', (v: string) => {
      if (!v.trim()) throw new InvalidArgumentError('reason must not be empty');
      // The breaker workflow keeps no more (nor does BreakerClient send more): refuse, never cut silently.
      if (v.length > MAX_REASON_LENGTH) throw new InvalidArgumentError(`--reason is ${v.length} characters long; at most ${MAX_REASON_LENGTH} characters`);
      return v;
    })
    .option('--json', 'print the new status JSON')
    .action(async (name: string, opts: { reason?: string; json?: boolean }) => {
      const config = loadConfig();
      checkBreakerName(config, name);
      const { client, connection } = await connectClient(config);
      try {
        const status = await withBreakers(breakerClient(client, config), name, (b) => b.command(name, command, opts.reason));
        console.log(opts.json ? JSON.stringify(status, null, 2) : `${name}: ${status.forced ? 'open (forced)' : status.state}`);
      } finally {
        await connection.close();
      }
    });
}

program
  .command('audit')
  .description("the breaker workflow's audit trail: commands, transitions, probes, rejected inputs")
  .argument('<name>', 'breaker name')
  .option('--json', 'print the entries as JSON')
  .action(async (name: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    checkBreakerName(config, name);
    const { client, connection } = await connectClient(config);
    try {
      const entries = await withBreakers(breakerClient(client, config), name, (b) => b.audit(name));
      console.log(opts.json ? JSON.stringify(entries, null, 2) : entries.map((e) => `${new Date(e.at).toISOString()}  ${e.kind.padEnd(14)} ${e.detail}`).join('\n'));
    } finally {
      await connection.close();
    }
  });

program
  .command('demo')
  .description('the scenario demo on embedded defaults (dev server, simulator, worker)')
  .option('--duration <seconds>', 'stop after this many seconds', (v) => positive(v, '--duration'))
  .option('--scenario <name>', 'scenario to play', 'outage')
  .option('--no-ui', 'do not start the Temporal Web UI')
  .option('--plain', 'one line per transition instead of the live view')
  .action(async (opts: { duration?: number; scenario: string; ui: boolean; plain?: boolean }) => {
    await runDemo(opts);
  });

/** Commander echoes a rejected argument whole: keep the line short when it is long (a 1 MB --reason). */
function shortenArgument(message: string): string {
  return message.replace(/(argument ')([^]{40})[^]{20,}?(' is invalid)/, '$1$2…$3');
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number, got '${v}'`);
  return n;
}

/** Runs the CLI; resolves with the exit code. Expected errors print one line naming the problem. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code?.startsWith('commander.')) return err.exitCode === 0 ? 0 : 2;
    const expected = err instanceof CliError || ['ConfigError', 'UnknownBreakerError', 'BreakerConfigError'].includes(err.name);
    console.error(`temporal-breaker: ${expected ? err.message : (err.stack ?? err.message)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
