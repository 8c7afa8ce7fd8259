/**
 * Network-namespace lab for root integration tests.
 *
 * Topology: one "switch" namespace `${prefix}sw` holding a Linux bridge `br0`, and N host
 * namespaces `${prefix}${name}`, each with an `eth0` veth whose peer `p-${name}` is a bridge port
 * in the switch namespace. Hosts get `${subnet}.${i + 1}/24` in creation order, IPv6 disabled (no
 * DAD/MLD noise in captures), `lo` up. All traffic stays inside these namespaces.
 *
 * Every command is bounded in time; every namespace, process and temp file is removed by
 * `destroy()`, which is registered with `t.teardown`, and again (synchronously) on process exit
 * and on SIGINT/SIGTERM/SIGHUP. Leftovers from an earlier crashed run with the same prefix are
 * removed before the lab is built, so give each test file its own prefix and /24.
 *
 * Usage:
 * ```ts
 * import t from 'tap';
 * import { Lab, netnsSkip } from '../support/netns.js';
 * t.test('adverts cross the bridge', { skip: netnsSkip() }, async (t) => {
 *   const lab = await Lab.create(t, { prefix: 'vio-tr-', subnet: '10.232.1', hosts: ['a', 'b'] });
 *   await lab.exec('a', ['ping', '-c1', '-W1', lab.host('b').ip]);
 * });
 * ```
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { decodeAll, parsePcap, type Decoded, type PcapFile } from './pcap.js';
import { LabProcess, runCmd, type CmdOptions, type CmdResult } from './lab-process.js';
import { BenchLab } from './ns-lab.js';

export const NETNS_SKIP_MESSAGE = 'needs root and CAP_NET_ADMIN for network namespaces';

/** True when running as root with CAP_NET_ADMIN (bit 12) and CAP_SYS_ADMIN (bit 21, for setns/mounts). */
export function isRoot(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m?.[1]) return false;
    const caps = BigInt(`0x${m[1]}`);
    return (caps & (1n << 12n)) !== 0n && (caps & (1n << 21n)) !== 0n;
  } catch {
    return false;
  }
}

/** For tap's `skip` option: `false` when the lab can run, else the skip message. */
export function netnsSkip(): false | string {
  return isRoot() ? false : NETNS_SKIP_MESSAGE;
}

export type ExecResult = CmdResult;
export type ExecOptions = CmdOptions;
export { LabProcess };

/** Run a command (no shell), bounded in time. Rejects on non-zero exit unless `allowFail`. */
export const run = runCmd;

export interface LabHost {
  /** Short name given by the caller, e.g. `a`. */
  readonly name: string;
  /** Namespace name, e.g. `vio-tr-a`. */
  readonly ns: string;
  /** Interface inside the namespace (always `eth0`). */
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: string;
  /** The host's address, e.g. `10.232.1.1`. */
  readonly ip: string;
  readonly prefixLen: number;
  /** The bridge port for this host in the switch namespace, e.g. `p-a`. */
  readonly swPort: string;
  /** With `ipv6: true`: eth0's global address, e.g. `fd00:10:232:1::1` (/64) ... */
  readonly ip6?: string | undefined;
  /** ... and its link-local address, e.g. `fe80::...` (not tentative). */
  readonly linkLocal?: string | undefined;
}

export interface LabOptions {
  /** Namespace name prefix, unique per test file, e.g. `vio-tr-`. Letters, digits, `-`. */
  prefix: string;
  /** The /24 for this lab: `10.232.1` or `10.232.1.0/24`. */
  subnet: string;
  /** Host names (letters/digits, <= 10 chars) or a count (hosts `a`, `b`, ...). */
  hosts: readonly string[] | number;
  /** Keep IPv6 on in the hosts, with a link-local and a global address each (see ns-lab.ts). */
  ipv6?: boolean;
}

/** One entry of `ip -6 -j addr`. */
export interface Addr6 {
  readonly local: string;
  readonly prefixlen: number;
  readonly scope: string;
  readonly tentative?: boolean;
  readonly nodad?: boolean;
  readonly dadfailed?: boolean;
  readonly valid_life_time?: number;
  readonly preferred_life_time?: number;
}

/** Minimal shape of a tap Test we use, so this file does not depend on tap's types. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface Capture {
  /** Stop tcpdump (SIGINT, flushes), then read and parse the file. */
  stop(): Promise<CaptureResult>;
  readonly file: string;
}

export interface CaptureResult {
  readonly pcap: PcapFile;
  /** Ethernet/IPv4/ARP decode of each frame. */
  readonly frames: Decoded[];
  /** `tcpdump -r FILE -nn -e -vv` text, one packet per entry (for matching tcpdump's own wording). */
  text(): Promise<string>;
}

const CLONE_NEWNET = 0x40000000;
let setnsFn: ((fd: number, nstype: number) => number) | undefined;
let koffiErrno: (() => number) | undefined;
let originalNetnsFd: number | undefined;

function setns(fd: number, what: string): void {
  if (!setnsFn) {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    setnsFn = libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;
    koffiErrno = () => koffi.errno();
  }
  if (setnsFn(fd, CLONE_NEWNET) !== 0) throw new Error(`setns(${what}) failed: errno ${koffiErrno?.()}`);
}

/**
 * Run `fn` with the calling (main) thread inside network namespace `ns`, then switch back.
 * Sockets created inside `fn` stay in `ns` for their whole life: this is how one test process
 * drives several "hosts". `fn` must be synchronous (no await inside: other callbacks would run
 * in the wrong namespace). Note /sys is NOT remounted: read interface facts via netlink or
 * if_nametoindex, not /sys/class/net.
 */
export function inNetns<T>(ns: string, fn: () => T): T {
  originalNetnsFd ??= openSync('/proc/self/ns/net', 'r');
  const fd = openSync(`/run/netns/${ns}`, 'r');
  try {
    setns(fd, ns);
    try {
      return fn();
    } finally {
      setns(originalNetnsFd, 'original');
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The tests' lab: the benchmarks' BenchLab (topology, processes, teardown; ns-lab.ts)
 * plus tap teardown, `inNetns`, address listing and pcap captures.
 */
export class Lab extends BenchLab {
  override host(name: string): LabHost {
    return super.host(name);
  }

  override get hosts(): LabHost[] {
    return super.hosts;
  }

  /** Build the lab (bounded: every command has a timeout) and register its teardown on `t`. */
  static async create(t: TeardownHost | undefined, opts: LabOptions): Promise<Lab> {
    if (!/^[a-z0-9-]{1,12}$/i.test(opts.prefix)) throw new Error(`bad lab prefix ${opts.prefix}`);
    const m = /^(\d+\.\d+\.\d+)(?:\.0\/24)?$/.exec(opts.subnet);
    if (!m?.[1]) throw new Error(`subnet must look like 10.232.1 or 10.232.1.0/24, got ${opts.subnet}`);
    const names =
      typeof opts.hosts === 'number' ? Array.from({ length: opts.hosts }, (_, i) => String.fromCharCode(97 + i)) : [...opts.hosts];
    for (const n of names) if (!/^[a-z0-9]{1,10}$/i.test(n) || n === 'sw') throw new Error(`bad host name ${n}`);

    const lab = new Lab(opts.prefix, m[1]);
    t?.teardown(() => lab.destroy());
    return BenchLab.setUp(lab, names, { ipv6: opts.ipv6 === true });
  }

  /** Run `fn` synchronously with this thread inside the host's namespace (see `inNetns`). */
  inNetns<T>(host: string, fn: () => T): T {
    return inNetns(this.nsOf(host), fn);
  }

  /** `ip -4 -j addr show dev IF` inside the host, parsed. */
  async addresses(
    host: string,
    ifname = 'eth0',
  ): Promise<Array<{ local: string; prefixlen: number; label?: string; broadcast?: string; scope: string; secondary?: boolean }>> {
    const out = (await run(['ip', '-n', this.nsOf(host), '-4', '-j', 'addr', 'show', 'dev', ifname])).stdout;
    const parsed = JSON.parse(out) as Array<{
      addr_info: Array<{ local: string; prefixlen: number; label?: string; broadcast?: string; scope: string; secondary?: boolean }>;
    }>;
    return parsed.flatMap((l) => l.addr_info);
  }

  /** `ip -6 -j addr show dev IF` inside the host, parsed (flags such as `nodad`, `tentative` as booleans). */
  async addresses6(host: string, ifname = 'eth0'): Promise<Array<Addr6>> {
    const out = (await run(['ip', '-n', this.nsOf(host), '-6', '-j', 'addr', 'show', 'dev', ifname])).stdout;
    return (JSON.parse(out || '[]') as Array<{ addr_info?: Addr6[] }>).flatMap((l) => l.addr_info ?? []);
  }

  /**
   * Start tcpdump in a host (or the switch namespace) writing a pcap; resolves once tcpdump is
   * listening. `stop()` flushes and parses it. Bounded: start waits at most `startTimeoutMs`.
   */
  async capture(host: string, opts: { ifname?: string; filter?: string; startTimeoutMs?: number } = {}): Promise<Capture> {
    const ns = this.nsOf(host);
    const ifname = opts.ifname ?? 'eth0';
    const file = join(this.tmpDir, `${ns}-${ifname}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.pcap`);
    const argv = ['tcpdump', '-i', ifname, '-nn', '-U', '--immediate-mode', '-s', '512', '-w', file];
    if (opts.filter) argv.push(...opts.filter.split(/\s+/));
    const p = this.spawn(ns, argv);
    await p.waitFor(/listening on/, opts.startTimeoutMs ?? 5000);
    return {
      file,
      stop: async () => {
        await p.kill('SIGINT', 3000);
        let buf: Buffer;
        try {
          buf = readFileSync(file);
        } catch {
          buf = Buffer.alloc(0);
        }
        const pcap = parsePcap(buf);
        return {
          pcap,
          frames: decodeAll(pcap),
          text: async () => (await run(['tcpdump', '-r', file, '-nn', '-e', '-vv'], { allowFail: true })).stdout,
        };
      },
    };
  }
}

/** Poll `cond` every `everyMs` until true; reject after `timeoutMs` with `what` in the message. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolve with the first value `register` delivers, or reject after `timeoutMs`. */
export function waitForEvent<T>(register: (deliver: (v: T) => void) => () => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let unregister: (() => void) | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      unregister?.();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    unregister = register((v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unregister?.();
      resolve(v);
    });
    if (settled) unregister();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
