/**
 * The network-namespace lab (root only) of the tests and the benchmarks: the tests' `Lab`
 * (netns.ts) extends it, the benchmarks (bench/) start it with `BenchLab.start()`. It is not part
 * of the shipped package (`vrrpd demo` has its own small lab, src/cli/demo-lab.ts). A switch
 * namespace `${prefix}sw` with bridge `br0`, host namespaces `${prefix}${name}` with `eth0` at
 * `${subnet}.${i + 1}/24` whose veth peer `p-${name}` is a bridge port. IPv6 is disabled in every
 * namespace (quiet captures) unless the lab is built with `ipv6: true` (`LabBuildOptions`). Every
 * command is bounded in time; `destroy()` (also run on exit and on SIGINT/SIGTERM) kills every spawned process
 * group and deletes every namespace and the temp dir.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetAtExit, removeStaleNamespaces, teardownAtExit } from '../../src/cli/demo-lab.js';
import type { NsHost, NsLab } from './lab-types.js';
import { LabProcess, runCmd, type CmdOptions, type CmdResult } from './lab-process.js';

export { runCmd };

export interface LabBuildOptions {
  /**
   * Keep IPv6 on in the host namespaces (the switch's stays off): each eth0 gets the kernel's EUI-64
   * link-local address and `ip6Of(subnet, i + 1)`/64, with duplicate address detection off (both
   * are usable at once, no DAD probes in captures) and no router solicitations; the build waits
   * until no address is tentative. `NsHost.linkLocal`/`ip6` give them.
   */
  ipv6?: boolean;
}

/**
 * The IPv6 /64 of a lab built with `ipv6: true`: subnet `10.234.33` -> `fd00:10:234:33::`, its
 * host N -> `fd00:10:234:33::N` (the decimal digits read as hex groups: unique per /24).
 */
export function ip6Of(subnet: string, n?: number): string {
  return `fd00:${subnet.split('.').join(':')}::${n === undefined ? '' : String(n)}`;
}

/**
 * The lab. `BenchLab.start()` builds one for a benchmark; the tests' `Lab` (test/support/netns.ts)
 * extends it with tap teardown, captures and `inNetns`.
 */
export class BenchLab implements NsLab {
  readonly switchNs: string;
  readonly tmpDir: string;
  readonly #hosts = new Map<string, NsHost>();
  readonly #procs = new Set<LabProcess>();
  readonly #namespaces: string[] = [];
  readonly #files = new Set<string>();
  #destroyed = false;

  protected constructor(
    readonly prefix: string,
    readonly subnet: string,
  ) {
    this.switchNs = `${prefix}sw`;
    this.tmpDir = mkdtempSync(join(tmpdir(), prefix));
  }

  static start(prefix: string, subnet: string, names: readonly string[], opts: LabBuildOptions = {}): Promise<BenchLab> {
    return BenchLab.setUp(new BenchLab(prefix, subnet), names, opts);
  }

  /** Remove an earlier crashed run's namespaces (same prefix), then build `lab` (destroyed on failure). */
  protected static async setUp<L extends BenchLab>(lab: L, names: readonly string[], opts: LabBuildOptions = {}): Promise<L> {
    await removeStaleNamespaces(lab.prefix);
    teardownAtExit(lab);
    try {
      await lab.#build(names, opts);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  async #addNs(ns: string, ipv6 = false): Promise<void> {
    await runCmd(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await runCmd(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // Set before eth0 is moved in, so eth0 inherits the defaults.
    const sysctls = ipv6
      ? [
          'net.ipv6.conf.all.disable_ipv6=0',
          'net.ipv6.conf.default.disable_ipv6=0',
          'net.ipv6.conf.all.accept_dad=0',
          'net.ipv6.conf.default.accept_dad=0',
          'net.ipv6.conf.default.router_solicitations=0',
        ]
      : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
    await runCmd(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...sysctls]);
  }

  async #build(names: readonly string[], opts: LabBuildOptions): Promise<void> {
    const sw = this.switchNs;
    await this.#addNs(sw);
    await runCmd(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await runCmd(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, name] of names.entries()) {
      const ns = `${this.prefix}${name}`;
      const swPort = `p-${name}`;
      await this.#addNs(ns, opts.ipv6);
      await runCmd(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', swPort, 'netns', sw]);
      await runCmd(['ip', '-n', sw, 'link', 'set', swPort, 'master', 'br0', 'up']);
      const ip = `${this.subnet}.${i + 1}`;
      await runCmd(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'brd', '+', 'dev', 'eth0']);
      const ip6 = opts.ipv6 ? ip6Of(this.subnet, i + 1) : undefined;
      if (ip6 !== undefined) await runCmd(['ip', '-n', ns, '-6', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad']);
      await runCmd(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      const info = JSON.parse((await runCmd(['ip', '-n', ns, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{
        ifindex: number;
        address: string;
      }>;
      const link = info[0];
      if (!link) throw new Error(`no eth0 in ${ns}`);
      this.#hosts.set(name, { name, ns, ifname: 'eth0', ifindex: link.ifindex, mac: link.address, ip, prefixLen: 24, swPort, ip6 });
    }
    // veth carrier comes up asynchronously; wait until every eth0 reports LOWER_UP.
    for (const h of this.#hosts.values()) await this.waitLink(h.name, true, 5000);
    if (opts.ipv6) for (const h of this.#hosts.values()) this.#hosts.set(h.name, { ...h, linkLocal: await this.#waitLinkLocal(h, 5000) });
  }

  /** Poll until `h`'s eth0 has its link-local address and no tentative address; returns the link-local. */
  async #waitLinkLocal(h: NsHost, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = (await runCmd(['ip', '-n', h.ns, '-6', '-j', 'addr', 'show', 'dev', h.ifname])).stdout;
      const addrs = (
        JSON.parse(out || '[]') as Array<{ addr_info?: Array<{ local: string; scope: string; tentative?: boolean }> }>
      ).flatMap((l) => l.addr_info ?? []);
      const ll = addrs.find((a) => a.scope === 'link');
      if (ll && !addrs.some((a) => a.tentative === true)) return ll.local;
      if (Date.now() >= deadline) throw new Error(`${h.ns} ${h.ifname}: no usable IPv6 link-local address after ${timeoutMs} ms: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get hosts(): NsHost[] {
    return [...this.#hosts.values()];
  }

  host(name: string): NsHost {
    const h = this.#hosts.get(name);
    if (!h) throw new Error(`no host ${name} in lab ${this.prefix}`);
    return h;
  }

  /** The namespace of a host given by its short name (a full namespace name passes through). */
  protected nsOf(hostOrNs: string): string {
    return this.#hosts.get(hostOrNs)?.ns ?? hostOrNs;
  }

  /** Run a command inside a host (by short name) or namespace (by full name). */
  exec(host: string, argv: readonly string[], opts?: CmdOptions): Promise<CmdResult> {
    return runCmd(['ip', 'netns', 'exec', this.nsOf(host), ...argv], opts);
  }

  /** Start a long-running process in a host, leader of its own process group; killed at teardown. */
  spawn(host: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): LabProcess {
    if (this.#destroyed) throw new Error('lab destroyed');
    const full = ['ip', 'netns', 'exec', this.nsOf(host), ...argv];
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
   * A persistent `ip -force -batch -` in a namespace: `run(line)` executes one `ip` command with no
   * process start-up in the way (spawning `ip` takes 20-100 ms on a busy small VM, too much jitter
   * for timing a link cut). Fire and forget: observe the effect (e.g. with `ip monitor`).
   */
  ipBatch(hostOrNs: string): { run(line: string): void; close(): Promise<void> } {
    if (this.#destroyed) throw new Error('lab destroyed');
    const full = ['ip', '-n', this.nsOf(hostOrNs), '-force', '-batch', '-'];
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new LabProcess(full, child);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return {
      run: (line) => void child.stdin?.write(`${line}\n`),
      close: async () => {
        child.stdin?.end();
        await Promise.race([p.exited, new Promise((r) => setTimeout(r, 2000))]);
        await p.kill('SIGKILL', 500);
      },
    };
  }

  async linkDown(host: string, side: 'host' | 'switch' = 'host'): Promise<void> {
    const h = this.host(host);
    if (side === 'host') await runCmd(['ip', '-n', h.ns, 'link', 'set', h.ifname, 'down']);
    else await runCmd(['ip', '-n', this.switchNs, 'link', 'set', h.swPort, 'down']);
  }

  async linkUp(host: string, side: 'host' | 'switch' = 'host'): Promise<void> {
    const h = this.host(host);
    if (side === 'host') await runCmd(['ip', '-n', h.ns, 'link', 'set', h.ifname, 'up']);
    else await runCmd(['ip', '-n', this.switchNs, 'link', 'set', h.swPort, 'up']);
  }

  /** Poll `ip link` until the host's eth0 is (not) LOWER_UP, bounded by `timeoutMs`. */
  async waitLink(host: string, up: boolean, timeoutMs = 5000): Promise<void> {
    const h = this.host(host);
    const deadline = Date.now() + timeoutMs;
    while (/LOWER_UP/.test((await runCmd(['ip', '-n', h.ns, 'link', 'show', h.ifname])).stdout) !== up) {
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${h.ns} ${h.ifname} ${up ? 'up' : 'down'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Remove `path` at teardown, even after a crash (for files outside `tmpDir` that a killed process
   * may leave, e.g. keepalived's `-p`/`-r` pid files). Returns `path`.
   */
  trackFile(path: string): string {
    this.#files.add(path);
    return path;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await Promise.all([...this.#procs].map((p) => p.kill('SIGTERM', 2000)));
    for (const ns of [...this.#namespaces].reverse()) await runCmd(['ip', 'netns', 'del', ns], { allowFail: true, timeoutMs: 5000 });
    this.#finish();
  }

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
    forgetAtExit(this);
  }
}
