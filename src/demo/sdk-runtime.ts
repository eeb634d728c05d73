/** The Temporal SDK runtime of the demo process: its warnings and activity failures go to the event feed, not to stderr. */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { EventFeed } from './feed';

/**
 * Installs the runtime, unless this process has one already. `activityBreakers` (activity type →
 * breaker) is asked at each log entry: it is known only once the configuration is.
 */
export function installSdkRuntime(feed: EventFeed, activityBreakers: () => Readonly<Record<string, string>>, prometheusAddress: string | undefined): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => sdkLog(feed, entry, activityBreakers())),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(prometheusAddress ? { metrics: { prometheus: { bindAddress: prometheusAddress } } } : {}),
      },
      shutdownSignals: [], // the demo stops its worker itself, after the scenario's own cleanup
    });
  } catch {
    // a runtime is already installed in this process: keep it
  }
}

/** The SDK's warnings as events; an activity failure (an upstream error the breaker counts) says which call failed and why. */
function sdkLog(feed: EventFeed, entry: LogEntry, activityBreakers: Readonly<Record<string, string>>): void {
  const meta = entry.meta ?? {};
  if (entry.message === 'Activity failed' && typeof meta.activityType === 'string') {
    const error = meta.error as { message?: string; type?: string; name?: string } | undefined;
    const message = (error?.message ?? '').split('\n')[0].replace(/ from [A-Z]+ \S+/, '');
    const breaker = activityBreakers[meta.activityType];
    const call = `${meta.activityType} attempt ${String(meta.attempt ?? '?')}`;
    const text =
      error?.type === 'CircuitOpenError'
        ? `${call} short-circuited, the upstream was not called (${message})`
        : `${call} failed (${error ? `${error.type ?? error.name ?? 'Error'}: ${message}` : 'unknown error'})`;
    feed.emit('activity', text, breaker ? { breaker } : {});
    return;
  }
  feed.emit(entry.level === 'ERROR' ? 'error' : 'warn', `temporal sdk: ${entry.message}`);
}
