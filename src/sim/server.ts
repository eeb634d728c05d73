/**
 * The upstream simulator: one node:http server standing in for the five providers, each under
 * its own prefix (`/moralis/...`, `/glassnode/...`), with per-provider API keys, fault injection
 * and call counters, and a control API under `/_control`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SimulatorController } from './control';
import { InvalidControlInputError, describeIssues } from './faults';
import { PROVIDER_SPECS } from './providers';
import { SimulatorState } from './state';
import { SIM_PROVIDERS, isSimProvider, type SimProvider } from './types';

export const DEFAULT_SIM_SEED = 1;
export const DEFAULT_SIM_HOST = '127.0.0.1';
const MAX_CONTROL_BODY = 64 * 1024;

/** The API key each provider expects unless `apiKeys` says otherwise. */
export const DEFAULT_SIM_API_KEYS: Readonly<Record<SimProvider, string>> = Object.freeze(
  Object.fromEntries(SIM_PROVIDERS.map((p) => [p, `sim-${p}-key`])) as Record<SimProvider, string>,
);

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Seeds the error-rate and payload streams (reproducible runs). Default 1. */
  seed?: number;
  /** Keys the providers accept (defaults: DEFAULT_SIM_API_KEYS). */
  apiKeys?: Partial<Record<SimProvider, string>>;
  /** The clock payload timestamps come from (ms since epoch). Default Date.now. */
  clock?: () => number;
}

const optionsSchema = z.strictObject({
  port: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be between 0 and 65535' })
    .max(65535, { error: 'must be between 0 and 65535' })
    .optional(),
  host: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  seed: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).optional(),
  apiKeys: z
    .strictObject(
      Object.fromEntries(
        SIM_PROVIDERS.map((p) => [p, z.string({ error: `must be a string` }).min(1, { error: `must not be empty` }).optional()]),
      ) as Record<SimProvider, z.ZodOptional<z.ZodString>>,
    )
    .optional(),
  clock: z.custom<() => number>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
});

/** Where a client of one provider points: base URL (with the provider prefix) and key. */
export interface SimProviderEndpoint {
  baseUrl: string;
  apiKey: string;
}

export interface Simulator {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  host: string;
  seed: number;
  apiKeys: Readonly<Record<SimProvider, string>>;
  /** Per provider: `{ baseUrl: url + '/' + provider, apiKey }`, ready for the collectors' config. */
  providers: Readonly<Record<SimProvider, SimProviderEndpoint>>;
  /** In-process control (same interface as the HTTP client `SimulatorControl`). */
  control: SimulatorController;
  /** Stops listening and drops every connection, hanging ones included. Idempotent. */
  close(): Promise<void>;
}

/** Base URLs and keys for every provider of a simulator at `url` (e.g. for the collectors' config). */
export function simulatorProvidersConfig(
  url: string,
  apiKeys: Partial<Record<SimProvider, string>> = {},
): Record<SimProvider, SimProviderEndpoint> {
  const base = url.replace(/\/+$/, '');
  return Object.fromEntries(
    SIM_PROVIDERS.map((p) => [p, { baseUrl: `${base}/${p}`, apiKey: apiKeys[p] ?? DEFAULT_SIM_API_KEYS[p] }]),
  ) as Record<SimProvider, SimProviderEndpoint>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CONTROL_BODY) {
        reject(new InvalidControlInputError('body', [{ field: '(body)', message: `larger than ${MAX_CONTROL_BODY} bytes` }]));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidControlInputError('body', [{ field: '(body)', message: `not valid JSON (${(e as Error).message})` }]);
  }
}

function authorized(provider: SimProvider, req: IncomingMessage, expected: string): boolean {
  const { header, scheme } = PROVIDER_SPECS[provider].auth;
  const raw = req.headers[header];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return false;
  if (!scheme) return value === expected;
  const m = /^(\S+)\s+(.+)$/.exec(value);
  return m !== null && m[1]?.toLowerCase() === scheme.toLowerCase() && m[2] === expected;
}

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidControlInputError('simulator options', describeIssues(parsed.error));
  const opts = parsed.data;
  const host = opts.host ?? DEFAULT_SIM_HOST;
  const apiKeys = Object.freeze({ ...DEFAULT_SIM_API_KEYS, ...stripUndefined(opts.apiKeys ?? {}) });
  const state = new SimulatorState(opts.seed ?? DEFAULT_SIM_SEED, opts.clock ?? Date.now);

  async function handleProvider(provider: SimProvider, rest: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    const spec = PROVIDER_SPECS[provider];
    const end = state.recorder.begin(provider);
    const gone = new AbortController();
    res.on('close', () => {
      end({ aborted: !res.writableFinished });
      gone.abort();
    });
    const send = (status: number, body: unknown, headers?: Record<string, string>) => {
      if (gone.signal.aborted || res.headersSent) return;
      state.recorder.answered(provider, status);
      sendJson(res, status, body, headers);
    };
    req.resume(); // a body on a GET is ignored

    const faults = state.faultsOf(provider); // the faults in force when the call arrived
    if (faults.latencyMs > 0) {
      try {
        await sleep(faults.latencyMs, undefined, { signal: gone.signal });
      } catch {
        return; // the client gave up while we were "slow"
      }
    }
    if (faults.timeout) return; // never answer: `close` fires when the client gives up
    if (faults.outage) return send(503, spec.errorBody(503, `${provider} is temporarily unavailable`), { 'retry-after': '30' });
    if (!authorized(provider, req, apiKeys[provider])) {
      const { header, scheme } = spec.auth;
      return send(401, spec.errorBody(401, `missing or invalid API key (${scheme ? `${header}: ${scheme} <key>` : `${header}: <key>`})`), scheme ? { 'www-authenticate': scheme } : {});
    }
    if (faults.rateLimited) return send(429, spec.errorBody(429, 'Too Many Requests'), { 'retry-after': '1' });
    if (req.method !== 'GET') return send(405, spec.errorBody(405, `method ${req.method} not allowed`), { allow: 'GET' });
    const streams = state.streamsOf(provider);
    if (faults.errorRate > 0 && streams.errors() < faults.errorRate) {
      return send(500, spec.errorBody(500, 'Internal Server Error'));
    }
    const answer = spec.route(rest, url.searchParams, { rng: streams.data, now: state.clock() });
    const body = answer.status === 200 && faults.malformed ? spec.malform(answer.body) : answer.body;
    send(answer.status, body, answer.headers);
  }

  async function handleControl(parts: string[], req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET';
    const [first, second] = parts;
    try {
      if (parts.length === 1 && first === 'stats' && method === 'GET') return sendJson(res, 200, state.recorder.snapshot());
      if (parts.length === 1 && first === 'faults' && method === 'GET') return sendJson(res, 200, state.allFaults());
      if (parts.length === 1 && first === 'health' && method === 'GET') return sendJson(res, 200, { ok: true, seed: state.seed });
      if (parts.length === 1 && first === 'reset' && method === 'POST') {
        state.resetSync(await readJson(req));
        return sendJson(res, 200, { ok: true, seed: state.seed });
      }
      if (parts.length === 2 && second === 'faults' && first !== undefined) {
        if (!isSimProvider(first)) {
          return sendJson(res, 404, { error: `unknown provider "${first}"; one of ${SIM_PROVIDERS.join(', ')}` });
        }
        if (method === 'POST') return sendJson(res, 200, state.setFaultsSync(first, await readJson(req)));
        if (method === 'DELETE') return sendJson(res, 200, state.clearFaultsSync(first));
        return sendJson(res, 405, { error: `method ${method} not allowed on /_control/${first}/faults` }, { allow: 'POST, DELETE' });
      }
      return sendJson(res, 404, { error: `no control endpoint ${method} /_control/${parts.join('/')}` });
    } catch (e) {
      if (e instanceof InvalidControlInputError) return sendJson(res, 400, { error: e.message, issues: e.issues });
      throw e;
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const [, first = '', ...rest] = url.pathname.split('/');
    let work: Promise<void>;
    if (first === '_control') work = handleControl(rest.filter((s) => s !== ''), req, res);
    else if (isSimProvider(first)) work = handleProvider(first, '/' + rest.join('/'), url, req, res);
    else {
      state.recorder.unroutedCall();
      sendJson(res, 404, { error: `no provider at /${first}; one of ${SIM_PROVIDERS.join(', ')}` });
      return;
    }
    work.catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `simulator bug: ${(e as Error).message}` });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    host,
    seed: state.seed,
    apiKeys,
    providers: Object.freeze(simulatorProvidersConfig(url, apiKeys)),
    control: state,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
