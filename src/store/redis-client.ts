/**
 * What the Redis store needs of a client: the commands it sends and the connection status it
 * watches. Structural, so that an ioredis 5 or 6 `Redis` or `Cluster` of the user's own install
 * fits (the library does not bundle ioredis: it is a peer dependency).
 */
export interface RedisClientLike {
  /** ioredis's connection status: 'ready' when commands are served. */
  readonly status: string;
  /** ioredis's scripted command: EVALSHA, EVAL once when the server lacks the script. */
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  /** Redis 7's FCALL. A client without it runs the script with EVALSHA. */
  fcall?(name: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** FUNCTION LOAD REPLACE: loads the script as a library (on a Cluster, `nodes` is used instead). */
  function?(subcommand: 'LOAD', replace: 'REPLACE', code: string): Promise<unknown>;
  /** ioredis's Cluster: its masters, each of which needs the library. */
  nodes?(role: 'master'): { function(subcommand: 'LOAD', replace: 'REPLACE', code: string): Promise<unknown> }[];
  get(key: string): Promise<string | null>;
  ping(): Promise<string>;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}
