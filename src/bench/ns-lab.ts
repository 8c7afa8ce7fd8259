/**
 * A small network-namespace lab for the failover benchmark (root only). Same topology and
 * contract as the tests' `test/support/netns.ts` Lab (which the benchmark cannot import: it is not
 * part of the build): a switch namespace `${prefix}sw` with bridge `br0`, host namespaces
 * `${prefix}${name}` with `eth0` at `${subnet}.${i + 1}/24` whose veth peer `p-${name}` is a bridge
 * port. Every command is bounded in time; `destroy()` (also run on exit and on SIGINT/SIGTERM)
 * kills every spawned process group and deletes every namespace and the temp dir.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NsExecOptions, NsExecResult, NsHost, NsLab, NsProcess } from './lab-types.js';
import { signalGroup } from '../util/process-group.js';

/** Run argv (no shell) with a timeout (default 10 s); rejects on non-zero exit unless allowFail. */
export function runCmd(argv: readonly string[], opts: NsExecOptions = {}): Promise<NsExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const res: NsExecResult = { code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout: String(stdout), stderr: String(stderr) };
      if (e && !opts.allowFail) reject(new Error(`${argv.join(' ')} failed (code ${res.code}): ${res.stderr.trim()}`));
      else resolve(res);
    });
  });
}

class BenchProcess implements NsProcess {
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

  get output(): string {
    return this.stdout + this.stderr;
  }

  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        const m = this.output.match(re);
        if (m) {
          finish();
          resolve(m);
        } else if (!this.running) {
          finish();
          reject(new Error(`${this.argv.join(' ')} exited before ${re}; output:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${this.argv.join(' ')}; output:\n${this.output}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      waiter();
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (!this.running || this.pid === undefined) return;
    signalGroup(this.pid, signal);
    const timer = setTimeout(() => this.pid !== undefined && signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.running && this.pid !== undefined) signalGroup(this.pid, 'SIGKILL');
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}


const live = new Set<BenchLab>();
let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroySync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export class BenchLab implements NsLab {
  readonly switchNs: string;
  readonly tmpDir: string;
  readonly #hosts = new Map<string, NsHost>();
  readonly #procs = new Set<BenchProcess>();
  readonly #namespaces: string[] = [];
  #destroyed = false;

  private constructor(readonly prefix: string, readonly subnet: string) {
    this.switchNs = `${prefix}sw`;
    this.tmpDir = mkdtempSync(join(tmpdir(), prefix));
  }

  static async create(prefix: string, subnet: string, names: readonly string[]): Promise<BenchLab> {
    await removeStale(prefix);
    const lab = new BenchLab(prefix, subnet);
    installExitHandlers();
    live.add(lab);
    try {
      await lab.#build(names);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  async #addNs(ns: string): Promise<void> {
    await runCmd(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await runCmd(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await runCmd(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  async #build(names: readonly string[]): Promise<void> {
    const sw = this.switchNs;
    await this.#addNs(sw);
    await runCmd(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await runCmd(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, name] of names.entries()) {
      const ns = `${this.prefix}${name}`;
      const swPort = `p-${name}`;
      await this.#addNs(ns);
      await runCmd(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', swPort, 'netns', sw]);
      await runCmd(['ip', '-n', sw, 'link', 'set', swPort, 'master', 'br0', 'up']);
      const ip = `${this.subnet}.${i + 1}`;
      await runCmd(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'brd', '+', 'dev', 'eth0']);
      await runCmd(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      const info = JSON.parse((await runCmd(['ip', '-n', ns, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{ ifindex: number; address: string }>;
      const link = info[0];
      if (!link) throw new Error(`no eth0 in ${ns}`);
      this.#hosts.set(name, { name, ns, ifname: 'eth0', ifindex: link.ifindex, mac: link.address, ip, prefixLen: 24, swPort });
    }
    for (const h of this.#hosts.values()) {
      const deadline = Date.now() + 5000;
      while (!/LOWER_UP/.test((await runCmd(['ip', '-n', h.ns, 'link', 'show', 'eth0'])).stdout)) {
        if (Date.now() > deadline) throw new Error(`${h.ns} eth0 never came up`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  host(name: string): NsHost {
    const h = this.#hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  #ns(hostOrNs: string): string {
    return this.#hosts.get(hostOrNs)?.ns ?? hostOrNs;
  }

  exec(host: string, argv: readonly string[], opts?: NsExecOptions): Promise<NsExecResult> {
    return runCmd(['ip', 'netns', 'exec', this.#ns(host), ...argv], opts);
  }

  spawn(host: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): NsProcess {
    if (this.#destroyed) throw new Error('lab destroyed');
    const full = ['ip', 'netns', 'exec', this.#ns(host), ...argv];
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const p = new BenchProcess(full, child);
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
    const full = ['ip', '-n', this.#ns(hostOrNs), '-force', '-batch', '-'];
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new BenchProcess(full, child);
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
    rmSync(this.tmpDir, { recursive: true, force: true });
    live.delete(this);
  }
}

async function removeStale(prefix: string): Promise<void> {
  const out = (await runCmd(['ip', 'netns', 'list'], { allowFail: true })).stdout;
  for (const line of out.split('\n')) {
    const name = line.split(/\s+/)[0];
    if (!name?.startsWith(prefix)) continue;
    const pids = (await runCmd(['ip', 'netns', 'pids', name], { allowFail: true })).stdout;
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await runCmd(['ip', 'netns', 'del', name], { allowFail: true });
  }
}
