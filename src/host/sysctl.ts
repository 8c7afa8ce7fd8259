/**
 * Kernel parameters under /proc/sys (the `Sysctls` port, runtime/ports/net.ts): the VMACs' sysctls
 * (docs/vmac.md). Integers only; a path names one file, such as `net/ipv4/conf/vrrp.51/arp_ignore`
 * (an interface name keeps its dots: no `sysctl` dot-to-slash translation).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { IoResult, Sysctls } from '../runtime/ports/index.js';

const ROOT = '/proc/sys/';

function failed(syscall: string, path: string, err: unknown): IoResult<never> {
  const e = err as NodeJS.ErrnoException;
  return {
    ok: false,
    error: {
      kind: 'IoError',
      syscall,
      errno: typeof e.errno === 'number' ? Math.abs(e.errno) : undefined,
      code: e.code ?? 'EIO',
      message: `${ROOT}${path}: ${e.message}`,
    },
  };
}

/** Sysctls read and written in /proc/sys of the calling process's network namespace. */
export function procSysctls(root = ROOT): Sysctls {
  return {
    get(path) {
      try {
        const n = Number.parseInt(readFileSync(root + path, 'utf8').trim(), 10);
        if (Number.isNaN(n)) return failed('read', path, { code: 'EINVAL', message: 'not an integer' });
        return { ok: true, value: n };
      } catch (err) {
        return failed('read', path, err);
      }
    },
    set(path, value) {
      try {
        writeFileSync(root + path, `${value}\n`);
        return { ok: true, value: true };
      } catch (err) {
        return failed('write', path, err);
      }
    },
  };
}
