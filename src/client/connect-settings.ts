/**
 * Temporal connection settings the SDK's way (`@temporalio/envconfig`): a `temporal.toml` profile
 * (TEMPORAL_CONFIG_FILE, else the user's `temporalio/temporal.toml`; TEMPORAL_PROFILE picks the
 * profile) overlaid with the SDK's environment variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*), exactly as the Temporal
 * CLI and the other SDKs read them.
 *
 * On top of the SDK's loader: every file is read here, so that a missing or unreadable one is an
 * error naming the setting that points at it; a client certificate without its key (or the
 * reverse) is an error rather than silently plain TLS; and `explainConnectError` turns what the
 * SDK's connection reports into one line naming the server and the setting to check. No message
 * made here ever holds the API key or a key's contents.
 */
import { readFileSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';

export class TemporalConnectionConfigError extends Error {
  override readonly name = 'TemporalConnectionConfigError';
}

/** A file or inline value of a TLS setting. */
type Source = { path: string } | { data: string | Uint8Array };

export interface TemporalTlsSettings {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** What a `Connection` / `NativeConnection` needs, and how to name each setting in a message. */
export interface TemporalConnectSettings {
  address: string;
  namespace: string;
  /** false: plain text; an object (possibly empty: the system's roots): TLS. */
  tls: TemporalTlsSettings | false;
  apiKey?: string;
  metadata?: Record<string, string>;
  /** The profile the settings came from (null: environment only). */
  profile: string | null;
  /** How the user set each setting (an environment variable, or a key of the profile), for messages. */
  settingNames: { address: string; apiKey: string; serverCA: string; clientCert: string; clientKey: string; tls: string };
  /** One line for logs, without any secret: address, namespace, TLS mode, whether an API key is used. */
  description: string;
}

export interface LoadTemporalConnectOptions {
  /** Environment variables (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The profile of the config file (default TEMPORAL_PROFILE, else `default`). */
  profile?: string;
  /** The TOML config file (default TEMPORAL_CONFIG_FILE, else the user's `temporalio/temporal.toml`). */
  configFile?: string;
  /** Overrides of the profile's and the environment's address / namespace (e.g. from your own config). */
  address?: string;
  namespace?: string;
}

const DEFAULT_ADDRESS = 'localhost:7233';

const ENV_NAMES = {
  address: 'TEMPORAL_ADDRESS',
  apiKey: 'TEMPORAL_API_KEY',
  serverCA: ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  clientCert: ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
  clientKey: ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
} as const;

/** Loads the connection settings; throws TemporalConnectionConfigError naming the setting at fault. */
export function loadTemporalConnectSettings(options: LoadTemporalConnectOptions = {}): TemporalConnectSettings {
  const env = options.env ?? process.env;
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  if (options.configFile) vars.TEMPORAL_CONFIG_FILE = options.configFile;
  const profileName = options.profile ?? (vars.TEMPORAL_PROFILE || undefined);
  const file = vars.TEMPORAL_CONFIG_FILE ?? 'temporal.toml';
  let profile: ClientConfigProfile;
  let fromFile: ClientConfigProfile;
  try {
    fromFile = loadClientConfigProfile({ profile: profileName, overrideEnvVars: vars, disableEnv: true });
    profile = loadClientConfigProfile({ profile: profileName, overrideEnvVars: vars });
  } catch (e) {
    throw new TemporalConnectionConfigError(`cannot load the Temporal client config${profileName ? ` profile '${profileName}'` : ''} from ${file} (TEMPORAL_CONFIG_FILE): ${oneLine(e)}`);
  }
  const inProfile = (key: string) => `${key} of profile '${profileName ?? 'default'}' in ${file}`;
  const named = (envNames: readonly string[], key: string) => envNames.find((n) => vars[n] !== undefined) ?? (fromFile.tls ? inProfile(`tls.${key}`) : envNames[0]);
  const settingNames = {
    address: vars[ENV_NAMES.address] !== undefined || !fromFile.address ? ENV_NAMES.address : inProfile('address'),
    apiKey: vars[ENV_NAMES.apiKey] !== undefined || !fromFile.apiKey ? ENV_NAMES.apiKey : inProfile('api_key'),
    serverCA: named(ENV_NAMES.serverCA, 'server_ca_cert_path'),
    clientCert: named(ENV_NAMES.clientCert, 'client_cert_path'),
    clientKey: named(ENV_NAMES.clientKey, 'client_key_path'),
    tls: vars.TEMPORAL_TLS !== undefined || !fromFile.tls ? 'TEMPORAL_TLS' : inProfile('tls'),
  };

  const address = options.address ?? profile.address ?? DEFAULT_ADDRESS;
  const namespace = options.namespace ?? profile.namespace ?? 'default';
  const apiKey = profile.apiKey || undefined;
  const read = (source: Source | undefined, setting: string): Buffer | undefined => {
    if (!source) return undefined;
    if ('data' in source) return Buffer.from(source.data);
    try {
      return readFileSync(source.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TemporalConnectionConfigError(
        `${setting}: cannot read '${source.path}'${code === 'ENOENT' ? ': no such file' : code === 'EACCES' ? ': permission denied' : `: ${oneLine(e)}`} (for the Temporal server at ${address})`,
      );
    }
  };

  let tls: TemporalTlsSettings | false = false;
  const t = profile.tls;
  if (t && t.disabled !== true) {
    const crt = read(t.clientCert, settingNames.clientCert);
    const key = read(t.clientKey, settingNames.clientKey);
    if (crt && !key) throw new TemporalConnectionConfigError(`${settingNames.clientCert} is set but the client key is missing: set ${settingNames.clientKey} too (for the Temporal server at ${address})`);
    if (key && !crt) throw new TemporalConnectionConfigError(`${settingNames.clientKey} is set but the client certificate is missing: set ${settingNames.clientCert} too (for the Temporal server at ${address})`);
    const ca = read(t.serverCACert, settingNames.serverCA);
    tls = {
      ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    };
  } else if (!t && apiKey) {
    // The SDK's rule: an API key without TLS settings means TLS with the system's roots.
    tls = {};
  }
  const mode =
    tls === false
      ? 'plain text'
      : `TLS${tls.serverRootCACertificate ? ' with a custom CA' : ''}${tls.clientCertPair ? ', client certificate' : ''}${tls.serverNameOverride ? `, server name ${tls.serverNameOverride}` : ''}`;
  return {
    address,
    namespace,
    tls,
    ...(apiKey ? { apiKey } : {}),
    ...(profile.grpcMeta && Object.keys(profile.grpcMeta).length ? { metadata: profile.grpcMeta } : {}),
    profile: profileName ?? (Object.keys(fromFile).length ? 'default' : null),
    settingNames,
    description: `${address} (namespace ${namespace}, ${mode}${apiKey ? ', API key' : ''})`,
  };
}

/** Options for `Connection.connect` / `NativeConnection.connect` (`tls: false` = plain text). */
export function connectionOptions(s: TemporalConnectSettings): { address: string; tls?: TemporalTlsSettings; apiKey?: string; metadata?: Record<string, string> } {
  return {
    address: s.address,
    ...(s.tls !== false ? { tls: s.tls } : {}),
    ...(s.apiKey ? { apiKey: s.apiKey } : {}),
    ...(s.metadata ? { metadata: s.metadata } : {}),
  };
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

/**
 * One line saying why a connection to Temporal failed and which setting to check, from the error
 * of `Connection.connect`, `NativeConnection.connect` or a first call. Secrets never appear.
 */
export function explainConnectError(e: unknown, s: TemporalConnectSettings): string {
  const parts: string[] = [];
  for (let x: unknown = e, i = 0; x && i < 4; x = (x as { cause?: unknown }).cause, i++) parts.push(String((x as Error).message ?? x), String((x as { details?: string }).details ?? ''));
  let raw = parts.join(' | ');
  if (s.apiKey) raw = raw.split(s.apiKey).join('***');
  const where = `Temporal at ${s.address}`;
  const n = s.settingNames;
  const cert = /InvalidCertificate\((\w+)\)|certificate verify failed|self[- ]signed|unable to (get|verify)[\w ]*certificate|UNABLE_TO_VERIFY|CERT_/i.exec(raw);
  if (cert) {
    const reason = cert[1] ?? cert[0];
    if (/NotValidForName|hostname|altname/i.test(reason + raw)) return `${where}: the server's TLS certificate is not valid for this name (${reason}): check ${n.address} or set TEMPORAL_TLS_SERVER_NAME`;
    return `${where}: the server's TLS certificate is not trusted (${reason}): check ${n.serverCA} (the CA that signed the server's certificate)`;
  }
  if (/unauthenticated|does not have valid authentication credentials|invalid api key|request unauthorized|\b16 UNAUTHENTICATED/i.test(raw)) {
    const msg = /message: "([^"]*)"/.exec(raw)?.[1];
    return s.apiKey
      ? `${where} refused the API key (${n.apiKey})${msg ? `: ${msg}` : ''}`
      : `${where} requires credentials${msg ? ` (${msg})` : ''}: set ${n.apiKey}, or a client certificate (${n.clientCert}, ${n.clientKey})`;
  }
  if (/permission ?denied|\b7 PERMISSION_DENIED/i.test(raw)) return `${where} denied access to namespace '${s.namespace}'${s.apiKey ? ` for the API key (${n.apiKey})` : ''}: check TEMPORAL_NAMESPACE and the key's or certificate's permissions`;
  if (/400 Bad Request|certificate required|alert ?certificate|handshake failure|bad certificate|unknown ca/i.test(raw)) {
    return s.tls !== false && s.tls.clientCertPair
      ? `${where} rejected the client certificate: check ${n.clientCert} and ${n.clientKey} (a certificate the server's CA signed)`
      : `${where} requires a client certificate (mutual TLS): set ${n.clientCert} and ${n.clientKey}`;
  }
  if (/ConnectionRefused|ECONNREFUSED|Connection refused/i.test(raw)) return `${where} is unreachable: connection refused (is the server running? check ${n.address})`;
  if (/dns error|ENOTFOUND|failed to lookup address|Name or service not known/i.test(raw)) return `${where} is unreachable: the host name does not resolve (check ${n.address})`;
  if (s.tls === false && /connection closed|Canceled|ECONNRESET|reset by peer|invalid request|frame|protocol error/i.test(raw)) {
    return `${where} closed the connection: it may require TLS (set ${n.tls}=true, or the TEMPORAL_TLS_* settings)`;
  }
  if (/deadline|timed? ?out|timeout/i.test(raw)) {
    return `${where} is unreachable: no answer in time${s.tls !== false ? ` (with TLS: also check ${n.serverCA}, ${n.clientCert}, ${n.clientKey})` : ''}`;
  }
  const first = raw.split(' | ').find((p) => p.trim() !== '') ?? 'unknown error';
  return `${where} is unreachable: ${first.split('\n')[0]}`;
}
