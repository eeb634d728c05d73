/** The upstream simulator: a local stand-in for the five providers, with fault injection. */
export {
  startSimulator,
  simulatorProvidersConfig,
  DEFAULT_SIM_API_KEYS,
  DEFAULT_SIM_HOST,
  DEFAULT_SIM_SEED,
  type Simulator,
  type SimulatorOptions,
  type SimProviderEndpoint,
} from './server';
export { SimulatorControl, SimulatorControlError, type SimulatorController } from './control';
export {
  faultsSchema,
  parseFaults,
  InvalidControlInputError,
  NO_FAULTS,
  type Faults,
  type FaultsInput,
  type ResetInput,
} from './faults';
export type { ProviderStats, SimulatorStats } from './stats';
export { SIM_PROVIDERS, isSimProvider, type SimProvider } from './types';
export { GLASSNODE_METRICS, LUNARCRUSH_KNOWN_COINS, MORALIS_KNOWN_TOKENS, PROVIDER_SPECS } from './providers';
