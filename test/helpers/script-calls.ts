import { FUNCTION_NAME } from '../../src/store/breaker-script';

type Fn = (...a: unknown[]) => Promise<unknown>;

/**
 * A client method as a spy sees it: when it is a call of the breaker's script (FCALL of its
 * library, or its EVALSHA command where Functions are not used), a wrapper that hands the
 * script's arguments (key, op, now, ...) to `seen` once the call has reached the script; else
 * undefined. An FCALL that found the library not yet loaded (and is sent again) is not seen.
 */
export function scriptCallSpy(target: object, prop: string | symbol, method: Fn, seen: (args: unknown[]) => void): Fn | undefined {
  if (prop === 'fcall') {
    return (...a: unknown[]) => {
      if (a[0] !== FUNCTION_NAME) return method.apply(target, a);
      const p = method.apply(target, a);
      p.then(
        () => seen(a.slice(2)),
        (e: unknown) => void (/Function not found/.test(String((e as Error)?.message)) || seen(a.slice(2))),
      );
      return p;
    };
  }
  if (typeof prop === 'string' && prop.startsWith('temporalCircuitBreaker_')) {
    return (...a: unknown[]) => {
      seen(a);
      return method.apply(target, a);
    };
  }
  return undefined;
}
