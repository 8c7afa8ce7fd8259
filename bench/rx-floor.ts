/**
 * Receive cost of a BACKUP against its floor (issue 16): one master (keepalived 2.2.7 or vrrpd) in
 * host a sends N instances' adverts (advert_int 1); host b runs, one after the other against the
 * same master, for `--window` s each:
 *  - `keepalived`: keepalived 2.2.7 as the backup (the same keepalived.conf as the scale bench);
 *  - `floor-raw`: a Node process with one raw-socket socket (protocol 112, bound to eth0, joined to
 *    224.0.0.18) that only counts what it reads, one packet per poll wake-up (raw-socket's own
 *    reader), and a 1 s timer: what Node costs before any VRRP work;
 *  - `floor-drain`: the same through vrrpd's RawVrrpTransport (dist/io/raw-transport.js: every
 *    packet waiting read per wake-up); `floor-coalesce`: the same with RX_COALESCE_MS (what
 *    `vrrpd run` uses: the socket is not polled for that long after each wake-up);
 *  - `floor-idle`: the transport's socket joined to no group (it reads nothing): Node's cost with
 *    one socket and a 1 s timer and no traffic;
 *  - `vrrpd`: vrrpd (dist/) as the backup.
 * CPU % = utime+stime of the process(es) over the window / wall time (/proc/PID/stat).
 * Lab `vr-rxf-`, eth0 over a bridge 10.237.50.0/24, VIPs as the scale bench's (inside the lab only).
 * Usage (root): node build/bench/rx-floor.js [--instances 255] [--window 30] [--master keepalived|vrrpd]
 *   [--rounds 1] [--only keepalived,floor-raw,floor-drain,floor-coalesce,vrrpd]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BenchLab } from '../test/support/ns-lab.js';
import { REPO_ROOT, sleep, startNode, wallNowMs, type Impl, type VrrpNode } from '../test/support/vrrp-harness.js';
import { scaleConf, vipOf } from './scale.js';
import { runIfMain } from './entry.js';

const CLK_TCK = 100;
type Backup = 'keepalived' | 'floor-idle' | 'floor-raw' | 'floor-drain' | 'floor-coalesce' | 'vrrpd';

/** The floor processes: count packets, a 1 s timer, print the count on SIGTERM. */
function floorScript(kind: 'idle' | 'raw' | 'drain' | 'coalesce'): string {
  const transport = join(REPO_ROOT, 'dist/io/raw-transport.js');
  const common = `let n = 0; setInterval(() => {}, 1000); process.on('SIGTERM', () => { console.log('packets ' + n); process.exit(0); });`;
  if (kind !== 'raw') {
    return `${common}
const { RawVrrpTransport, RX_COALESCE_MS } = await import(${JSON.stringify(transport)});
process.prependListener('SIGTERM', () => { const i = tr.interfaces()[0]; console.log('wake-ups ' + i?.rxWakeups + ', kernel drops ' + i?.kernelDrops); });
const tr = new RawVrrpTransport({ onPacket: () => n++, rxCoalesceMs: ${kind === 'coalesce' ? 'RX_COALESCE_MS' : 0} });
globalThis.keep = tr; // referenced: a collected raw-socket handle closes its socket
const r = tr.open('eth0'${kind === 'idle' ? ', { groups: [] }' : ''});
if (!r.ok) { console.error(JSON.stringify(r.error)); process.exit(1); }
console.log('ready');`;
  }
  return `${common}
const { createRequire } = await import('node:module');
const raw = createRequire(${JSON.stringify(transport)})('raw-socket');
const s = raw.createSocket({ protocol: 112, bufferSize: 2048 });
const name = Buffer.from('eth0\\0');
s.setOption(1, 25, name, name.length); // SO_BINDTODEVICE
s.setOption(0, 49, 0); // IP_MULTICAST_ALL off
const m = Buffer.alloc(12); Buffer.from([224, 0, 0, 18]).copy(m, 0);
const { readFileSync } = await import('node:fs');
m.writeInt32LE(Number(readFileSync('/sys/class/net/eth0/ifindex', 'utf8')), 8); // ip_mreqn.imr_ifindex
s.setOption(0, 35, m, 12); // IP_ADD_MEMBERSHIP
s.on('message', () => n++);
globalThis.keep = s; // referenced: a collected raw-socket handle closes its socket
s.on('error', (e) => { console.error(String(e)); process.exit(1); });
console.log('ready');`;
}

/** utime + stime (clock ticks) of these processes. */
export function cpuTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      sum += Number(rest[11]) + Number(rest[12]);
    } catch {
      // gone
    }
  }
  return sum;
}

/** The processes of a process group. */
export function pidsOfGroup(leader: number): number[] {
  const out: number[] = [];
  for (const d of readdirPids()) {
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === leader) out.push(d); // pgrp
    } catch {
      // gone
    }
  }
  return out;
}

function readdirPids(): number[] {
  return readdirSync('/proc')
    .filter((x) => /^\d+$/.test(x))
    .map(Number);
}

/** The daemon's processes in a process group (keepalived's children, or node), not its hooks. */
export function daemonGroupPids(leader: number): number[] {
  return pidsOfGroup(leader).filter((p) => {
    try {
      return /^(keepalived|node|vrrpd)$/.test(readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    } catch {
      return false;
    }
  });
}

export interface FloorResult {
  backup: Backup;
  cpuPct: number;
  ticks: number;
  windowS: number;
  load: string;
}

/** CPU % of one core of `pids()` over `windowS` seconds, with the load average at its start. */
export async function measure(
  pids: () => number[],
  windowS: number,
): Promise<{ cpuPct: number; ticks: number; windowS: number; load: string }> {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const ps = pids();
  const c0 = cpuTicks(ps);
  const w0 = wallNowMs();
  await sleep(windowS * 1000);
  const ticks = cpuTicks(ps) - c0;
  const w = (wallNowMs() - w0) / 1000;
  return { cpuPct: (ticks / CLK_TCK / w) * 100, ticks, windowS: w, load };
}

export async function runFloor(o: {
  instances: number;
  windowS: number;
  master: Impl;
  rounds: number;
  only: Backup[];
  log: (s: string) => void;
}): Promise<FloorResult[]> {
  const lab = await BenchLab.start('vr-rxf-', '10.237.50', ['a', 'b']);
  const out: FloorResult[] = [];
  try {
    const a: VrrpNode = startNode(lab, { impl: o.master, host: 'a', conf: scaleConf('a', o.instances, 1, 150) });
    const vips = new Set(Array.from({ length: o.instances }, (_, i) => vipOf(i)));
    for (const t0 = wallNowMs(); ;) {
      const j = (await lab.exec('a', ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { allowFail: true })).stdout;
      const n = (j.match(/"local":"[^"]+"/g) ?? []).filter((m) => vips.has(m.slice(9, -1))).length;
      if (n === o.instances) break;
      if (!a.proc.running || wallNowMs() - t0 > 120_000) throw new Error(`master did not come up: ${a.log.slice(-1000)}`);
      await sleep(250);
    }
    o.log(`${o.master} master in a: all ${o.instances} VIPs up`);
    await sleep(6000); // the master's second GARP burst
    for (let round = 0; round < o.rounds; round++) {
      for (const backup of o.only) {
        let stop: () => Promise<void>;
        let pids: () => number[];
        if (backup === 'keepalived' || backup === 'vrrpd') {
          const b = startNode(lab, { impl: backup, host: 'b', conf: scaleConf('b', o.instances, 1, 100) });
          await sleep(8000); // start-up and the first Master_Down_Timer re-arms out of the window
          const leader = b.proc.pid!;
          pids = () => daemonGroupPids(leader);
          stop = async () => {
            await b.stop(5000);
          };
        } else {
          const p = lab.spawn('b', [
            process.execPath,
            '--input-type=module',
            '-e',
            floorScript(
              backup === 'floor-idle' ? 'idle' : backup === 'floor-raw' ? 'raw' : backup === 'floor-drain' ? 'drain' : 'coalesce',
            ),
          ]);
          await p.waitFor(/ready/, 10_000);
          await sleep(2000);
          pids = () => (p.pid === undefined ? [] : [p.pid]);
          stop = async () => {
            await p.kill('SIGTERM', 2000);
            o.log(`${backup}: ${p.stdout.trim().split('\n').slice(-2).join(', ')}`);
          };
        }
        const m = await measure(pids, o.windowS);
        await stop();
        if (!a.proc.running) throw new Error(`the master exited: ${a.log.slice(-1500)}`);
        const tail = a.log.trim().split('\n').slice(-3).join(' | ');
        o.log(`master's last log lines: ${tail}`);
        const r: FloorResult = { backup, ...m };
        o.log(`round ${round + 1} ${backup}: CPU ${m.cpuPct.toFixed(2)} % (${m.ticks} ticks in ${m.windowS.toFixed(1)} s), load ${m.load}`);
        out.push(r);
      }
    }
    await a.stop(5000);
  } finally {
    await lab.destroy();
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const o = {
    instances: 255,
    windowS: 30,
    master: 'keepalived' as Impl,
    rounds: 1,
    only: ['keepalived', 'floor-raw', 'floor-drain', 'floor-coalesce', 'vrrpd'] as Backup[],
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--instances') o.instances = Number(v());
    else if (k === '--window') o.windowS = Number(v());
    else if (k === '--master') o.master = v() as Impl;
    else if (k === '--rounds') o.rounds = Number(v());
    else if (k === '--only') o.only = v().split(',') as Backup[];
    else throw new Error(`unknown argument ${k}`);
  }
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const rs = await runFloor({ ...o, log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(`${JSON.stringify(rs)}\n`);
  return 0;
}

runIfMain(import.meta.url, main);
