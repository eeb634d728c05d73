// The Lua script names the stored state's fields itself (its encoder, its validation, its initial
// state), apart from the TypeScript schema (breakerStateSchema). These tests hold the two
// together: every state the script writes has exactly the schema's keys, at every level, and the
// field names in the Lua source are the schema's, so that a field added to (or renamed in) the
// schema without the Lua fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CircuitBreaker, RedisBreakerStore, silentLogger, type BreakerConfigInput, type Decision, type Permit } from '../../src';
import { breakerStateSchema, emptyHalfOpen, emptyStatistics, initialState, parseBreakerConfig } from '../../src/breaker';
import { redisUrl } from '../helpers/redis';

const LUA = readFileSync(join(__dirname, '..', '..', 'src', 'store', 'lua', 'breaker.lua'), 'utf8');

// ---------------------------------------------------------------------------------------------
// The schema, walked through zod 4's definitions: whatever wraps an object (optional, nullable,
// default, pipe, lazy) and whatever unions of objects the state is made of.

type Schema = z.ZodType;
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  options?: Schema[];
  getter?: () => Schema;
}
const def = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value of `s` can be (none when it is not an object: a record, a number...). */
function objectVariants(s: Schema): Schema[] {
  const d = def(s);
  switch (d.type) {
    case 'object':
      return [s];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return objectVariants(d.innerType!);
    case 'pipe':
      return objectVariants(d.in!);
    case 'lazy':
      return objectVariants(d.getter!());
    case 'union':
      return d.options!.flatMap(objectVariants);
    default:
      return [];
  }
}

const shapeOf = (s: Schema): Record<string, Schema> => def(s).shape!;
const isOptional = (s: Schema): boolean => s.safeParse(undefined).success;

/** Every key each level can hold, over every variant: key → the key tree of its value (null: not an object). */
interface KeyTree {
  [key: string]: KeyTree | null;
}
function keyTree(s: Schema): KeyTree | null {
  const variants = objectVariants(s);
  if (variants.length === 0) return null;
  const out: KeyTree = {};
  for (const v of variants) {
    for (const [k, field] of Object.entries(shapeOf(v))) {
      const sub = keyTree(field);
      out[k] = mergeTrees(out[k], sub);
    }
  }
  return out;
}
function mergeTrees(a: KeyTree | null | undefined, b: KeyTree | null): KeyTree | null {
  if (a === undefined) return b;
  if (a === null || b === null) return a ?? b;
  const out: KeyTree = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = mergeTrees(out[k], v);
  return out;
}
const sortedKeys = (t: KeyTree | null | undefined): string[] => Object.keys(t ?? {}).sort();

/**
 * What is wrong with the keys of `value` against `s`, at every level: a key no variant of the
 * schema has, a required key missing, a value no variant accepts. [] when it matches exactly.
 */
function keyProblems(s: Schema, value: unknown, path = '(root)'): string[] {
  const variants = objectVariants(s);
  if (variants.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const accepting = variants.filter((v) => v.safeParse(value).success);
  if (accepting.length === 0) return [`${path}: no variant of the schema accepts ${JSON.stringify(value)}`];
  const shape = shapeOf(accepting[0]);
  const problems: string[] = [];
  for (const k of Object.keys(value)) if (!(k in shape)) problems.push(`${path}.${k}: not in the schema`);
  for (const [k, field] of Object.entries(shape)) {
    const present = k in (value as Record<string, unknown>);
    if (!present && !isOptional(field)) problems.push(`${path}.${k}: missing`);
    if (present) problems.push(...keyProblems(field, (value as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return problems;
}

const SCHEMA = keyTree(breakerStateSchema)!;

// ---------------------------------------------------------------------------------------------
// The Lua source, read without depending on how a function builds its text: the top-level
// definitions (local functions, local constants), and what a set of them names transitively.

/** Lua comments removed (the script puts none inside a string). */
const LUA_CODE = LUA.replace(/--[^\n]*/g, '');

/** breaker.lua's top-level definitions: name → text (a local function to its `end`, a constant with its continuation lines). */
function definitions(): Map<string, string> {
  const defs = new Map<string, string>();
  const lines = LUA_CODE.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fn = /^local function (\w+)\(/.exec(lines[i]);
    if (fn) {
      let j = i;
      if (!/\bend\s*$/.test(lines[i])) while (j < lines.length && !/^end\s*$/.test(lines[j])) j++;
      defs.set(fn[1], lines.slice(i, j + 1).join('\n'));
      i = j;
      continue;
    }
    const constant = /^local (\w+)\s*=(?!=)/.exec(lines[i]);
    if (constant) {
      let j = i;
      while (j + 1 < lines.length && /^\s+\S/.test(lines[j + 1])) j++;
      defs.set(constant[1], lines.slice(i, j + 1).join('\n'));
      i = j;
    }
  }
  return defs;
}
const DEFS = definitions();

/** The text of `roots` and of every top-level definition they use, transitively (`skip`: not followed). */
function closure(roots: string[], skip: string[] = []): { names: string[]; text: string } {
  const seen = new Set<string>();
  const queue = [...roots];
  for (const r of roots) if (!DEFS.has(r)) throw new Error(`breaker.lua has no top-level ${r}`);
  while (queue.length > 0) {
    const n = queue.pop()!;
    if (seen.has(n) || skip.includes(n) || !DEFS.has(n)) continue;
    seen.add(n);
    for (const m of DEFS.get(n)!.matchAll(/\b([A-Za-z_]\w*)\b/g)) if (!seen.has(m[1])) queue.push(m[1]);
  }
  return { names: [...seen].sort(), text: [...seen].map((n) => DEFS.get(n)!).join('\n') };
}

/** The JSON keys a Lua text writes: every `"name":` inside its string literals. */
function jsonKeysWritten(text: string): Set<string> {
  const out = new Set<string>();
  for (const lit of text.matchAll(/'((?:[^'\\\n]|\\.)*)'/g)) for (const m of lit[1].matchAll(/"(\w+)":/g)) out.add(m[1]);
  return out;
}

/** Lua's own libraries: their members are not fields. */
const LUA_LIBRARIES = new Set(['string', 'math', 'table', 'redis', 'cjson', 'cmsgpack', 'bit', 'struct', 'os']);
/** Members the validation reads that are not state fields: a Redis error reply's `err`. */
const NOT_FIELDS = new Set(['err']);

/** The fields a Lua text reads: `x.name` (not of a library), and the names listed in its constant tables (`{ 'a', 'b' }`). */
function fieldsRead(text: string): { members: Set<string>; listed: Set<string> } {
  const members = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.])([A-Za-z_]\w*)((?:\.\w+)+)/g)) {
    if (LUA_LIBRARIES.has(m[1])) continue;
    for (const part of m[2].slice(1).split('.')) members.add(part);
  }
  const listed = new Set<string>();
  for (const t of text.matchAll(/\{((?:\s*'\w+'\s*,?)+)\}/g)) for (const m of t[1].matchAll(/'(\w+)'/g)) listed.add(m[1]);
  return { members, listed };
}

/** Every key of the key tree, at every level. */
function allKeys(t: KeyTree): Set<string> {
  const out = new Set<string>();
  for (const [k, sub] of Object.entries(t)) {
    out.add(k);
    if (sub) for (const s of allKeys(sub)) out.add(s);
  }
  return out;
}
const SCHEMA_FIELDS = allKeys(SCHEMA);

const diff = (actual: Iterable<string>, expected: Iterable<string>) => {
  const a = new Set(actual);
  const e = new Set(expected);
  return { missing: [...e].filter((k) => !a.has(k)).sort(), extra: [...a].filter((k) => !e.has(k)).sort() };
};
const same = { missing: [], extra: [] };

// ---------------------------------------------------------------------------------------------

describe('the schema walk', () => {
  it('finds the state, its statistics, its half-open bookkeeping and both windows', () => {
    for (const k of ['v', 'state', 'forced', 'epoch', 'incarnation', 'stats', 'halfOpen', 'window']) expect(SCHEMA).toHaveProperty([k]);
    expect(sortedKeys(SCHEMA.stats)).toEqual(Object.keys(emptyStatistics()).sort());
    expect(sortedKeys(SCHEMA.halfOpen)).toEqual(Object.keys(emptyHalfOpen()).sort());
    expect(SCHEMA.window).toMatchObject({ kind: null, size: null, workers: null });
    expect(objectVariants(shapeOf(objectVariants(breakerStateSchema).find((v) => 'window' in shapeOf(v))!).window).length).toBeGreaterThanOrEqual(2);
    // and it flags what it must
    const s = initialState(parseBreakerConfig({ collectorName: 'walk' }), undefined, 'abc');
    expect(keyProblems(breakerStateSchema, s)).toEqual([]);
    expect(keyProblems(breakerStateSchema, { ...s, extra: 1 })).toEqual(['(root).extra: not in the schema']);
    expect(keyProblems(breakerStateSchema, { ...s, stats: { ...s.stats, more: 1 } })).toEqual(['(root).stats.more: not in the schema']);
    const { epoch: _epoch, ...noEpoch } = s;
    expect(keyProblems(breakerStateSchema, noEpoch)).toHaveLength(1);
  });

  it('reads the Lua source: the encoder and the validation are found, with what they use', () => {
    const encoder = closure(['encode']);
    expect(encoder.names).toContain('encodeWindow');
    expect(jsonKeysWritten(encoder.text).size).toBeGreaterThan(20);
    const validation = closure(['invalid', 'salvageStats']);
    expect(validation.names).toEqual(expect.arrayContaining(['invalidWindow', 'isCount', 'STAT_COUNTS']));
  });
});

describe('the Lua source names the schema fields', () => {
  it("the encoder (encode and what it uses) writes every field of the schema, at every level, and no other", () => {
    const { text } = closure(['encode']);
    expect(diff(jsonKeysWritten(text), SCHEMA_FIELDS)).toEqual(same);
  });

  it('the validation (invalid, salvageStats and what they use, with load) reads every field of the schema, and no other', () => {
    // load reads the statistics out of the decoded value and salvageStats validates them; initial builds a state, it validates nothing
    const { text } = closure(['invalid', 'salvageStats', 'load'], ['initial', 'emptyHalfOpen']);
    const { members, listed } = fieldsRead(text);
    const fields = [...members].filter((m) => !NOT_FIELDS.has(m));
    expect(diff(new Set([...fields, ...listed]), SCHEMA_FIELDS)).toEqual(same);
    // every statistic is validated: the counts by the list, the rest by name
    expect(diff(new Set([...listed, ...fieldsRead(closure(['salvageStats']).text).members]), sortedKeys(SCHEMA.stats))).toEqual(same);
  });

  it("the initial state is the model's (initialState), its statistics and half-open bookkeeping included", () => {
    /** The keys of the table constructors in a Lua text (`name = value`). */
    const names = (text: string) => [...text.matchAll(/\b(\w+)\s*=(?!=)/g)].map((m) => m[1]);
    const model = initialState(parseBreakerConfig({ collectorName: 'initial' }));
    expect(diff(names(DEFS.get('initial')!), [...Object.keys(model), ...Object.keys(model.stats)])).toEqual(same);
    expect(diff(names(DEFS.get('emptyHalfOpen')!), Object.keys(emptyHalfOpen()))).toEqual(same);
  });
});

// ---------------------------------------------------------------------------------------------
// What the script really writes.

const redis = new Redis(redisUrl());
beforeAll(() => redis.ping());
afterAll(() => redis.quit());
const PREFIX = 'lua-fields:';
const T0 = Date.UTC(2026, 5, 1);
let seq = 0;

function setup(over: Partial<BreakerConfigInput> = {}) {
  const name = `fields-${process.pid}-${Date.now()}-${seq++}`;
  const store = new RedisBreakerStore({ redis, keyPrefix: PREFIX, logger: silentLogger, timeoutMs: 5_000, snapshotMaxAgeMs: 0 });
  const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 2, timeoutSeconds: 10, halfOpenMaxCalls: 3, halfOpenSuccessThreshold: 3, ...over }, store);
  const stored = async () => JSON.parse((await redis.get(PREFIX + name))!) as Record<string, unknown>;
  return { breaker, stored };
}

function admitted(d: Decision): Permit {
  if (!d.allowed) throw new Error(`expected an admission, got ${JSON.stringify(d)}`);
  return d.permit;
}

/** The stored value has exactly the schema's keys at every level, and the optional ones named. */
function expectSchemaKeys(value: Record<string, unknown>, optionalPresent: string[]) {
  expect(breakerStateSchema.safeParse(value).error?.issues ?? []).toEqual([]);
  expect(keyProblems(breakerStateSchema, value)).toEqual([]);
  const variant = objectVariants(breakerStateSchema).find((v) => v.safeParse(value).success)!;
  const required = Object.entries(shapeOf(variant)).filter(([, f]) => !isOptional(f)).map(([k]) => k);
  expect(Object.keys(value).sort()).toEqual([...new Set([...required, ...optionalPresent])].sort());
  // every nested object, exactly its own keys
  expect(sortedKeys(value.stats as KeyTree)).toEqual(sortedKeys(SCHEMA.stats));
  expect(sortedKeys(value.halfOpen as KeyTree)).toEqual(sortedKeys(SCHEMA.halfOpen));
}

describe('every state the script writes has the schema keys', () => {
  it('closed, open, half-open with leases, reopened, forced open, force-closed (consecutive mode)', async () => {
    const t = setup();
    const seen: string[] = [];
    const check = async (expected: string) => {
      const v = await t.stored();
      expect(`${v.state}${v.forced ? ' forced' : ''}`).toBe(expected);
      // the script always names the history it writes; a consecutive-mode state has no window
      expectSchemaKeys(v, ['incarnation']);
      seen.push(expected);
      return v;
    };
    await t.breaker.recordSuccess(admitted(await t.breaker.acquire(T0)), T0);
    await check('closed');
    await t.breaker.recordFailure(admitted(await t.breaker.acquire(T0 + 1)), T0 + 1);
    await check('closed');
    await t.breaker.recordFailure(admitted(await t.breaker.acquire(T0 + 2)), T0 + 2);
    await check('open');
    const probes = [await t.breaker.acquire(T0 + 10_002, { leaseMs: 5_000 }), await t.breaker.acquire(T0 + 10_003, { leaseMs: 7_000 })];
    const half = await check('half-open');
    expect(Object.keys((half.halfOpen as { leases: object }).leases)).toHaveLength(2);
    await t.breaker.recordSuccess(admitted(probes[0]), T0 + 10_004);
    await check('half-open');
    await t.breaker.recordFailure(admitted(probes[1]), T0 + 10_005); // reopened, backed off
    await check('open');
    await t.breaker.forceOpen(T0 + 10_006);
    await check('open forced');
    await t.breaker.forceClose(T0 + 10_007);
    await check('closed');
    await t.breaker.forceOpen(T0 + 10_008);
    await t.breaker.reset(T0 + 10_009);
    await check('closed');
    expect(new Set(seen)).toEqual(new Set(['closed', 'open', 'half-open', 'open forced']));
  });

  it.each([
    ['count-window', { mode: 'count-window', windowSize: 10, minimumNumberOfCalls: 10, minFailingWorkers: 2, slowCallDurationMs: 100 }],
    ['time-window', { mode: 'time-window', windowSize: 60, minimumNumberOfCalls: 10, minFailingWorkers: 2, slowCallDurationMs: 100 }],
  ] as const)('closed with a %s (workers and slow calls included), then open without it', async (kind, over) => {
    const t = setup({ ...over, failureThreshold: 5 });
    const workers = ['worker-a', 'worker-b', 'worker-a'];
    for (const [i, w] of workers.entries()) {
      await t.breaker.recordFailure(admitted(await t.breaker.acquire(T0 + i * 4_000)), T0 + i * 4_000, { worker: w, durationMs: 10 });
      await t.breaker.recordSuccess(admitted(await t.breaker.acquire(T0 + i * 4_000 + 1)), T0 + i * 4_000 + 1, { worker: w, durationMs: 500 });
    }
    const v = await t.stored();
    expect(v.state).toBe('closed');
    expectSchemaKeys(v, ['incarnation', 'window']);
    const window = v.window as Record<string, unknown>;
    expect(window.kind).toBe(kind === 'count-window' ? 'count' : 'time');
    expect(Object.keys(window.workers as object)).toHaveLength(2);
    if (kind === 'time-window') expect((window.buckets as unknown[]).length).toBeGreaterThan(1);
    // opened by the rates: the window is dropped with the change of state
    let state = 'closed';
    for (let i = 0; i < 20 && state === 'closed'; i++) {
      state = (await t.breaker.recordFailure(admitted(await t.breaker.acquire(T0 + 20_000 + i)), T0 + 20_000 + i, { worker: i % 2 ? 'worker-a' : 'worker-b' })).state;
    }
    expect(state).toBe('open');
    expectSchemaKeys(await t.stored(), ['incarnation']);
  });
});
