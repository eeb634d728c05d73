/**
 * Moralis (on-chain) stand-in: GET /api/v2.2/erc20/{address}/price?chain=eth
 * Auth: `X-API-Key: <key>`.
 */
import { hashString, jitter } from '../rng';
import type { ProviderSpec, SimResponse } from '../types';

interface Token {
  name: string;
  symbol: string;
  decimals: number;
  usd: number;
  logo: string;
}

const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';

/** A few real mainnet tokens (lower-cased addresses); any other valid address gets a generated token. */
export const MORALIS_KNOWN_TOKENS: Readonly<Record<string, Token>> = {
  [WETH]: { name: 'Wrapped Ether', symbol: 'WETH', decimals: 18, usd: 3500, logo: 'weth.png' },
  '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48': { name: 'USD Coin', symbol: 'USDC', decimals: 6, usd: 1, logo: 'usdc.png' },
  '0x514910771af9ca656af840dff83e8264ecf986ca': { name: 'ChainLink Token', symbol: 'LINK', decimals: 18, usd: 15, logo: 'link.png' },
  '0x1f9840a85d5af5bf1d1762f925bdaddc4201f984': { name: 'Uniswap', symbol: 'UNI', decimals: 18, usd: 8, logo: 'uni.png' },
};

const CHAINS = new Set(['eth', '0x1', 'sepolia', '0xaa36a7', 'polygon', '0x89', 'bsc', '0x38', 'base', '0x2105', 'arbitrum', '0xa4b1']);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const PRICE_PATH = /^\/api\/v2\.2\/erc20\/([^/]+)\/price$/;

function tokenFor(address: string): Token {
  const known = MORALIS_KNOWN_TOKENS[address];
  if (known) return known;
  const h = hashString(address);
  return {
    name: `Token ${address.slice(2, 8)}`,
    symbol: `T${address.slice(2, 5).toUpperCase()}`,
    decimals: 18,
    usd: 0.01 + (h % 100_000) / 1000,
    logo: '',
  };
}

const error = (status: number, message: string): SimResponse => ({ status, body: { message } });

export const moralis: ProviderSpec = {
  name: 'moralis',
  auth: { header: 'x-api-key' },
  route(pathname, query, { rng, now }) {
    const m = PRICE_PATH.exec(pathname);
    if (!m) return error(404, `Cannot GET ${pathname}`);
    const address = decodeURIComponent(m[1] ?? '');
    if (!ADDRESS.test(address)) return error(400, `address: '${address}' is not a valid hex address`);
    const chain = query.get('chain') ?? 'eth';
    if (!CHAINS.has(chain)) return error(400, `chain: '${chain}' is not a supported chain`);
    const token = tokenFor(address.toLowerCase());
    const usdPrice = Number(jitter(rng, token.usd, 0.01).toFixed(token.usd < 10 ? 6 : 4));
    const ethUsd = jitter(rng, MORALIS_KNOWN_TOKENS[WETH]?.usd ?? 3500, 0.01);
    const nativeWei = BigInt(Math.round((usdPrice / ethUsd) * 1e9)) * 1_000_000_000n;
    return {
      status: 200,
      body: {
        tokenName: token.name,
        tokenSymbol: token.symbol,
        tokenLogo: token.logo ? `https://logo.moralis.io/0x1_${token.logo}` : null,
        tokenDecimals: String(token.decimals),
        nativePrice: { value: nativeWei.toString(), decimals: 18, name: 'Ether', symbol: 'ETH', address: WETH },
        usdPrice,
        usdPriceFormatted: String(usdPrice),
        exchangeName: 'Uniswap v3',
        exchangeAddress: '0x1F98431c8aD98523631AE4a59f267346ea31F984',
        tokenAddress: address.toLowerCase(),
        priceLastChangedAtBlock: String(19_000_000 + Math.floor((now / 12_000) % 1_000_000)),
        blockTimestamp: String(now - (now % 12_000)),
        possibleSpam: false,
        verifiedContract: true,
        '24hrPercentChange': (rng() * 10 - 5).toFixed(4),
      },
    };
  },
  malform(body) {
    // usdPrice must be a number: a string breaks the schema
    return { ...(body as Record<string, unknown>), usdPrice: 'N/A' };
  },
  errorBody(_status, message) {
    return { message };
  },
};
