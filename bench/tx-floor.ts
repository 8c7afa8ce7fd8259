/**
 * Send cost of a MASTER against its floor (issue 16): host a runs, one after the other, for
 * `--window` s each, with no peer (nothing is received):
 *  - `keepalived`, `vrrpd`: a MASTER of N instances (advert_int 1, the scale bench's config);
 *  - `floor-timer`: a Node process whose only work is a 50 ms interval timer (vrrpd's advert grid
 *    wakes up 20 times a second): what Node costs to wake up that often;
 *  - `floor-send`: the same timer sending the N instances' adverts through vrrpd's transport
 *    (dist/io/raw-transport.js, one sendto(2) each, IP_HDRINCL), prebuilt, each VRID once a
 *    second in 20 bursts: what Node costs to put N adverts a second on the wire, before any VRRP
 *    work (no state machine, no encoding, no timers per instance).
 * CPU % = utime+stime over the window / wall time (/proc/PID/stat, 10 ms ticks).
 * Lab `vr-txf-`, eth0 over a bridge 10.237.51.0/24 (inside the lab only).
 * Usage (root): node build/bench/tx-floor.js [--instances 255] [--window 20] [--rounds 1]
 *   [--only keepalived,floor-timer,floor-send,vrrpd]
 */
import { BenchLab } from '../test/support/ns-lab.js';
import { REPO_ROOT, sleep, startNode, wallNowMs } from '../test/support/vrrp-harness.js';
import { buildTestAdvert } from '../test/support/vrrp-packet.js';
import { join } from 'node:path';
import { daemonGroupPids, measure } from './rx-floor.js';
import { scaleConf, vipOf } from './scale.js';
import { runIfMain } from './entry.js';

type Sender = 'keepalived' | 'floor-timer' | 'floor-send' | 'vrrpd';

/** The adverts a's N instances send (VRRPv2, priority 150, one VIP each, no auth), as hex. */
function advertsHex(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    buildTestAdvert({ srcIp: '10.237.51.1', dstIp: '224.0.0.18', vrid: (i % 255) + 1, priority: 150, vips: [vipOf(i)] }).toString('hex'),
  );
}

/** A floor process: a 50 ms interval timer, and with `send` the adverts in 20 bursts a second. */
function floorScript(send: boolean, n: number): string {
  const transport = join(REPO_ROOT, 'dist/io/raw-transport.js');
  if (!send) return `setInterval(() => {}, 50); console.log('ready');`;
  return `const { RawVrrpTransport } = await import(${JSON.stringify(transport)});
const pkts = ${JSON.stringify(advertsHex(n))}.map((h) => Buffer.from(h, 'hex'));
const tr = new RawVrrpTransport({ onPacket: () => {} });
globalThis.keep = tr; // referenced: a collected raw-socket handle closes its socket
const r = tr.open('eth0', { groups: [] });
if (!r.ok) { console.error(JSON.stringify(r.error)); process.exit(1); }
let tick = 0, sent = 0;
setInterval(() => {
  for (let i = tick % 20; i < pkts.length; i += 20) { void tr.send('eth0', pkts[i]); sent++; }
  tick++;
}, 50);
process.on('SIGTERM', () => { console.log('sent ' + sent); process.exit(0); });
console.log('ready');`;
}

export interface TxFloorResult {
  sender: Sender;
  cpuPct: number;
  ticks: number;
  windowS: number;
  load: string;
}

async function startSender(lab: BenchLab, sender: Sender, n: number): Promise<{ pids: () => number[]; stop: () => Promise<string> }> {
  if (sender === 'keepalived' || sender === 'vrrpd') {
    const a = startNode(lab, { impl: sender, host: 'a', conf: scaleConf('a', n, 1, 150) });
    const vips = new Set(Array.from({ length: n }, (_, i) => vipOf(i)));
    for (const t0 = wallNowMs(); ; await sleep(250)) {
      const j = (await lab.exec('a', ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { allowFail: true })).stdout;
      if ((j.match(/"local":"[^"]+"/g) ?? []).filter((m) => vips.has(m.slice(9, -1))).length === n) break;
      if (!a.proc.running || wallNowMs() - t0 > 120_000) throw new Error(`${sender} did not become MASTER: ${a.log.slice(-1000)}`);
    }
    await sleep(7000); // the second GARP burst (garp_master_delay 5 s) out of the window
    const leader = a.proc.pid!;
    return {
      pids: () => daemonGroupPids(leader),
      stop: async () => {
        await a.stop(5000);
        return a.log.trim().split('\n').slice(-1).join('');
      },
    };
  }
  const p = lab.spawn('a', [process.execPath, '--input-type=module', '-e', floorScript(sender === 'floor-send', n)]);
  await p.waitFor(/ready/, 10_000);
  await sleep(2000);
  return {
    pids: () => (p.pid === undefined ? [] : [p.pid]),
    stop: async () => {
      await p.kill('SIGTERM', 2000);
      return p.stdout.trim().split('\n').slice(-1).join('');
    },
  };
}

export async function runTxFloor(o: {
  instances: number;
  windowS: number;
  rounds: number;
  only: Sender[];
  log: (s: string) => void;
}): Promise<TxFloorResult[]> {
  const lab = await BenchLab.start('vr-txf-', '10.237.51', ['a']);
  const out: TxFloorResult[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const sender of o.only) {
        const s = await startSender(lab, sender, o.instances);
        const m = await measure(s.pids, o.windowS);
        const last = await s.stop();
        o.log(
          `round ${round + 1} ${sender}: CPU ${m.cpuPct.toFixed(2)} % (${m.ticks} ticks in ${m.windowS.toFixed(1)} s), load ${m.load}; ${last}`,
        );
        out.push({ sender, ...m });
      }
    }
  } finally {
    await lab.destroy();
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const o = { instances: 255, windowS: 20, rounds: 1, only: ['keepalived', 'floor-timer', 'floor-send', 'vrrpd'] as Sender[] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--instances') o.instances = Number(v());
    else if (k === '--window') o.windowS = Number(v());
    else if (k === '--rounds') o.rounds = Number(v());
    else if (k === '--only') o.only = v().split(',') as Sender[];
    else throw new Error(`unknown argument ${k}`);
  }
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const rs = await runTxFloor({ ...o, log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(`${JSON.stringify(rs)}\n`);
  return 0;
}

runIfMain(import.meta.url, main);
