/**
 * `vrrpd demo`: the one-command first run (root). Builds a throw-away LAN of network namespaces
 * (its own name prefix and /24), starts two vrrpd nodes (a: priority 150, b: 100) and a client,
 * shows `vrrpd status`, kills the master with SIGKILL and prints how long the backup took and the
 * client's longest ping gap, restarts it (it preempts back), hands the VIP over with `vrrpd
 * switchover` (make-before-break through the peer's control socket), then removes everything.
 * Bounded: every step has a timeout and the whole run gives up after 90 s.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../control/client.js';
import type { InstanceReport, StatusReport } from '../control/protocol.js';
import {
  builtDaemonUnavailable,
  DemoLab,
  longestGapMs,
  PACKAGE_ROOT,
  runCommand,
  sleep,
  startPinger,
  wallNowMs,
  type DemoProcess,
} from './demo-lab.js';
import type { Io } from './check.js';
import { launcherArgv } from './launcher.js';
import { formatTable } from './status.js';

export interface DemoArgs {
  readonly keep: boolean;
  /** Namespace name prefix (default `vdemo-`). */
  readonly prefix: string | undefined;
  /** First three octets of the lab's /24 (default 10.239.77). */
  readonly subnet: string | undefined;
}

export interface DemoResult {
  readonly failoverMs: number;
  readonly failoverGapMs: number;
  readonly preemptGapMs: number;
  readonly switchoverGapMs: number;
}

const DEADLINE_MS = 90_000;

function conf(router: string, priority: number, vip: string): string {
  return `global_defs {
    router_id ${router}
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    virtual_ipaddress {
        ${vip}/24
    }
}
`;
}

interface DemoNode {
  readonly host: string;
  readonly proc: DemoProcess;
  readonly socket: string;
}

/** `vrrpd run` in a lab host with everything (pid file, socket, state files) in its own dir. */
function startVrrpd(lab: DemoLab, host: string, priority: number, vip: string): DemoNode {
  const dir = join(lab.tmpDir, host);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'keepalived.conf');
  writeFileSync(file, conf(`demo-${host}`, priority, vip));
  const socket = join(dir, 'vrrpd.sock');
  const bin = join(PACKAGE_ROOT, 'bin/vrrpd');
  const proc = lab.spawn(host, [
    ...launcherArgv(bin),
    'run',
    '-f',
    file,
    '--log-console',
    '--state-dir',
    dir,
    '--pid-file',
    join(dir, 'vrrpd.pid'),
    '--control-socket',
    socket,
  ]);
  return { host, proc, socket };
}

async function status(node: DemoNode): Promise<StatusReport | undefined> {
  try {
    const r = await request(node.socket, { cmd: 'status' }, 1000);
    return r.ok ? (r.status as StatusReport) : undefined;
  } catch {
    return undefined;
  }
}

async function instance(node: DemoNode): Promise<InstanceReport | undefined> {
  return (await status(node))?.instances.find((i) => i.name === 'VI_1');
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Why the demo cannot run here, or false. */
export function demoUnavailable(): false | string {
  if (process.getuid?.() !== 0) return 'vrrpd demo needs root (network namespaces): sudo vrrpd demo';
  for (const t of ['ip', 'ping', 'unshare']) {
    if (!['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(`${d}/${t}`)))
      return `vrrpd demo needs '${t}' (iproute2, iputils-ping, util-linux)`;
  }
  return builtDaemonUnavailable(PACKAGE_ROOT);
}

export async function runDemo(a: DemoArgs, io: Io): Promise<number> {
  const why = demoUnavailable();
  if (why) {
    io.err(`vrrpd demo: ${why}`);
    return 1;
  }
  const prefix = a.prefix ?? 'vdemo-';
  const subnet = a.subnet ?? '10.239.77';
  if (!/^[a-z0-9-]{1,8}$/.test(prefix) || !/^\d+\.\d+\.\d+$/.test(subnet)) {
    io.err('vrrpd demo: --prefix is up to 8 of [a-z0-9-], --subnet three octets like 10.239.77');
    return 2;
  }
  const t0 = wallNowMs();
  const say = (s: string): void => io.out(`[${((wallNowMs() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);
  const vip = `${subnet}.100`;
  let lab: DemoLab | undefined;
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    io.err(`vrrpd demo: gave up after ${DEADLINE_MS / 1000} s; cleaning up`);
    lab?.destroySync();
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  try {
    io.out(`vrrpd demo: a throw-away LAN of network namespaces ${prefix}{sw,a,b,c} on ${subnet}.0/24`);
    io.out(
      `  a (${subnet}.1) vrrpd priority 150, b (${subnet}.2) vrrpd priority 100, c (${subnet}.3) client; VIP ${vip}, VRID 51, advert_int 1 s`,
    );
    lab = await DemoLab.start(prefix, subnet, ['a', 'b', 'c']);
    await play(lab, vip, io, say);
    if (a.keep) {
      io.out(`--keep: the lab (namespaces ${prefix}*) stays up while this command runs; Ctrl-C (or SIGTERM) removes it`);
    }
    return 0;
  } catch (e) {
    if (!timedOut) io.err(`vrrpd demo: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    clearTimeout(deadline);
    if (lab && !a.keep) await destroyLab(lab, prefix, io);
  }
}

/** The three acts on a started lab: crash failover, preemption on restart, a planned switchover; then the summary. */
async function play(lab: DemoLab, vip: string, io: Io, say: (s: string) => void): Promise<void> {
  say('lab ready; starting vrrpd on a and b');
  let A = startVrrpd(lab, 'a', 150, vip);
  const B = startVrrpd(lab, 'b', 100, vip);
  await waitFor(
    'a MASTER and b BACKUP',
    async () => (await instance(A))?.state === 'MASTER' && (await instance(B))?.state === 'BACKUP',
    15_000,
    50,
  );
  say('a is MASTER, b is BACKUP. `vrrpd status` on each:');
  await printStatus(io, [A, B]);

  const ping = startPinger(lab, 'c', vip, 0.01);
  await waitFor('client pings answered', async () => ping.replies().length >= 5, 5000, 20);
  say(`client c pings ${vip} every 10 ms`);

  // 1. The master dies: its daemon is killed and its link goes down (a crashed VM).
  const tKill = wallNowMs();
  await A.proc.kill('SIGKILL', 500);
  await lab.linkDown('a');
  say('node a died (vrrpd SIGKILL, eth0 down): b must notice the silence (Master_Down_Interval = 3 x 1 s + skew 0.61 s)');
  await waitFor('b MASTER', async () => (await instance(B))?.state === 'MASTER', 8000);
  const bi = await instance(B);
  const failoverMs = bi?.since ? Date.parse(bi.since) - tKill : wallNowMs() - tKill;
  await sleep(500);
  const failoverGapMs = longestGapMs(ping.replies(), tKill, wallNowMs());
  say(`b became MASTER ${failoverMs.toFixed(0)} ms after the kill; the client's longest ping gap was ${failoverGapMs.toFixed(0)} ms`);

  // 2. Restore a: it preempts (150 > 100) once its own down timer runs out.
  await lab.linkUp('a');
  A = startVrrpd(lab, 'a', 150, vip);
  const tRestart = wallNowMs();
  await waitFor(
    'a MASTER again',
    async () => (await instance(A))?.state === 'MASTER' && (await instance(B))?.state === 'BACKUP',
    15_000,
    20,
  );
  await sleep(500);
  const preemptGapMs = longestGapMs(ping.replies(), tRestart, wallNowMs());
  say(`a is back (link up, vrrpd restarted): it took the VIP back (higher priority); longest ping gap ${preemptGapMs.toFixed(0)} ms`);

  // 3. Planned hand-over: b promotes itself at a's request, advert first, then VIP and GARP.
  await sleep(300);
  const tSw = wallNowMs();
  const r = await request(A.socket, { cmd: 'switchover', instance: 'VI_1', peerSockets: [B.socket] }, 10_000);
  if (!r.ok) throw new Error(`switchover failed: ${r.error}`);
  await waitFor('b MASTER after switchover', async () => (await instance(B))?.state === 'MASTER', 5000);
  await sleep(500);
  const switchoverGapMs = longestGapMs(ping.replies(), tSw, wallNowMs());
  say(
    `vrrpd switchover VI_1 on a (via ${String(r.via)}${r.via === 'peer' ? ': b promoted itself, advert first, then VIP and GARP' : ''}): b is MASTER; longest ping gap ${switchoverGapMs.toFixed(0)} ms`,
  );
  await printStatus(io, [B]);
  await ping.stop();

  printSummary(io, failoverMs, failoverGapMs, preemptGapMs, switchoverGapMs);
}

/** `vrrpd status` of each node as a table under its name (a node that does not answer prints nothing). */
async function printStatus(io: Io, nodes: readonly DemoNode[]): Promise<void> {
  for (const n of nodes) {
    const s = await status(n);
    if (s) io.out(`\n--- ${n.host} ---\n${formatTable(s, Date.now())}\n`);
  }
}

/** The demo's closing lines: the three measured gaps, then one machine-readable DEMO_RESULT line. */
function printSummary(io: Io, failoverMs: number, failoverGapMs: number, preemptGapMs: number, switchoverGapMs: number): void {
  io.out('summary:');
  io.out(`  crash failover      ${failoverMs.toFixed(0).padStart(5)} ms to MASTER, ping gap ${failoverGapMs.toFixed(0)} ms`);
  io.out(`  preempt on restart  ping gap ${preemptGapMs.toFixed(0)} ms`);
  io.out(`  vrrpd switchover    ping gap ${switchoverGapMs.toFixed(0)} ms`);
  io.out(
    `DEMO_RESULT ${JSON.stringify({ failoverMs: Math.round(failoverMs), failoverGapMs: Math.round(failoverGapMs), preemptGapMs: Math.round(preemptGapMs), switchoverGapMs: Math.round(switchoverGapMs) } satisfies DemoResult)}`,
  );
}

/** Removes the lab and says whether any namespace named `prefix`* is still listed. */
async function destroyLab(lab: DemoLab, prefix: string, io: Io): Promise<void> {
  await lab.destroy();
  // ip netns del is asynchronous in the kernel; confirm nothing of ours is listed any more.
  const left = (await runCommand(['ip', 'netns', 'list'], { allowFail: true })).stdout.split('\n').filter((l) => l.startsWith(prefix));
  io.out(left.length === 0 ? 'cleaned up: namespaces, processes and temp files removed' : `left behind: ${left.join(', ')}`);
}
