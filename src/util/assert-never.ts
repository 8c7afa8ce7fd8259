/** Exhaustiveness check for string-literal unions in `switch` defaults. A call at run time is a bug. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(x)}`);
}
