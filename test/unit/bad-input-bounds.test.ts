// Issue #12, items 6, 9 and 10 at the unit level: breaker names that are not own properties or
// too long for a workflow id, transitions ordered by what the store issues, and the CLI's
// --reason bound.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BreakerConfigError, command, initialState, parseBreakerConfig, record, acquire } from '../../src/breaker';
import { MAX_BREAKER_NAME_LENGTH } from '../../src/breaker/config';
import { main } from '../../src/cli/main';
import { BreakerClient, MAX_REASON_LENGTH } from '../../src/client/breaker-client';
import { ConfigError, loadConfig } from '../../src/config/load';
import { appConfigSchema } from '../../src/config/schema';
import { MemoryBreakerStore } from '../../src/store/memory-store';

const TOO_LONG = 'n'.repeat(201);

describe('item 6: breaker names are own properties and fit a workflow id', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'an activity mapped to %s (not a configured breaker, only an inherited property) is rejected, naming the activity',
    (name) => {
      const r = appConfigSchema.safeParse({ breakers: { moralis: {} }, activities: { collectX: name } });
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toMatch(/activities\.collectX: .*(unknown breaker|__proto__)/);
    },
  );

  it('__proto__ is not a breaker name (a plain object cannot hold it as its own key): an error naming it, not a silent drop', () => {
    expect(() => loadConfig({ BREAKERS: '__proto__,moralis' })).toThrow(ConfigError);
    expect(() => loadConfig({ BREAKERS: '__proto__,moralis' })).toThrow(/breakers\.__proto__: breaker names must not be __proto__/);
    expect(() => parseBreakerConfig({ collectorName: '__proto__' })).toThrow(/collectorName: .*__proto__/);
  });

  it(`a name longer than ${MAX_BREAKER_NAME_LENGTH} characters is rejected in the breaker config, naming collectorName`, () => {
    expect(MAX_BREAKER_NAME_LENGTH).toBe(200);
    expect(() => parseBreakerConfig({ collectorName: TOO_LONG })).toThrow(BreakerConfigError);
    expect(() => parseBreakerConfig({ collectorName: TOO_LONG })).toThrow(/collectorName: collectorName must be at most 200 characters/);
    expect(parseBreakerConfig({ collectorName: 'n'.repeat(200) }).collectorName).toHaveLength(200);
  });

  it('a name longer than 200 characters is rejected in the app config (BREAKERS, a breakers key, an activity mapping)', () => {
    expect(() => loadConfig({ BREAKERS: `moralis,${TOO_LONG}` })).toThrow(/breakers \(BREAKERS\): 'n+': breaker names must be at most 200 characters/);
    const r = appConfigSchema.safeParse({ breakers: { [TOO_LONG]: {} } });
    expect(r.success).toBe(false);
    const s = appConfigSchema.safeParse({ breakers: { moralis: {} }, activities: { collectX: TOO_LONG } });
    expect(s.success).toBe(false);
    expect(s.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toContain('activities.collectX: breaker names must be at most 200 characters');
  });

  it('BreakerClient rejects a name longer than 200 characters without a server call', async () => {
    const getHandle = vi.fn(() => {
      throw new Error('the server was called');
    });
    const client = new BreakerClient({ client: { workflow: { getHandle } } as never });
    await expect(client.status(TOO_LONG)).rejects.toThrow(/at most 200 characters/);
    await expect(client.forceOpen(TOO_LONG, 'x')).rejects.toThrow(/at most 200 characters/);
    await expect(client.status('__proto__')).rejects.toThrow(/__proto__/);
    expect(getHandle).not.toHaveBeenCalled();
  });
});

describe('item 9: a transition carries what the store issued (epoch, incarnation), never only a wall clock', () => {
  const cfg = parseBreakerConfig({ collectorName: 'epochs', failureThreshold: 1, timeoutSeconds: 1, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1 });

  it('the model stamps each transition with the epoch (and incarnation) of the state it leads to', () => {
    const s0 = { ...initialState(cfg), incarnation: 'inc1' };
    const a = acquire(cfg, s0, 1000, 500);
    if (!a.result.allowed) throw new Error('expected admission');
    const opened = record(cfg, a.state, a.result.permit, 'failure', 1000);
    expect(opened.transition).toMatchObject({ event: 'opened', epoch: opened.state.epoch, incarnation: 'inc1' });
    const half = acquire(cfg, opened.state, 2000, 500);
    expect(half.transition).toMatchObject({ event: 'half-opened', epoch: half.state.epoch, incarnation: 'inc1' });
    const forced = command(cfg, half.state, 'forceOpen', 2100);
    expect(forced.transition).toMatchObject({ event: 'forced-open', epoch: forced.state.epoch, incarnation: 'inc1' });
    expect(new Set([opened, half, forced].map((t) => t.transition!.epoch)).size).toBe(3);
  });

  it('the memory store reports the incarnation it gave a state written fresh in the transition too', async () => {
    const store = new MemoryBreakerStore();
    const r = await store.command(cfg, 'forceOpen', 1000);
    expect(r.transition).toMatchObject({ epoch: r.state.epoch, incarnation: r.state.incarnation });
    expect(r.state.incarnation).toEqual(expect.any(String));
  });
});

describe('item 10: the CLI rejects a --reason above the bound, naming it', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a 1 MB --reason: exit code 2, one short line naming --reason and the bound, nothing contacted', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    const code = await main(['node', 'temporal-breaker', 'force-open', 'moralis', '--reason', 'r'.repeat(1 << 20)]);
    expect(code).toBe(2);
    const out = [...written, ...errors].join('');
    expect(out).toMatch(/--reason/);
    expect(out).toContain(`at most ${MAX_REASON_LENGTH} characters`);
    expect(out.length).toBeLessThan(400);
  });
});
