/**
 * The throw-away LAN of `vrrpd demo` (root): a switch namespace `${prefix}sw` holding bridge `br0`
 * and host namespaces `${prefix}${name}`, each with an `eth0` veth at `${subnet}.${i + 1}/24` whose
 * peer `p-${name}` is a bridge port; long-running processes (the two daemons, the pinging client)
 * in those hosts; and the teardown. Only what the demo uses: the tests and benchmarks have their
 * own, larger lab under test/support/, which the shipped package does not contain.
 *
 * Every command is bounded in time. `destroy()` (also run on exit and on SIGINT/SIGTERM/SIGHUP)
 * kills every process group it started and deletes every namespace and the temp dir. Namespaces
 * left by an earlier crashed run with the same prefix are removed before the lab is built.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalGroup } from '../util/process-group.js';

/** A one-shot command (`ip ...`) is SIGKILLed after this long. */
export const DEMO_COMMAND_TIMEOUT_MS = 10_000;
/** Deleting one namespace at teardown gives up after this long. */
const NETNS_DEL_TIMEOUT_MS = 5000;
/** A new veth must report carrier (LOWER_UP) within this long. */
const LINK_UP_TIMEOUT_MS = 5000;
/** A one-shot command's output beyond this is an error (the demo's commands print a few KiB). */
const COMMAND_MAX_BUFFER_BYTES = 16 * 1024 * 1024;

/** The package root (dist/cli/ is two levels below it, in a checkout and once installed). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Wall-clock now in ms with sub-ms resolution (the clock `ping -D` stamps replies with). */
export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run a command (no shell), SIGKILLed after `timeoutMs` (default DEMO_COMMAND_TIMEOUT_MS).
 * Rejects on a non-zero exit unless `allowFail`; the caller then checks `code`.
 */
export function runCommand(argv: readonly string[], opts: { timeoutMs?: number; allowFail?: boolean } = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  const timeout = opts.timeoutMs ?? DEMO_COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, killSignal: 'SIGKILL', maxBuffer: COMMAND_MAX_BUFFER_BYTES }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      const res: CommandResult = {
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        stdout: String(stdout),
        stderr: String(stderr),
      };
      if (e && !opts.allowFail)
        reject(new Error(`${argv.join(' ')} failed (code ${res.code}, signal ${e.signal ?? null}): ${res.stderr.trim()}`));
      else resolve(res);
    });
  });
}

/** A long-running process in a lab host, leader of its own process group (a kill reaches its children). */
export class DemoProcess {
  stdout = '';
  #running = true;
  readonly exited: Promise<void>;

  constructor(
    readonly argv: readonly string[],
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
    });
    child.stderr?.resume(); // drained, so a chatty process never blocks on a full pipe
    this.exited = new Promise((resolve) => {
      const done = (): void => {
        this.#running = false;
        resolve();
      };
      child.on('exit', done);
      child.on('error', done);
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Signal the process group; SIGKILL it after `graceMs` without exit. Always resolves. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    const pid = this.child.pid;
    if (!this.#running || pid === undefined) return;
    signalGroup(pid, signal);
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous SIGKILL of the group (exit handlers). */
  killNow(): void {
    if (this.#running && this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }
}

/** A lab torn down synchronously when the process exits or is told to stop. */
export interface ExitTeardown {
  destroySync(): void;
}

const live = new Set<ExitTeardown>();
let handlersInstalled = false;

/**
 * Tear `lab` down when the process exits or is told to stop (then die as asked), until
 * {@link forgetAtExit}. The test lab (test/support/ns-lab.ts) registers its labs here too.
 */
export function teardownAtExit(lab: ExitTeardown): void {
  installExitHandlers();
  live.add(lab);
}

/** The lab is gone: nothing to tear down at exit any more. */
export function forgetAtExit(lab: ExitTeardown): void {
  live.delete(lab);
}

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

/** The demo's namespaces, bridge, veths and processes. */
export class DemoLab {
  readonly switchNs: string;
  readonly tmpDir: string;
  readonly #procs = new Set<DemoProcess>();
  readonly #namespaces: string[] = [];
  #destroyed = false;

  private constructor(
    readonly prefix: string,
    readonly subnet: string,
  ) {
    this.switchNs = `${prefix}sw`;
    this.tmpDir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Build the lab with hosts `names` (after removing an earlier run's namespaces); destroyed on failure. */
  static async start(prefix: string, subnet: string, names: readonly string[]): Promise<DemoLab> {
    await removeStaleNamespaces(prefix);
    const lab = new DemoLab(prefix, subnet);
    teardownAtExit(lab);
    try {
      await lab.#build(names);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** The namespace of host `name`. */
  nsOf(name: string): string {
    return `${this.prefix}${name}`;
  }

  async #addNs(ns: string): Promise<void> {
    await runCommand(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await runCommand(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No IPv6: no DAD or MLD traffic beside the adverts and pings the demo shows.
    await runCommand([
      'ip',
      'netns',
      'exec',
      ns,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
  }

  async #build(names: readonly string[]): Promise<void> {
    const sw = this.switchNs;
    await this.#addNs(sw);
    // No STP and no forwarding delay: ports forward at once; no snooping: multicast adverts flood.
    await runCommand([
      'ip',
      '-n',
      sw,
      'link',
      'add',
      'br0',
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
      'mcast_snooping',
      '0',
    ]);
    await runCommand(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, name] of names.entries()) {
      const ns = this.nsOf(name);
      await this.#addNs(ns);
      await runCommand(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `p-${name}`, 'netns', sw]);
      await runCommand(['ip', '-n', sw, 'link', 'set', `p-${name}`, 'master', 'br0', 'up']);
      await runCommand(['ip', '-n', ns, 'addr', 'add', `${this.subnet}.${i + 1}/24`, 'brd', '+', 'dev', 'eth0']);
      await runCommand(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    // veth carrier comes up asynchronously; wait until every eth0 reports LOWER_UP.
    for (const name of names) await this.#waitCarrier(name, LINK_UP_TIMEOUT_MS);
  }

  async #waitCarrier(name: string, timeoutMs: number): Promise<void> {
    const ns = this.nsOf(name);
    const deadline = Date.now() + timeoutMs;
    while (!/LOWER_UP/.test((await runCommand(['ip', '-n', ns, 'link', 'show', 'eth0'])).stdout)) {
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${ns} eth0 up`);
      await sleep(20);
    }
  }

  /** Start a long-running process in host `name`, leader of its own process group; killed at teardown. */
  spawn(name: string, argv: readonly string[]): DemoProcess {
    if (this.#destroyed) throw new Error('lab destroyed');
    const full = ['ip', 'netns', 'exec', this.nsOf(name), ...argv];
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new DemoProcess(full, child);
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Take host `name`'s eth0 down (a crashed machine, as its peers see it). */
  async linkDown(name: string): Promise<void> {
    await runCommand(['ip', '-n', this.nsOf(name), 'link', 'set', 'eth0', 'down']);
  }

  async linkUp(name: string): Promise<void> {
    await runCommand(['ip', '-n', this.nsOf(name), 'link', 'set', 'eth0', 'up']);
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await Promise.all([...this.#procs].map((p) => p.kill('SIGTERM', 2000)));
    for (const ns of [...this.#namespaces].reverse()) {
      await runCommand(['ip', 'netns', 'del', ns], { allowFail: true, timeoutMs: NETNS_DEL_TIMEOUT_MS });
    }
    this.#finish();
  }

  /** The same, synchronously (exit handlers, the demo's overall deadline). */
  destroySync(): void {
    if (this.#destroyed) return;
    for (const p of this.#procs) p.killNow();
    for (const ns of [...this.#namespaces].reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { timeout: NETNS_DEL_TIMEOUT_MS, stdio: 'ignore' });
      } catch {
        // best effort: the next run with this prefix removes it (removeStaleNamespaces)
      }
    }
    this.#finish();
  }

  #finish(): void {
    this.#destroyed = true;
    this.#namespaces.length = 0;
    this.#procs.clear();
    try {
      rmSync(this.tmpDir, { recursive: true, force: true });
    } catch {
      // best effort: teardown (also run from exit handlers) must finish even if removal fails
    }
    forgetAtExit(this);
  }
}

/**
 * Remove the namespaces (and kill the processes in them) of an earlier run with this prefix (the
 * test lab uses it too).
 */
export async function removeStaleNamespaces(prefix: string): Promise<void> {
  const out = (await runCommand(['ip', 'netns', 'list'], { allowFail: true })).stdout;
  for (const line of out.split('\n')) {
    const name = line.split(/\s+/)[0];
    if (!name?.startsWith(prefix)) continue;
    const pids = (await runCommand(['ip', 'netns', 'pids', name], { allowFail: true })).stdout;
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await runCommand(['ip', 'netns', 'del', name], { allowFail: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The client

export interface Pinger {
  /** Reply receive times (wall ms, `ping -D`), in order. */
  replies(): number[];
  stop(): Promise<void>;
}

/** `ping -D -n -i INTERVAL TARGET` in host `name` (interval in seconds). */
export function startPinger(lab: DemoLab, name: string, target: string, intervalS: number): Pinger {
  const proc = lab.spawn(name, ['ping', '-D', '-n', '-i', String(intervalS), target]);
  return { replies: () => parsePingReplies(proc.stdout, target), stop: () => proc.kill('SIGINT', 2000) };
}

/** Receive times (wall ms) of the echo replies from `from` in `ping -D -n` output. */
export function parsePingReplies(text: string, from: string): number[] {
  const out: number[] = [];
  const re = /^\[(\d+\.\d+)\] \d+ bytes from (\d+\.\d+\.\d+\.\d+): icmp_seq=\d+/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m && m[2] === from) out.push(Number(m[1]) * 1000);
  }
  return out;
}

/**
 * The longest interval without a reply that overlaps [fromMs, toMs] (ms): measured from the last
 * reply at or before `fromMs` (or `fromMs`) to the next reply (or `toMs`).
 */
export function longestGapMs(replies: readonly number[], fromMs: number, toMs: number): number {
  let prev = fromMs;
  for (const r of replies) if (r <= fromMs) prev = r;
  let max = 0;
  for (const r of replies) {
    if (r <= fromMs) continue;
    max = Math.max(max, r - prev);
    if (r > toMs) return max;
    prev = r;
  }
  return Math.max(max, toMs - prev);
}

// ---------------------------------------------------------------------------------------------
// The daemon the demo runs

function newestTsMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTsMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Why the demo cannot start `vrrpd run` from `root`, or false: the build is missing, or (in a
 * checkout, where src/ is beside dist/) older than the sources.
 */
export function builtDaemonUnavailable(root = PACKAGE_ROOT): false | string {
  const main = join(root, 'dist/cli/main.js');
  const runJs = join(root, 'dist/cli/run.js');
  if (!existsSync(main)) return `vrrpd is not built (${main} missing): run \`npm run build\` first`;
  if (!existsSync(runJs)) return `vrrpd run is not built (${runJs} missing): run \`npm run build\` first`;
  const src = join(root, 'src');
  if (!existsSync(src)) return false; // an installed package: no sources to be stale against
  const srcNewest = newestTsMtime(src);
  if (srcNewest > statSync(main).mtimeMs + 1000 && srcNewest > statSync(runJs).mtimeMs + 1000) {
    return 'dist/ is older than src/: run `npm run build` first';
  }
  return false;
}
