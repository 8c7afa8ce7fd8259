/**
 * The real ConfigHost: files, globs and the running host's interfaces and script files.
 * Only `vrrpd check`/`run` use it; tests use in-memory hosts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { posix as path } from 'node:path';
import type { ConfigHost, FileStat, InterfaceFacts } from './host.js';
import { nodeScriptFs } from './script-fs-node.js';
import { nodeUserDb } from './users-node.js';

export interface NodeHostOptions {
  /** keepalived -i; default the host name up to the first dot. */
  readonly configId?: string;
  /** Check interfaces and scripts against this host (keepalived does). */
  readonly hostChecks?: boolean;
}

export function nodeConfigHost(opts: NodeHostOptions = {}): ConfigHost {
  const hostChecks = opts.hostChecks ?? true;
  let ifCache: ReadonlyMap<string, InterfaceFacts> | undefined;
  const host: ConfigHost = {
    ...(hostChecks ? { scriptFs: nodeScriptFs(), users: nodeUserDb() } : {}),
    configId: opts.configId ?? hostname().split('.')[0] ?? '',
    cwd: () => process.cwd(),
    readFile(p: string) {
      try {
        return readFileSync(p);
      } catch {
        return undefined;
      }
    },
    glob(pattern: string, cwd: string) {
      const full = path.isAbsolute(pattern) ? pattern : path.join(cwd, pattern);
      const alts = expandBraces(full);
      const out: string[] = [];
      for (const a of alts) {
        if (!/[*?[]/.test(a)) {
          try {
            statSync(a);
            out.push(a);
          } catch {
            /* no match */
          }
          continue;
        }
        try {
          out.push(...walkGlob(a).sort());
        } catch {
          /* no match */
        }
      }
      return out;
    },
    stat(p: string): FileStat | undefined {
      try {
        const s = statSync(p);
        return { isFile: s.isFile(), executable: (s.mode & 0o111) !== 0 };
      } catch {
        return undefined;
      }
    },
  };
  if (hostChecks) {
    host.interfaces = () => (ifCache ??= listInterfaces());
  }
  return host;
}

/** glob(3) without GLOB_PERIOD: one directory level per pattern segment (node 20 has no fs.globSync). */
function walkGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(parts[0] === '' ? 1 : 0)) {
    if (part === '') continue;
    const next: string[] = [];
    const re = globToRegExp(part);
    for (const b of bases) {
      if (!/[*?[]/.test(part)) {
        next.push(path.join(b, part));
        continue;
      }
      try {
        for (const e of readdirSync(b)) if (re.test(e) && !e.startsWith('.')) next.push(path.join(b, e));
      } catch {
        /* not a directory */
      }
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}


function globToRegExp(g: string): RegExp {
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = g.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + g.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

function listInterfaces(): ReadonlyMap<string, InterfaceFacts> {
  const out = new Map<string, InterfaceFacts>();
  // /sys/class/net lists every link, including those without addresses (os.networkInterfaces() does not)
  try {
    for (const name of readdirSync('/sys/class/net')) {
      let flags = 0;
      try {
        flags = parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
      } catch {
        /* keep 0 */
      }
      out.set(name, { name, loopback: (flags & 0x8) !== 0, multicast: (flags & 0x1000) !== 0 });
    }
  } catch {
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      out.set(name, { name, loopback: addrs?.some((a) => a.internal) ?? false, multicast: true });
    }
  }
  return out;
}
