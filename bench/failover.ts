/**
 * Failover benchmark: keepalived pairs vs vrrpd pairs with the same keepalived.conf, in the same
 * namespace lab, measured the same way (root only).
 *
 * Lab `vk-bench-` on 10.234.200.0/24: hosts a (.1, master, priority 150), b (.2, backup, priority
 * 100), c (.3, client pinging the VIP .100 every 2 ms). Per implementation, `--rounds` rounds of:
 *  - crash: wait for one of a's adverts at b's switch port, then until a fifth of the advert
 *    interval after an advert (200 ms at advert_int 1, 20 ms at 0.1: the same advert phase in every
 *    round, so the down timer's phase does not add up to one interval of noise), cut a's link
 *    (bridge port down, a sees NO-CARRIER); then restore it and wait until a holds the VIP again;
 *  - graceful stop: same phase, SIGTERM to a's daemon; then restart it and wait until it is back.
 * Measured from t0 (just before the link cut / the kill(2)):
 *  - VIP on the backup: `ip -ts monitor address` in b (netlink event, stamped by ip on receipt);
 *  - first GARP: tcpdump on the bridge port of b (kernel timestamp), ARP request from b's MAC with
 *    sender = target = VIP;
 *  - longest ping gap at the client: `ping -D -i 0.002`, longest interval between replies around t0;
 *  - stop only: priority-0 advert from a on the wire, and a's exit.
 * Every figure is computed from these timestamps; nothing is typed in. Every wait that depends on
 * the protocol (adverts, the backup's down timer) is sized from the advert interval.
 *
 * VRRP version and interval: `--version 2` (default: PASS auth, `--advert-int` in whole seconds,
 * default 1) or `--version 3` (no authentication block, keepalived ignores auth under v3;
 * `--advert-int` 0.01 to 40.95 s, default 0.1; `vrrp_version 3` in global_defs, or `version 3` in
 * the instance with `--version-in instance`). The summary starts with the protocol bound
 * (Master_Down_Interval at priority 100; at v3 advert_int 0.1: 3 x 100 + (256 - 100) x 100 / 256 =
 * 360.9 ms) and prints keepalived's and vrrpd's medians side by side, then the acceptance checks.
 *
 * Usage: node build/bench/failover.js [--rounds 5] [--mode unicast|multicast|both] [--impl both|keepalived|vrrpd]
 *        [--version 2|3] [--advert-int SECONDS] [--version-in global|instance] [--write BENCHMARKS.md] [--json FILE]
 * Issue 12: npm run bench:failover -- --version 3 --advert-int 0.1 --mode both --rounds 5
 * `--write FILE`: each timing replaces or appends only its own section of FILE (`<!-- failover:begin -->`
 * for VRRPv2 at advert_int 1, `<!-- failover-v3:begin -->` ...); the rest of FILE is kept.
 */
import { writeFileSync } from 'node:fs';
import { BenchLab } from '../test/support/ns-lab.js';
import {
  firstAfter,
  keepalivedUnavailable,
  longestGapMs,
  maxOverlapMs,
  ownership,
  packetErrors,
  sleep,
  startAddrMonitor,
  startLinkMonitor,
  startNode,
  startPinger,
  startWireWatch,
  vrrpdUnavailable,
  wallNowMs,
  type AddrMonitor,
  type Impl,
  type LinkMonitor,
  type Pinger,
  type VrrpNode,
  type WireView,
  type WireWatch,
} from '../test/support/vrrp-harness.js';
import {
  acceptance,
  BACKUP_PRIORITY,
  boundText,
  f1,
  modeSection,
  table,
  writeDoc,
  type ImplResults,
  type Mode,
  type RoundResult,
} from './failover-report.js';
import { advertMs, badAdvertInt, describe, timedConf, wireReader, type Timing, type VrrpVersion } from './vrrp-timing.js';

interface Args {
  rounds: number;
  modes: Mode[];
  impls: Impl[];
  timing: Timing;
  write?: string;
  json?: string;
}

const USAGE =
  'usage: node build/bench/failover.js [--rounds N] [--mode unicast|multicast|both] [--impl both|keepalived|vrrpd]\n' +
  '         [--version 2|3] [--advert-int SECONDS] [--version-in global|instance] [--write BENCHMARKS.md] [--json FILE]\n';

function parseArgs(argv: string[]): Args {
  const a: Args = {
    rounds: 5,
    modes: ['unicast'],
    impls: ['keepalived', 'vrrpd'],
    timing: { version: 2, advertIntS: 1, versionIn: 'global' },
  };
  let advertInt: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--rounds') a.rounds = Math.max(1, Number(v()));
    else if (k === '--mode') {
      const m = v();
      if (m !== 'unicast' && m !== 'multicast' && m !== 'both') throw new Error('--mode is unicast, multicast or both');
      a.modes = m === 'both' ? ['unicast', 'multicast'] : [m];
    } else if (k === '--impl') {
      const m = v();
      a.impls = m === 'both' ? ['keepalived', 'vrrpd'] : m === 'keepalived' || m === 'vrrpd' ? [m] : [];
      if (a.impls.length === 0) throw new Error('--impl is both, keepalived or vrrpd');
    } else if (k === '--version') {
      const n = Number(v());
      if (n !== 2 && n !== 3) throw new Error('--version is 2 or 3');
      a.timing.version = n as VrrpVersion;
    } else if (k === '--advert-int') advertInt = Number(v());
    else if (k === '--version-in') {
      const w = v();
      if (w !== 'global' && w !== 'instance') throw new Error('--version-in is global or instance');
      a.timing.versionIn = w;
    } else if (k === '--write') a.write = v();
    else if (k === '--json') a.json = v();
    else if (k === '-h' || k === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  a.timing.advertIntS = advertInt ?? (a.timing.version === 3 ? 0.1 : 1);
  const bad = badAdvertInt(a.timing.version, a.timing.advertIntS);
  if (bad) throw new Error(`--advert-int ${a.timing.advertIntS}: ${bad}`);
  return a;
}

const PREFIX = 'vk-bench-';
const SUBNET = '10.234.200';
const VIP = `${SUBNET}.100`;
const VRID = 51;

interface Session {
  impl: Impl;
  timing: Timing;
  lab: BenchLab;
  a: VrrpNode;
  b: VrrpNode;
  monA: AddrMonitor;
  monB: AddrMonitor;
  wire: WireWatch;
  /** The wire watcher's adverts (v2 and v3) and GARPs so far. */
  view: () => WireView;
  ping: Pinger;
  links: LinkMonitor;
  /** `ip -batch` in the switch namespace, for link cuts without process start-up jitter. */
  sw: ReturnType<BenchLab['ipBatch']>;
  confA: string;
  /** When the previous round's measurement ended. */
  measuredUntil: number;
}

function conf(lab: BenchLab, mode: Mode, self: 'a' | 'b', timing: Timing): string {
  const peer = self === 'a' ? 'b' : 'a';
  return timedConf(
    `bench-${self}`,
    {
      state: self === 'a' ? 'MASTER' : 'BACKUP',
      vrid: VRID,
      priority: self === 'a' ? 150 : BACKUP_PRIORITY,
      vips: [`${VIP}/24`],
      ...(mode === 'unicast' ? { unicastSrc: lab.host(self).ip, unicastPeers: [lab.host(peer).ip] } : {}),
    },
    timing,
    '1111',
  );
}

async function until<T>(what: string, timeoutMs: number, f: () => T | undefined | false): Promise<T> {
  const deadline = wallNowMs() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (wallNowMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** True when the last address event for the VIP on this monitor is an add. */
function holds(mon: AddrMonitor): boolean {
  const ev = mon.eventsFor(VIP);
  return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
}

/** Start-up and recovery: 12 s at advert_int 1 (process start-up + a few intervals), less when faster. */
async function waitSteady(s: Session): Promise<void> {
  const adv = advertMs(s.timing);
  await until('a to hold the VIP alone', 8000 + 4 * adv, () => holds(s.monA) && !holds(s.monB));
  // Two adverts from a at b's port after that, and pings answered.
  const t = wallNowMs();
  await until(
    'two adverts from a',
    1500 + 2 * adv,
    () => s.view().adverts.filter((x) => x.ms > t && x.src === s.lab.host('a').ip && x.prio > 0).length >= 2,
  );
  await until('ping replies through the VIP', 3000, () => s.ping.replies().some((r) => r > t));
}

/** The advert phase of every round: a fifth of the interval after one of a's adverts (200 ms at advert_int 1). */
const phaseMs = (t: Timing): number => advertMs(t) / 5;

/**
 * Wait for the next advert from a at b's port, then until `phaseMs` after an advert on that grid:
 * after the advert itself when there is time left, else after a later one (at 100 ms intervals the
 * advert may be seen later than the phase, and cutting at once would shift the phase).
 */
async function syncToAdvert(s: Session): Promise<number> {
  const adv = advertMs(s.timing);
  const t = wallNowMs();
  const first = await until('an advert from a', 2000 + adv, () =>
    s.view().adverts.find((x) => x.ms > t - 1 && x.src === s.lab.host('a').ip),
  );
  let at = first.ms + phaseMs(s.timing);
  while (at < wallNowMs() + 1) at += adv;
  await sleep(at - wallNowMs());
  return first.ms;
}

type Intervals = ReturnType<typeof ownership>;
/** The ownership intervals cut to [from, to). */
const clip = (iv: Intervals, from: number, to: number): Intervals =>
  iv.map((i) => ({ from: Math.max(i.from, from), to: Math.min(i.to, to) })).filter((i) => i.to > i.from);

async function measureAfter(s: Session, t0: number, kind: RoundResult['kind'], round: number): Promise<RoundResult> {
  // The backup's down timer is 3.61 intervals at priority 100: 8 s at advert_int 1.
  const vipAdd = await until('the VIP on b', 4000 + 4 * advertMs(s.timing), () =>
    s.monB.eventsFor(VIP).find((e) => e.op === 'add' && e.ms >= t0),
  );
  await sleep(1000); // GARP burst (keepalived's garp_master_repeat, not the advert interval), ping recovery, prio-0 advert
  const bMac = s.lab.host('b').mac;
  const aIp = s.lab.host('a').ip;
  const view = s.view();
  const garps = view.garps.filter((g) => g.ip === VIP && g.srcMac === bMac && g.ms >= t0 && g.ms <= vipAdd.ms + 1000);
  const garp = garps[0];
  // b's first advert as master (seen at b's own bridge port).
  const takeover = firstAfter(view.adverts, t0, (x) => x.src === s.lab.host('b').ip && x.prio > 0);
  const replies = s.ping.replies();
  const end = wallNowMs();
  const ownA = ownership(s.monA.events(), VIP, end);
  const ownB = ownership(s.monB.events(), VIP, end);
  const since = Math.max(t0 - 15_000, s.measuredUntil);
  s.measuredUntil = end;
  let timerFrom: number;
  let prio0Ms: number | undefined;
  if (kind === 'stop') {
    const p0 = firstAfter(view.adverts, t0, (x) => x.src === aIp && x.prio === 0);
    prio0Ms = p0 ? p0.ms - t0 : Number.NaN;
    timerFrom = p0?.ms ?? Number.NaN;
  } else {
    const before = view.adverts.filter((x) => x.src === aIp && x.ms < t0);
    timerFrom = before[before.length - 1]?.ms ?? Number.NaN;
  }
  const r: RoundResult = {
    kind,
    round,
    vipMs: vipAdd.ms - t0,
    garpMs: garp ? garp.ms - t0 : Number.NaN,
    vipToGarpMs: garp ? garp.ms - vipAdd.ms : Number.NaN,
    pingGapMs: longestGapMs(replies, t0, end),
    bothMs: maxOverlapMs(clip(ownA, t0, end), clip(ownB, t0, end)),
    // Since the previous measurement's end (at most 15 s): the previous round's recovery (a preempting back).
    recoveryBothMs: maxOverlapMs(clip(ownA, since, t0), clip(ownB, since, t0)),
    garpCount: garps.length,
    takeoverAdvertMs: takeover ? takeover.ms - t0 : Number.NaN,
    timerMs: takeover ? takeover.ms - timerFrom : Number.NaN,
    advertToVipMs: takeover ? vipAdd.ms - takeover.ms : Number.NaN,
  };
  if (prio0Ms !== undefined) r.prio0Ms = prio0Ms;
  return r;
}

async function crashRound(s: Session, round: number): Promise<RoundResult> {
  await waitSteady(s);
  await syncToAdvert(s);
  const port = s.lab.host('a').swPort;
  const tCmd = wallNowMs();
  s.sw.run(`link set ${port} down`);
  // t0 = the kernel's link-down event for a's port.
  const ev = await until('the link-down event', 2000, () =>
    s.links.events().find((e) => e.ifname === port && !e.up && e.ms >= tCmd - 1),
  ).catch(() => undefined);
  const t0 = ev?.ms ?? tCmd;
  const r = await measureAfter(s, t0, 'crash', round);
  const advs = s.view().adverts.filter((x) => x.src === s.lab.host('a').ip && x.ms < t0);
  const last = advs[advs.length - 1]?.ms;
  if (last !== undefined) r.lastAdvertToVipMs = r.vipMs + t0 - last;
  r.cutCmdMs = t0 - tCmd;
  await s.lab.linkUp('a', 'switch');
  return r;
}

async function stopRound(s: Session, round: number): Promise<RoundResult> {
  await waitSteady(s);
  await syncToAdvert(s);
  const old = s.a;
  const t0 = old.sigterm();
  const exited = old.proc.exited.then(() => wallNowMs());
  const r = await measureAfter(s, t0, 'stop', round);
  const done = await Promise.race([exited, sleep(4000).then(() => Number.NaN)]);
  r.exitMs = done - t0;
  const st = await old.stop(1000);
  r.exitCode = st.exitCode;
  s.a = startNode(s.lab, { impl: s.impl, host: 'a', conf: s.confA });
  return r;
}

async function runImpl(
  lab: BenchLab,
  impl: Impl,
  mode: Mode,
  o: { rounds: number; timing: Timing },
  log: (s: string) => void,
): Promise<{ rounds: RoundResult[]; logs: string[] }> {
  const { rounds, timing } = o;
  const monA = await startAddrMonitor(lab, 'a');
  const monB = await startAddrMonitor(lab, 'b');
  const links = await startLinkMonitor(lab, lab.switchNs, lab.host('c').swPort);
  const wire = await startWireWatch(lab, lab.switchNs, lab.host('b').swPort);
  const confA = conf(lab, mode, 'a', timing);
  const b = startNode(lab, { impl, host: 'b', conf: conf(lab, mode, 'b', timing) });
  const a = startNode(lab, { impl, host: 'a', conf: confA });
  const ping = startPinger(lab, 'c', VIP, 0.002);
  const sw = lab.ipBatch(lab.switchNs);
  const s: Session = { impl, timing, lab, a, b, monA, monB, wire, view: wireReader(wire.proc), ping, links, sw, confA, measuredUntil: 0 };
  const results: RoundResult[] = [];
  const logs: string[] = [];
  try {
    for (let i = 1; i <= rounds; i++) {
      const c = await crashRound(s, i);
      results.push(c);
      log(
        `${mode} ${impl} crash ${i}: VIP ${f1(c.vipMs)} ms (cut cmd ${f1(c.cutCmdMs ?? Number.NaN)}, timer ${f1(c.timerMs)}, advert -> VIP ${f1(c.advertToVipMs)}), GARP ${f1(c.garpMs)} (${c.garpCount}), ping gap ${f1(c.pingGapMs)}, both ${f1(c.bothMs)} (recovery before: ${f1(c.recoveryBothMs)})`,
      );
      const before = s.a;
      const g = await stopRound(s, i);
      logs.push(before.log);
      results.push(g);
      log(
        `${mode} ${impl} stop  ${i}: VIP ${f1(g.vipMs)} ms (prio0 ${f1(g.prio0Ms ?? Number.NaN)}, timer ${f1(g.timerMs)}, advert -> VIP ${f1(g.advertToVipMs)}), GARP ${f1(g.garpMs)} (${g.garpCount}), ping gap ${f1(g.pingGapMs)}, exit ${f1(g.exitMs ?? Number.NaN)} (code ${g.exitCode}), both ${f1(g.bothMs)} (recovery before: ${f1(g.recoveryBothMs)})`,
      );
    }
    await waitSteady(s);
  } finally {
    logs.push(s.a.log, s.b.log);
    await Promise.all([s.a.stop(3000), s.b.stop(3000)]);
    await Promise.all([
      ping.stop(),
      wire.stop(),
      monA.proc.kill('SIGTERM', 1000),
      monB.proc.kill('SIGTERM', 1000),
      links.proc.kill('SIGTERM', 1000),
      sw.close(),
    ]);
  }
  return { rounds: results, logs };
}

/** Run every mode and implementation in one lab; the packet errors either implementation logged. */
async function runAll(args: Args, log: (s: string) => void): Promise<{ results: Partial<Record<Mode, ImplResults>>; errors: string[] }> {
  const results: Partial<Record<Mode, ImplResults>> = {};
  const errors: string[] = [];
  const lab = await BenchLab.start(PREFIX, SUBNET, ['a', 'b', 'c']);
  try {
    for (const mode of args.modes) {
      results[mode] = {};
      for (const impl of args.impls) {
        const r = await runImpl(lab, impl, mode, { rounds: args.rounds, timing: args.timing }, log);
        results[mode]![impl] = r.rounds;
        for (const l of r.logs.flatMap((x) => packetErrors(x))) errors.push(`${mode} ${impl}: ${l.trim()}`);
      }
    }
  } finally {
    await lab.destroy();
  }
  return { results, errors };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:failover needs root (network namespaces, raw sockets)\n');
    return 2;
  }
  const noKa = keepalivedUnavailable();
  if (noKa && args.impls.includes('keepalived')) {
    process.stderr.write(`${noKa}\n`);
    return 2;
  }
  const noVrrpd = vrrpdUnavailable();
  if (noVrrpd && args.impls.includes('vrrpd')) {
    process.stderr.write(`skipping vrrpd: ${noVrrpd}\n`);
    args.impls = args.impls.filter((i) => i !== 'vrrpd');
    if (args.impls.length === 0) return 2;
  }
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const started = new Date().toISOString();
  const { results, errors } = await runAll(args, log);
  const t = args.timing;
  const argsText = process.argv.slice(2).join(' ');
  const out: string[] = [`Protocol bound (${t.version === 3 ? 'RFC 5798' : 'RFC 3768'}): ${boundText(t)}`, ''];
  const sections: string[] = [];
  let allOk = true;
  for (const mode of args.modes) {
    const r = results[mode] ?? {};
    const title = `${mode}, ${describe(t)}, priorities 150/${BACKUP_PRIORITY}, ${args.rounds} rounds per implementation`;
    const sec = modeSection(title, r, args.impls, t);
    allOk &&= sec.ok;
    sections.push(...sec.md);
    out.push(`Failover: ${title}`, '', ...table(r, t), '', ...acceptance(r, t).lines, '');
  }
  out.push(errors.length ? `keepalived/vrrpd packet errors:\n${errors.join('\n')}` : 'no packet errors logged by either implementation');
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ started, args, results, errors }, null, 2)}\n`);
  if (args.write) {
    const cmd = `node build/bench/failover.js ${argsText}`.trim();
    writeDoc({
      file: args.write,
      cmd,
      argsText,
      started,
      timing: t,
      prefix: PREFIX,
      subnet: SUBNET,
      vip: VIP,
      vrid: VRID,
      phaseMs: phaseMs(t),
      sections,
      errors,
    });
    log(`wrote ${args.write}`);
  }
  return allOk || !args.impls.includes('vrrpd') ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
