/** Shared shapes of the upstream simulator. */
import type { Rng } from './rng';

/** The five providers the simulator stands in for (same names as the collectors' ProviderName). */
export const SIM_PROVIDERS = ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'] as const;
export type SimProvider = (typeof SIM_PROVIDERS)[number];

export function isSimProvider(name: string): name is SimProvider {
  return (SIM_PROVIDERS as readonly string[]).includes(name);
}

/** What a provider route answers: a status and a JSON body (plus optional headers). */
export interface SimResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Per-request context handed to a provider's routes. */
export interface RouteContext {
  /** The provider's payload stream (seeded; independent of the error-rate stream). */
  rng: Rng;
  /** The simulator's clock, ms since epoch. */
  now: number;
}

/** How a provider expects its API key. */
export type AuthScheme = { header: string; scheme?: 'Bearer' };

export interface ProviderSpec {
  name: SimProvider;
  auth: AuthScheme;
  /** Answers GET {pathname} (relative to /{provider}) with the given query. */
  route(pathname: string, query: URLSearchParams, ctx: RouteContext): SimResponse;
  /** Turns a valid 200 body of route() into one that fails the provider's schema (the `malformed` fault). */
  malform(body: unknown): unknown;
  /** The provider's error body for a status (shape mimics the real API). */
  errorBody(status: number, message: string): unknown;
}
