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
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { decodeAll, parsePcap, type Decoded, type PcapFile } from './pcap.js';
import { signalGroup } from '../../src/util/process-group.js';

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

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this long; default 10 s. */
  timeoutMs?: number;
  /** Resolve instead of reject on a non-zero exit. */
  allowFail?: boolean;
  input?: string;
}

/** Run a command (no shell), bounded in time. Rejects on non-zero exit unless `allowFail`. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        const res: ExecResult = {
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
        };
        if (e && !opts.allowFail) {
          reject(new Error(`${argv.join(' ')} failed (code ${res.code}, signal ${res.signal}): ${res.stderr.trim()}`));
        } else {
          resolve(res);
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A long-running process in a namespace (its own process group, so kill reaches its children). */
export class LabProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  constructor(readonly argv: readonly string[], child: ChildProcess) {
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.#notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.#notify();
        resolve();
      });
      child.on('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        this.exitCode = -1;
        this.#notify();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Output so far, stdout then stderr. */
  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Wait until stdout+stderr matches `re` (resolves with the match) or reject after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.output.match(re);
        if (m) {
          done();
          resolve(m);
          return true;
        }
        if (!this.running) {
          done();
          reject(new Error(`${this.argv.join(' ')} exited (${this.exitCode ?? this.exitSignal}) before ${re}; output:\n${this.output}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${this.argv.join(' ')}; output:\n${this.output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.#waiters.add(waiter);
    });
  }

  /** Signal the process group; after `graceMs` without exit, SIGKILL it. Always resolves. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (!this.running || this.pid === undefined) return;
    signalGroup(this.pid, signal);
    const timer = setTimeout(() => this.pid !== undefined && signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous SIGKILL of the group (exit handlers). */
  killNow(): void {
    if (this.running && this.pid !== undefined) signalGroup(this.pid, 'SIGKILL');
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}


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
}

export interface LabOptions {
  /** Namespace name prefix, unique per test file, e.g. `vio-tr-`. Letters, digits, `-`. */
  prefix: string;
  /** The /24 for this lab: `10.232.1` or `10.232.1.0/24`. */
  subnet: string;
  /** Host names (letters/digits, <= 10 chars) or a count (hosts `a`, `b`, ...). */
  hosts: readonly string[] | number;
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

const live = new Set<Lab>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      for (const lab of live) lab.destroySync();
      process.removeListener(sig, handler);
      // Re-raise so the default action (or other handlers) still decide how we die.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
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

export class Lab {
  readonly prefix: string;
  readonly subnet: string;
  readonly switchNs: string;
  readonly tmpDir: string;
  readonly #hosts = new Map<string, LabHost>();
  readonly #procs = new Set<LabProcess>();
  readonly #namespaces: string[] = [];
  readonly #files = new Set<string>();
  #destroyed = false;

  private constructor(prefix: string, subnet: string) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.switchNs = `${prefix}sw`;
    this.tmpDir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Build the lab (bounded: every command has a timeout) and register its teardown on `t`. */
  static async create(t: TeardownHost | undefined, opts: LabOptions): Promise<Lab> {
    if (!/^[a-z0-9-]{1,12}$/i.test(opts.prefix)) throw new Error(`bad lab prefix ${opts.prefix}`);
    const m = /^(\d+\.\d+\.\d+)(?:\.0\/24)?$/.exec(opts.subnet);
    if (!m?.[1]) throw new Error(`subnet must look like 10.232.1 or 10.232.1.0/24, got ${opts.subnet}`);
    const names = typeof opts.hosts === 'number'
      ? Array.from({ length: opts.hosts }, (_, i) => String.fromCharCode(97 + i))
      : [...opts.hosts];
    for (const n of names) if (!/^[a-z0-9]{1,10}$/i.test(n) || n === 'sw') throw new Error(`bad host name ${n}`);

    await removeStale(opts.prefix);
    const lab = new Lab(opts.prefix, m[1]);
    installExitHandlers();
    live.add(lab);
    t?.teardown(() => lab.destroy());
    try {
      await lab.#build(names);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  async #build(names: string[]): Promise<void> {
    const sw = this.switchNs;
    await this.#addNs(sw);
    await run(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await run(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, name] of names.entries()) {
      const ns = `${this.prefix}${name}`;
      const swPort = `p-${name}`;
      await this.#addNs(ns);
      await run(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', swPort, 'netns', sw]);
      await run(['ip', '-n', sw, 'link', 'set', swPort, 'master', 'br0', 'up']);
      const ip = `${this.subnet}.${i + 1}`;
      await run(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'brd', '+', 'dev', 'eth0']);
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      const info = JSON.parse((await run(['ip', '-n', ns, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{ ifindex: number; address: string }>;
      const link = info[0];
      if (!link) throw new Error(`no eth0 in ${ns}`);
      this.#hosts.set(name, { name, ns, ifname: 'eth0', ifindex: link.ifindex, mac: link.address, ip, prefixLen: 24, swPort });
    }
    // veth carrier comes up asynchronously; wait until every eth0 reports LOWER_UP.
    for (const h of this.#hosts.values()) await this.waitLink(h.name, true, 5000);
  }

  async #addNs(ns: string): Promise<void> {
    await run(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  get hosts(): LabHost[] {
    return [...this.#hosts.values()];
  }

  host(name: string): LabHost {
    const h = this.#hosts.get(name);
    if (!h) throw new Error(`no host ${name} in lab ${this.prefix}`);
    return h;
  }

  #ns(hostOrNs: string): string {
    return this.#hosts.get(hostOrNs)?.ns ?? hostOrNs;
  }

  /** Run a command inside a host (by short name) or namespace (by full name). */
  exec(host: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.#ns(host), ...argv], opts);
  }

  /** Start a long-running process in a host; it is killed at teardown. */
  spawn(host: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): LabProcess {
    if (this.#destroyed) throw new Error('lab destroyed');
    const full = ['ip', 'netns', 'exec', this.#ns(host), ...argv];
    const child = spawn(full[0]!, full.slice(1), {
      detached: true, // own process group: kill(-pid) reaches grandchildren
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const p = new LabProcess(full, child);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /**
   * Remove `path` at teardown, even after a crash (for files outside `tmpDir` that a killed process
   * may leave, e.g. keepalived's `-p`/`-r` pid files). Returns `path`.
   */
  trackFile(path: string): string {
    this.#files.add(path);
    return path;
  }

  /** Run `fn` synchronously with this thread inside the host's namespace (see `inNetns`). */
  inNetns<T>(host: string, fn: () => T): T {
    return inNetns(this.#ns(host), fn);
  }

  /**
   * Take a host's link down. `side: 'host'` (default) sets the host's eth0 down (admin down, as
   * `ip link set eth0 down` on the VM); `side: 'switch'` downs the bridge port, so the host sees
   * NO-CARRIER (a cut cable / crashed peer: the host's eth0 stays admin-up but not running).
   */
  async linkDown(host: string, side: 'host' | 'switch' = 'host'): Promise<void> {
    const h = this.host(host);
    if (side === 'host') await run(['ip', '-n', h.ns, 'link', 'set', h.ifname, 'down']);
    else await run(['ip', '-n', this.switchNs, 'link', 'set', h.swPort, 'down']);
  }

  async linkUp(host: string, side: 'host' | 'switch' = 'host'): Promise<void> {
    const h = this.host(host);
    if (side === 'host') await run(['ip', '-n', h.ns, 'link', 'set', h.ifname, 'up']);
    else await run(['ip', '-n', this.switchNs, 'link', 'set', h.swPort, 'up']);
  }

  /** Poll `ip link` until the host's eth0 is (not) LOWER_UP, bounded by `timeoutMs`. */
  async waitLink(host: string, up: boolean, timeoutMs = 5000): Promise<void> {
    const h = this.host(host);
    await pollUntil(async () => {
      const out = (await run(['ip', '-n', h.ns, 'link', 'show', h.ifname])).stdout;
      return /LOWER_UP/.test(out) === up;
    }, timeoutMs, `${h.ns} ${h.ifname} ${up ? 'up' : 'down'}`);
  }

  /** `ip -4 -j addr show dev IF` inside the host, parsed. */
  async addresses(host: string, ifname = 'eth0'): Promise<Array<{ local: string; prefixlen: number; label?: string; broadcast?: string; scope: string; secondary?: boolean }>> {
    const out = (await run(['ip', '-n', this.#ns(host), '-4', '-j', 'addr', 'show', 'dev', ifname])).stdout;
    const parsed = JSON.parse(out) as Array<{ addr_info: Array<{ local: string; prefixlen: number; label?: string; broadcast?: string; scope: string; secondary?: boolean }> }>;
    return parsed.flatMap((l) => l.addr_info);
  }

  /**
   * Start tcpdump in a host (or the switch namespace) writing a pcap; resolves once tcpdump is
   * listening. `stop()` flushes and parses it. Bounded: start waits at most `startTimeoutMs`.
   */
  async capture(host: string, opts: { ifname?: string; filter?: string; startTimeoutMs?: number } = {}): Promise<Capture> {
    const ns = this.#ns(host);
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

  /** Kill every process, delete every namespace and temp file. Idempotent; never throws. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await Promise.all([...this.#procs].map((p) => p.kill('SIGTERM', 2000)));
    for (const ns of [...this.#namespaces].reverse()) {
      await run(['ip', 'netns', 'del', ns], { allowFail: true, timeoutMs: 5000 });
    }
    this.#finish();
  }

  /** Synchronous variant for process exit / signal handlers. */
  destroySync(): void {
    if (this.#destroyed) return;
    for (const p of this.#procs) p.killNow();
    for (const ns of [...this.#namespaces].reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { timeout: 5000, stdio: 'ignore' });
      } catch {
        // best effort
      }
    }
    this.#finish();
  }

  #finish(): void {
    this.#destroyed = true;
    this.#namespaces.length = 0;
    this.#procs.clear();
    for (const f of [this.tmpDir, ...this.#files]) {
      try {
        rmSync(f, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    this.#files.clear();
    live.delete(this);
  }
}

/** Remove namespaces left behind by a crashed earlier run of the same test file (same prefix). */
async function removeStale(prefix: string): Promise<void> {
  const out = (await run(['ip', 'netns', 'list'], { allowFail: true })).stdout;
  for (const line of out.split('\n')) {
    const name = line.split(/\s+/)[0];
    if (name?.startsWith(prefix)) {
      // Kill whatever still runs in it, then delete it.
      await run(['ip', 'netns', 'pids', name], { allowFail: true }).then(async (r) => {
        for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        }
      });
      await run(['ip', 'netns', 'del', name], { allowFail: true });
    }
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
