/**
 * Send cost of a MASTER against its floor (issue 16): host a runs, one after the other, for
 * `--window` s each, with no peer (nothing is received):
 *  - `keepalived`, `vrrpd`: a MASTER of N instances (advert_int 1, the scale bench's config);
 *  - `floor-timer`: a Node process whose only work is a 50 ms interval timer (vrrpd's advert grid
 *    wakes up 20 times a second): what Node costs to wake up that often;
 *  - `floor-send`: the same timer sending the N instances' adverts through vrrpd's transport
 *    (dist/io/raw-transport.js, one sendto(2) each, IP_HDRINCL), prebuilt, each VRID once a
 *    second in 20 bursts: what Node costs to put N adverts a second on the wire, before any VRRP
 *    work (no state machine, no encoding, no timers per instance);
 *  - `floor-grid`: the adverts sent the way `vrrpd run` schedules them, with nothing else: vrrpd's
 *    own SystemClock on a timerfd, its AdvertGrid (50 ms points, a lane per instance, bursts of at
 *    most 16) and its transport, each VRID at once and then every 1,000 ms from that deadline, as
 *    an instance that has just become MASTER. Started as bin/vrrpd starts the daemon (two malloc
 *    arenas, a 1 MiB semi-space). The send side's floor of the advert jitter (issue 16).
 * CPU % = utime+stime over the window / wall time (/proc/PID/stat, 10 ms ticks).
 * `--jitter`: a second host b on the bridge, doing nothing but a capture of a's adverts on its eth0
 * (tcpdump, kernel receive timestamps, as bench/scale.ts captures on the backup; buffered, not
 * woken per packet: see startWireWatch) over the same window: the interval jitter p50/p99/max per sender (scale.ts's advertJitter); a floor process then
 * settles 8 s before its window, as long as a daemon's window starts after its start. `--capture-dir`:
 * each capture kept as SENDER-ROUND.txt (tcpdump -tt text, first line `T0 <wall ms at start>`).
 * Lab `vr-txf-`, eth0 over a bridge 10.237.51.0/24 (inside the lab only).
 * Usage (root): node build/bench/tx-floor.js [--instances 255] [--window 20] [--rounds 1]
 *   [--only keepalived,floor-timer,floor-send,floor-grid,vrrpd] [--jitter [--capture-dir DIR]]
 */
import { BenchLab } from '../test/support/ns-lab.js';
import { REPO_ROOT, parseTcpdumpText, sleep, startNode, startWireWatch, wallNowMs } from '../test/support/vrrp-harness.js';
import { buildTestAdvert } from '../test/support/vrrp-packet.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonGroupPids, measure } from './rx-floor.js';
import { advertJitter, scaleConf, vipOf, type Jitter } from './scale.js';
import { runIfMain } from './entry.js';

const SENDERS = ['keepalived', 'floor-timer', 'floor-send', 'floor-grid', 'vrrpd'] as const;
type Sender = (typeof SENDERS)[number];

/** The adverts a's N instances send (VRRPv2, priority 150, one VIP each, no auth), as hex. */
function advertsHex(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    buildTestAdvert({ srcIp: '10.237.51.1', dstIp: '224.0.0.18', vrid: (i % 255) + 1, priority: 150, vips: [vipOf(i)] }).toString('hex'),
  );
}

/** A floor process: a 50 ms interval timer; `send`: the adverts in 20 bursts a second; `grid`: on vrrpd's grid. */
function floorScript(kind: 'timer' | 'send' | 'grid', n: number): string {
  const dist = (m: string): string => JSON.stringify(join(REPO_ROOT, 'dist', m));
  if (kind === 'timer') return `setInterval(() => {}, 50); console.log('ready');`;
  const open = `const { RawVrrpTransport } = await import(${dist('io/raw-transport.js')});
const pkts = ${JSON.stringify(advertsHex(n))}.map((h) => Buffer.from(h, 'hex'));
const tr = new RawVrrpTransport({ onPacket: () => {} });
globalThis.keep = tr; // referenced: a collected raw-socket handle closes its socket
const r = tr.open('eth0', { groups: [] });
if (!r.ok) { console.error(JSON.stringify(r.error)); process.exit(1); }
let sent = 0;
process.on('SIGTERM', () => { console.log('sent ' + sent); process.exit(0); });
`;
  if (kind === 'send')
    return `${open}let tick = 0;
setInterval(() => {
  for (let i = tick % 20; i < pkts.length; i += 20) { void tr.send('eth0', pkts[i]); sent++; }
  tick++;
}, 50);
console.log('ready');`;
  return `${open}const { SystemClock } = await import(${dist('io/system-clock.js')});
const { TimerFd } = await import(${dist('io/timerfd.js')});
const { AdvertGrid, ADVERT_GRID_MS } = await import(${dist('runtime/advert-grid.js')});
const clock = new SystemClock();
const fd = TimerFd.open();
if (!fd.ok) { console.error(JSON.stringify(fd.error)); process.exit(1); }
clock.useDeadlineTimers(fd.value);
globalThis.keepFd = fd.value;
const grid = new AdvertGrid(clock, ADVERT_GRID_MS);
const t0 = clock.nowMs();
pkts.forEach((p) => {
  const lane = grid.lane();
  let deadline = t0;
  const fire = () => { void tr.send('eth0', p); sent++; deadline += 1000; lane(deadline, fire, 1000); };
  fire();
});
console.log('ready');`;
}

/** Gaps inside a grid sender's bursts (see burstStalls). */
export interface BurstStalls {
  bursts: number;
  /** Gaps of more than STALL_GAP_MS between two adverts of one burst. */
  stalls: number;
  /** The stalls' lengths (ms): median and largest. */
  p50Ms: number;
  maxMs: number;
}

/** A gap between two adverts of one burst longer than this is a stall (a burst's 16 adverts take ~0.5-1.5 ms). */
export const STALL_GAP_MS = 1;

/**
 * Where a grid sender's interval jitter comes from: its adverts leave in bursts (one per grid point,
 * a burst = adverts less than 10 ms apart), and an advert is late when the sender stopped inside its
 * burst. Counts those stops. Meaningful only for senders on the grid (floor-grid, vrrpd).
 */
export function burstStalls(ads: readonly { readonly ms: number }[]): BurstStalls {
  const ts = ads.map((x) => x.ms).sort((x, y) => x - y);
  let bursts = ts.length > 0 ? 1 : 0;
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const g = ts[i]! - ts[i - 1]!;
    if (g >= 10) bursts++;
    else if (g > STALL_GAP_MS) gaps.push(g);
  }
  gaps.sort((x, y) => x - y);
  return { bursts, stalls: gaps.length, p50Ms: gaps[Math.floor(gaps.length / 2)] ?? 0, maxMs: gaps[gaps.length - 1] ?? 0 };
}

export interface TxFloorResult {
  sender: Sender;
  cpuPct: number;
  ticks: number;
  windowS: number;
  load: string;
  /** With `--jitter`: a's adverts as captured on b's eth0 over the window. */
  jitter?: Jitter;
  stalls?: BurstStalls;
}

async function startSender(
  lab: BenchLab,
  sender: Sender,
  n: number,
  settleMs: number,
): Promise<{ t0: number; pids: () => number[]; stop: () => Promise<string> }> {
  const t0 = wallNowMs();
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
      t0,
      pids: () => daemonGroupPids(leader),
      stop: async () => {
        await a.stop(5000);
        return a.log.trim().split('\n').slice(-1).join('');
      },
    };
  }
  const kind = sender === 'floor-timer' ? 'timer' : sender === 'floor-send' ? 'send' : 'grid';
  // floor-grid as bin/vrrpd starts the daemon (its first line): the same heap and malloc settings.
  const launcher = kind === 'grid' ? ['env', 'MALLOC_ARENA_MAX=2', process.execPath, '--max-semi-space-size=1'] : [process.execPath];
  const p = lab.spawn('a', [...launcher, '--input-type=module', '-e', floorScript(kind, n)]);
  await p.waitFor(/ready/, 10_000);
  await sleep(settleMs);
  return {
    t0,
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
  /** Capture a's adverts on a second host's eth0 and report their interval jitter. */
  jitter?: boolean;
  /** With `jitter`: write each capture (tcpdump -tt text, first line `T0 <wall ms at start>`) here. */
  captureDir?: string;
  log: (s: string) => void;
}): Promise<TxFloorResult[]> {
  const lab = await BenchLab.start('vr-txf-', '10.237.51', o.jitter ? ['a', 'b'] : ['a']);
  const out: TxFloorResult[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const sender of o.only) {
        // With --jitter a floor process settles as long as the daemons do after their last VIP
        // (7 s, the second GARP burst) plus their start: its windows then start as late after its start.
        const s = await startSender(lab, sender, o.instances, o.jitter ? 8000 : 2000);
        const wire = o.jitter ? await startWireWatch(lab, 'b', 'eth0', '-B 32768 -s 96 proto 112', { buffered: true }) : null;
        const m = await measure(s.pids, o.windowS);
        const wEnd = wallNowMs();
        await wire?.stop();
        const last = await s.stop();
        const src = lab.host('a').ip;
        if (wire && o.captureDir !== undefined)
          writeFileSync(join(o.captureDir, `${sender}-${round + 1}.txt`), `T0 ${s.t0}\n${wire.proc.stdout}`);
        const ads = wire ? parseTcpdumpText(wire.proc.stdout).adverts.filter((x) => x.src === src && x.ms <= wEnd) : [];
        const jitter = wire ? advertJitter(ads, s.t0) : undefined;
        const stalls = wire && (sender === 'floor-grid' || sender === 'vrrpd') ? burstStalls(ads) : undefined;
        const jt = jitter
          ? `; jitter p50/p99/max ${jitter.p50.toFixed(2)}/${jitter.p99.toFixed(2)}/${jitter.max.toFixed(2)} ms (worst ${jitter.worstAtS.toFixed(1)} s after start; ${jitter.intervals} intervals, ${jitter.vrids} VRIDs, ${jitter.missed} missing)${
              stalls
                ? `; ${stalls.stalls} stalls > ${STALL_GAP_MS} ms inside ${stalls.bursts} bursts (median ${stalls.p50Ms.toFixed(2)}, max ${stalls.maxMs.toFixed(2)} ms)`
                : ''
            }`
          : '';
        o.log(
          `round ${round + 1} ${sender}: CPU ${m.cpuPct.toFixed(2)} % (${m.ticks} ticks in ${m.windowS.toFixed(1)} s), load ${m.load}${jt}; ${last}`,
        );
        out.push({ sender, ...m, ...(jitter ? { jitter } : {}), ...(stalls ? { stalls } : {}) });
      }
    }
  } finally {
    await lab.destroy();
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const o = {
    instances: 255,
    windowS: 20,
    rounds: 1,
    jitter: false,
    captureDir: undefined as string | undefined,
    only: [...SENDERS] as Sender[],
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--instances') o.instances = Number(v());
    else if (k === '--window') o.windowS = Number(v());
    else if (k === '--rounds') o.rounds = Number(v());
    else if (k === '--only') o.only = v().split(',') as Sender[];
    else if (k === '--jitter') o.jitter = true;
    else if (k === '--capture-dir') o.captureDir = v();
    else throw new Error(`unknown argument ${k}`);
  }
  for (const x of o.only)
    if (!(SENDERS as readonly string[]).includes(x)) throw new Error(`--only: unknown sender ${x} (${SENDERS.join(', ')})`);
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const rs = await runTxFloor({ ...o, log: (s) => process.stderr.write(`${s}\n`) });
  process.stdout.write(`${JSON.stringify(rs)}\n`);
  return 0;
}

runIfMain(import.meta.url, main);
