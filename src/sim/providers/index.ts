import type { ProviderSpec, SimProvider } from '../types';
import { glassnode } from './glassnode';
import { lunarcrush } from './lunarcrush';
import { moralis } from './moralis';
import { reddit } from './reddit';
import { twitter } from './twitter';

export const PROVIDER_SPECS: Readonly<Record<SimProvider, ProviderSpec>> = { moralis, glassnode, twitter, reddit, lunarcrush };
export { GLASSNODE_METRICS } from './glassnode';
export { LUNARCRUSH_KNOWN_COINS } from './lunarcrush';
export { MORALIS_KNOWN_TOKENS } from './moralis';
