/**
 * A ConfigHost for tests: the real file system (so includes, globs and scripts behave as on the
 * machine keepalived's oracle ran on) but the interfaces and users of the oracle's namespace:
 * lo and eth0..eth3; root and nobody, no keepalived_script (regen.sh bind-mounts the same
 * passwd/group over /etc for keepalived, so neither side depends on this machine's users).
 */
import type { ConfigHost, InterfaceFacts } from '../../src/config/host.js';
import { nodeConfigHost } from '../../src/host/config-host.js';
import { loadConfig } from '../../src/config/load.js';
import type { FrozenConfig } from '../../src/config/model.js';
import { userDbFromFiles, type UserDb } from '../../src/config/script-user.js';

/** The oracle namespace's /etc/passwd and /etc/group (test/fixtures/config-cases/regen.sh writes the same). */
export const ORACLE_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
export const ORACLE_GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/** A user database: the oracle's, plus `extra` passwd lines (`name:x:uid:gid::/:/bin/false`) and group lines. */
export function testUsers(extraPasswd: readonly string[] = [], extraGroup: readonly string[] = []): UserDb {
  return userDbFromFiles(
    ORACLE_PASSWD + extraPasswd.map((l) => `${l}\n`).join(''),
    ORACLE_GROUP + extraGroup.map((l) => `${l}\n`).join(''),
  );
}

export const ORACLE_INTERFACES: ReadonlyMap<string, InterfaceFacts> = new Map([
  ['lo', { name: 'lo', loopback: true, multicast: false }],
  ...['eth0', 'eth1', 'eth2', 'eth3'].map((n): [string, InterfaceFacts] => [n, { name: n, loopback: false, multicast: true }]),
]);

export function oracleHost(configId = 'vm', users: UserDb = testUsers()): ConfigHost {
  const real = nodeConfigHost({ configId, hostChecks: true });
  return { ...real, configId, interfaces: () => ORACLE_INTERFACES, users };
}

/** Files held in memory, for pure parser tests. */
export function memoryHost(files: Record<string, string>, extra: Partial<ConfigHost> = {}): ConfigHost {
  const enc = new TextEncoder();
  return {
    readFile: (p) => (p in files ? enc.encode(files[p]!) : undefined),
    glob: (pattern, cwd) => {
      const full = pattern.startsWith('/') ? pattern : `${cwd === '.' ? '' : `${cwd}/`}${pattern}`;
      const re = new RegExp(
        `^${full
          .replace(/[.+^$()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/\{([^}]*)\}/g, (_m, a: string) => `(${a.split(',').join('|')})`)}$`,
      );
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
    stat: (p) => (p in files ? { isFile: true, executable: false } : undefined),
    interfaces: () => ORACLE_INTERFACES,
    configId: 'vm',
    ...extra,
  };
}

/** The smallest config most daemon tests start from: VI_1 on eth0, VRID 51, priority 100, VIP 10.0.0.100/24. */
export const ONE_INSTANCE_CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

/** `text` loaded as /etc/keepalived/keepalived.conf from memory; throws with the diagnostics when refused. */
export function configFromText(text: string): FrozenConfig {
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': text }));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}
