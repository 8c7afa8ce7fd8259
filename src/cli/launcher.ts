/**
 * The launcher's Node options. `bin/vrrpd` starts Node as `#!/usr/bin/env -S node OPTIONS`, and
 * those options (V8 heap sizing, chosen from measurements: BENCHMARKS.md "Control socket under a flood")
 * are part of the product: a daemon started by exec (systemd, a shell) gets them from the kernel's
 * reading of that line. A daemon started as `node bin/vrrpd` (the demo, the tests) does not, so
 * those callers read them here and pass them to Node themselves: one place says what they are.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Longest launcher first line read (the kernel itself reads at most 256 bytes of it). */
const SHEBANG_MAX_BYTES = 256;

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=[A-Za-z0-9_.,-]+)?)*)[ \t]*$/;

/** The Node options on the launcher's first line; throws when that line is not the expected form. */
export function launcherNodeArgs(bin: string): string[] {
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
    throw new Error(`${bin}: first line is not '#!/usr/bin/env -S node [--option...]': ${JSON.stringify(first.slice(0, 120))}`);
  return (m[1] ?? '')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '');
}
