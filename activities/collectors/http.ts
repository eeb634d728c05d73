/**
 * The one HTTP call every collector makes: GET a JSON document from a provider with its API
 * key, under a timeout (and the activity's cancellation, when given), validated with zod.
 */
import { CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { connectionError, malformedError, statusError, timeoutError, zodIssues } from './errors';
import { authHeaders, DEFAULT_COLLECTOR_TIMEOUT_MS, type ProviderEndpointConfig, type ProviderName } from './providers';

export const USER_AGENT = 'temporal-circuit-breaker/0.1 (collector)';
const MAX_ERROR_BODY = 300;

export interface GetJsonRequest<T> {
  provider: ProviderName;
  endpoint: ProviderEndpointConfig;
  /** Appended to endpoint.baseUrl; path segments already encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  schema: z.ZodType<T>;
  /** Aborts the call (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
}

export function buildUrl(baseUrl: string, path: string, query: Record<string, string | number | undefined> = {}): URL {
  const url = new URL(baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorBodySnippet(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  return t.length > MAX_ERROR_BODY ? `${t.slice(0, MAX_ERROR_BODY)}…` : t;
}

/** GET and validate. Throws the collector failures of ./errors (or the cancellation's reason). */
export async function getJson<T>(req: GetJsonRequest<T>): Promise<T> {
  const { provider, endpoint } = req;
  const url = buildUrl(endpoint.baseUrl, req.path, req.query);
  const request = `GET ${url.origin}${url.pathname}${url.search}`;
  const timeoutMs = endpoint.timeoutMs ?? DEFAULT_COLLECTOR_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;

  const fail = (e: unknown): never => {
    if (req.signal?.aborted) {
      const reason: unknown = req.signal.reason;
      throw reason instanceof Error ? reason : new CancelledFailure(`${provider}: cancelled`);
    }
    if (timeout.aborted) throw timeoutError(provider, request, timeoutMs, e instanceof Error ? e : undefined);
    throw connectionError(provider, request, e instanceof Error ? e : new Error(String(e)));
  };

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...authHeaders(provider, endpoint.apiKey) },
      signal,
    });
    text = await res.text();
  } catch (e) {
    return fail(e);
  }

  if (!res.ok) {
    throw statusError(provider, res.status, {
      request,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after'), Date.now()),
      body: errorBodySnippet(text),
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw malformedError(provider, request, [{ field: '(body)', message: `not JSON (${(e as Error).message})` }]);
  }
  const parsed = req.schema.safeParse(json);
  if (!parsed.success) throw malformedError(provider, request, zodIssues(parsed.error));
  return parsed.data;
}
