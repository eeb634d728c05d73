/** The exact commands an operator can paste into another terminal while the demo runs. */
import { breakerWorkflowId } from '../client';

export interface CommandContext {
  address: string;
  namespace: string;
  /** How to run the Temporal CLI: `temporal` when on PATH, else its full path. */
  temporalCli: string;
  env?: NodeJS.ProcessEnv;
}

const quote = (s: string) => (/^[A-Za-z0-9_./:=,@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Environment assignments our CLI needs to reach the demo's server and know its breakers. */
function envPrefix(ctx: CommandContext): string {
  const env = ctx.env ?? process.env;
  const parts = [`TEMPORAL_ADDRESS=${quote(ctx.address)}`];
  if (ctx.namespace !== 'default') parts.push(`TEMPORAL_NAMESPACE=${quote(ctx.namespace)}`);
  for (const name of ['TCB_CONFIG_FILE', 'BREAKERS']) if (env[name]) parts.push(`${name}=${quote(env[name]!)}`);
  return parts.join(' ');
}

export function ourCommand(ctx: CommandContext, verb: 'force-open' | 'force-close' | 'reset' | 'status', breaker?: string, reason?: string): string {
  const args = [verb, ...(breaker ? [breaker] : []), ...(reason ? ['--reason', `"${reason.replace(/(["\\$`])/g, '\\$1')}"`] : [])];
  return `${envPrefix(ctx)} npx temporal-breaker ${args.join(' ')}`;
}

export function temporalSignalCommand(ctx: CommandContext, breaker: string, signal: 'forceOpen' | 'forceClose' | 'reset', reason: string): string {
  const ns = ctx.namespace !== 'default' ? ` --namespace ${quote(ctx.namespace)}` : '';
  return (
    `${quote(ctx.temporalCli)} workflow signal --workflow-id ${breakerWorkflowId(breaker)} --name ${signal} ` +
    `--input ${quote(JSON.stringify({ reason }))} --address ${quote(ctx.address)}${ns}`
  );
}

/** The block the demo prints: ours and Temporal's, for force-open, force-close and reset. */
export function operatorCommands(ctx: CommandContext, breaker: string): string[] {
  return [
    ourCommand(ctx, 'force-open', breaker, 'maintenance'),
    ourCommand(ctx, 'force-close', breaker, 'maintenance over'),
    ourCommand(ctx, 'reset', breaker, 'start afresh'),
    ourCommand(ctx, 'status'),
    temporalSignalCommand(ctx, breaker, 'forceOpen', 'maintenance'),
    temporalSignalCommand(ctx, breaker, 'forceClose', 'maintenance over'),
    temporalSignalCommand(ctx, breaker, 'reset', 'start afresh'),
  ];
}

/** Force-open only, ours and Temporal's: for a terminal too small for the whole block. */
export function compactOperatorCommands(ctx: CommandContext, breaker: string): string[] {
  return [ourCommand(ctx, 'force-open', breaker, 'maintenance'), temporalSignalCommand(ctx, breaker, 'forceOpen', 'maintenance')];
}
