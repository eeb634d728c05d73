/**
 * The SDK Runtime of a worker process. The Runtime is a per-process singleton created by the
 * first connection or worker, so it must be installed before anything else touches Temporal:
 * `runWorker` calls `installWorkerRuntime` first. With `metrics.prometheusAddress`
 * (METRICS_PROMETHEUS_ADDRESS) the Runtime exports every metric of the SDK's meter, the breaker
 * metrics of ./metrics.ts included, on http://<address>/metrics; without it nothing is installed
 * and the SDK's defaults apply (its meter is then a no-op).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { ConfigError } from '../config/load';
import type { AppConfig } from '../config/schema';
import type { Logger } from '..';

/** `host:port` → `ip:port` (the SDK binds socket addresses only, not host names). */
export async function resolveBindAddress(address: string): Promise<string> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = address.slice(i + 1);
  let ip = host;
  if (!isIP(host)) {
    try {
      ip = (await lookup(host)).address;
    } catch (e) {
      throw new ConfigError(`invalid configuration: METRICS_PROMETHEUS_ADDRESS '${address}': cannot resolve '${host}' (${(e as Error).message})`);
    }
  }
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The Runtime options for this configuration, or null when the SDK's defaults will do. */
export async function workerRuntimeOptions(config: Pick<AppConfig, 'metrics'>): Promise<RuntimeOptions | null> {
  const address = config.metrics.prometheusAddress;
  if (!address) return null;
  return { telemetryOptions: { metrics: { prometheus: { bindAddress: await resolveBindAddress(address) } } } };
}

/**
 * Installs the Runtime the configuration asks for. Returns the metrics URL, or null when metrics
 * are off. Throws a ConfigError naming METRICS_PROMETHEUS_ADDRESS when the endpoint cannot be
 * served (bad address, port in use) or when a Runtime already exists in this process.
 */
export async function installWorkerRuntime(config: Pick<AppConfig, 'metrics'>, logger?: Logger): Promise<string | null> {
  const options = await workerRuntimeOptions(config);
  if (!options) return null;
  const address = config.metrics.prometheusAddress!;
  try {
    Runtime.install(options);
  } catch (e) {
    throw new ConfigError(`cannot serve Prometheus metrics on METRICS_PROMETHEUS_ADDRESS '${address}': ${(e as Error).message}`);
  }
  const url = `http://${address}/metrics`;
  logger?.info(`Prometheus metrics on ${url}`, { metricsAddress: address });
  return url;
}
