/**
 * Glassnode (on-chain) stand-in: GET /v1/metrics/{category}/{metric}?a=BTC&i=24h&s=&u=
 * answers a time series `[{ t, v }]` (t in unix seconds). Auth: `X-Api-Key: <key>`.
 */
import { hashString, jitter } from '../rng';
import type { ProviderSpec, SimResponse } from '../types';

/** Supported metrics and their typical value for BTC (other assets scale it). */
export const GLASSNODE_METRICS: Readonly<Record<string, number>> = {
  'addresses/active_count': 850_000,
  'addresses/new_non_zero_count': 400_000,
  'transactions/count': 550_000,
  'market/price_usd_close': 65_000,
  'indicators/sopr': 1.01,
};

const ASSETS: Readonly<Record<string, number>> = { BTC: 1, ETH: 0.6, LTC: 0.1, SOL: 0.3, USDC: 0.05, LINK: 0.02 };
const INTERVALS: Readonly<Record<string, number>> = { '10m': 600, '1h': 3600, '24h': 86_400, '1w': 604_800 };
const METRIC_PATH = /^\/v1\/metrics\/([a-z_]+\/[a-z_0-9]+)$/;
const MAX_POINTS = 500;
const DEFAULT_POINTS = 30;

const error = (status: number, message: string): SimResponse => ({ status, body: { error: message } });

function unixParam(query: URLSearchParams, name: string): number | undefined | 'invalid' {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 'invalid';
}

export const glassnode: ProviderSpec = {
  name: 'glassnode',
  auth: { header: 'x-api-key' },
  route(pathname, query, { rng, now }) {
    const m = METRIC_PATH.exec(pathname);
    const metric = m?.[1];
    const base = metric === undefined ? undefined : GLASSNODE_METRICS[metric];
    if (metric === undefined || base === undefined) return error(404, `unknown metric path ${pathname}`);
    const asset = query.get('a');
    if (!asset) return error(400, 'a: the asset parameter is required');
    const scale = ASSETS[asset.toUpperCase()];
    if (scale === undefined) return error(400, `a: asset '${asset}' is not supported`);
    const intervalName = query.get('i') ?? '24h';
    const step = INTERVALS[intervalName];
    if (step === undefined) return error(400, `i: interval '${intervalName}' is not supported`);
    const s = unixParam(query, 's');
    const u = unixParam(query, 'u');
    if (s === 'invalid') return error(400, 's: must be a unix timestamp in seconds');
    if (u === 'invalid') return error(400, 'u: must be a unix timestamp in seconds');
    const nowSec = Math.floor(now / 1000);
    const until = Math.min(u ?? nowSec, nowSec);
    const last = until - (until % step);
    const since = s ?? last - (DEFAULT_POINTS - 1) * step;
    if (since > last) return { status: 200, body: [] };
    const first = since % step === 0 ? since : since - (since % step) + step;
    const points: { t: number; v: number }[] = [];
    const level = metric === 'indicators/sopr' ? base : base * scale;
    const phase = hashString(`${asset}:${metric}`) % 1000;
    for (let t = Math.max(first, last - (MAX_POINTS - 1) * step); t <= last; t += step) {
      const wave = 1 + 0.05 * Math.sin((t / step + phase) / 7);
      const v = jitter(rng, level * wave, metric === 'indicators/sopr' ? 0.01 : 0.03);
      points.push({ t, v: Number.isInteger(base) && metric !== 'market/price_usd_close' ? Math.round(v) : Number(v.toFixed(4)) });
    }
    return { status: 200, body: points };
  },
  malform(body) {
    const points = body as { t: number; v: unknown }[];
    if (points.length === 0) return [{ t: 'yesterday', v: 1 }];
    return points.map((p, i) => (i === 0 ? { ...p, v: 'n/a' } : p));
  },
  errorBody(_status, message) {
    return { error: message };
  },
};
