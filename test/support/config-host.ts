/**
 * A ConfigHost for tests: the real file system (so includes, globs and scripts behave as on the
 * machine keepalived's oracle ran on) but the interfaces of the oracle's namespace: lo and eth0..eth3.
 */
import type { ConfigHost, InterfaceFacts } from '../../src/config/host.js';
import { nodeConfigHost } from '../../src/config/host-node.js';

export const ORACLE_INTERFACES: ReadonlyMap<string, InterfaceFacts> = new Map([
  ['lo', { name: 'lo', loopback: true, multicast: false }],
  ...['eth0', 'eth1', 'eth2', 'eth3'].map((n): [string, InterfaceFacts] => [n, { name: n, loopback: false, multicast: true }]),
]);

export function oracleHost(configId = 'vm'): ConfigHost {
  const real = nodeConfigHost({ configId, hostChecks: true });
  return { ...real, configId, interfaces: () => ORACLE_INTERFACES };
}

/** Files held in memory, for pure parser tests. */
export function memoryHost(files: Record<string, string>, extra: Partial<ConfigHost> = {}): ConfigHost {
  const enc = new TextEncoder();
  return {
    readFile: (p) => (p in files ? enc.encode(files[p]!) : undefined),
    glob: (pattern, cwd) => {
      const full = pattern.startsWith('/') ? pattern : `${cwd === '.' ? '' : `${cwd}/`}${pattern}`;
      const re = new RegExp(`^${full.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\{([^}]*)\}/g, (_m, a: string) => `(${a.split(',').join('|')})`)}$`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
    stat: (p) => (p in files ? { isFile: true, executable: false } : undefined),
    interfaces: () => ORACLE_INTERFACES,
    configId: 'vm',
    ...extra,
  };
}
