/**
 * The launcher's environment and Node options. `bin/vrrpd` starts Node as
 * `#!/usr/bin/env -S NAME=VALUE... node OPTIONS`, and both are part of the product, chosen from
 * measurements: V8 heap sizing (BENCHMARKS.md "Control socket under a flood") and glibc's malloc
 * arena count (BENCHMARKS.md "Memory over time"). A daemon started by exec (a shell) gets them from
 * the kernel's reading of that line; the systemd unit repeats them (Environment=, ExecStart=). A
 * daemon started as `node bin/vrrpd` (the demo, the tests) does not, so those callers build their
 * argv with `launcherArgv` here: one place says what they are.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Longest launcher first line read (the kernel itself reads at most 256 bytes of it). */
const SHEBANG_MAX_BYTES = 256;

const SHEBANG = /^#!\/usr\/bin\/env -S((?: [A-Z_][A-Z0-9_]*=[A-Za-z0-9_.,-]+)*) node((?: --[a-z0-9-]+(?:=[A-Za-z0-9_.,-]+)?)*)[ \t]*$/;

/** What the launcher's first line gives Node: environment assignments and options. */
export interface LauncherLine {
  /** `NAME=VALUE` words, in order. */
  readonly env: readonly string[];
  readonly nodeArgs: readonly string[];
}

/** The Node options on the launcher's first line; throws when that line is not the expected form. */
export function launcherNodeArgs(bin: string): string[] {
  return [...readLauncherLine(bin).nodeArgs];
}

/** The environment the launcher's first line sets, as an object to merge into a spawn's env. */
export function launcherEnv(bin: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of readLauncherLine(bin).env) {
    const eq = a.indexOf('=');
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/**
 * The argv that starts `bin` as its first line would, with `node` (this process's by default) by
 * its path: `/usr/bin/env NAME=VALUE... node OPTIONS bin`, or `node OPTIONS bin` when the line sets
 * no environment. env(1) execs Node in place, so the first pid is the daemon's.
 */
export function launcherArgv(bin: string, node: string = process.execPath): string[] {
  const l = readLauncherLine(bin);
  const head = l.env.length > 0 ? ['/usr/bin/env', ...l.env] : [];
  return [...head, node, ...l.nodeArgs, bin];
}

/** Parses the launcher's first line; throws when it is not the expected form. */
export function readLauncherLine(bin: string): LauncherLine {
  const buf = Buffer.alloc(SHEBANG_MAX_BYTES);
  const fd = openSync(bin, 'r');
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const first = buf.subarray(0, n).toString('utf8').split('\n', 1)[0] ?? '';
  const m = SHEBANG.exec(first);
  if (m === null)
    throw new Error(
      `${bin}: first line is not '#!/usr/bin/env -S [NAME=VALUE...] node [--option...]': ${JSON.stringify(first.slice(0, 120))}`,
    );
  return { env: words(m[1]), nodeArgs: words(m[2]) };
}

function words(s: string | undefined): string[] {
  return (s ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}
