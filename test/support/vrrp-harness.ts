/**
 * VRRP harness shared by the failover benchmark and the keepalived interop tests: keepalived.conf
 * text for lab instances, node runners (keepalived 2.2.7 or `vrrpd run`, each in its own private
 * mount namespace), and timestamped observers (address monitor, wire watcher, pinger) whose output
 * is parsed after the fact. All timestamps are CLOCK_REALTIME milliseconds (fractional), the same
 * clock as `Date.now()`/`wallNowMs()`, so kernel packet times, netlink event times and the
 * harness's own event times can be subtracted.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtDaemonUnavailable } from '../../src/cli/demo-lab.js';
import { readLauncherLine } from '../../src/cli/launcher.js';
import type { NsLab, NsProcess } from './lab-types.js';
import { writeLabUsers, type LabUsers } from './lab-users.js';

/** Wall-clock now in ms with sub-ms resolution. */
export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The repository root: the nearest directory above this module holding package.json, so the same
 * code works from test/support/*.ts (tap) and from the benchmarks' build (build/test/support/*.js).
 */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return `${dir}/`;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration text

export interface InstanceConf {
  name?: string;
  state: 'MASTER' | 'BACKUP';
  iface?: string;
  vrid: number;
  priority: number;
  advertInt?: number;
  /** Lines of virtual_ipaddress, e.g. `10.234.1.100/24` or `10.234.1.100 dev eth0 label eth0:havip`. */
  vips: readonly string[];
  authPass?: string;
  nopreempt?: boolean;
  unicastSrc?: string;
  unicastPeers?: readonly string[];
  /** Extra lines inside the instance block. */
  extra?: readonly string[];
}

/** A keepalived.conf (also read unchanged by vrrpd) with one global_defs and one instance. */
export function keepalivedConf(routerId: string, inst: InstanceConf, globalExtra: readonly string[] = []): string {
  const l: string[] = ['global_defs {', `  router_id ${routerId}`, ...globalExtra.map((x) => `  ${x}`), '}', ''];
  l.push(`vrrp_instance ${inst.name ?? 'VI_1'} {`);
  l.push(`  state ${inst.state}`, `  interface ${inst.iface ?? 'eth0'}`, `  virtual_router_id ${inst.vrid}`, `  priority ${inst.priority}`);
  l.push(`  advert_int ${inst.advertInt ?? 1}`);
  if (inst.nopreempt) l.push('  nopreempt');
  if (inst.authPass !== undefined) l.push('  authentication {', '    auth_type PASS', `    auth_pass ${inst.authPass}`, '  }');
  if (inst.unicastSrc) l.push(`  unicast_src_ip ${inst.unicastSrc}`);
  if (inst.unicastPeers) l.push('  unicast_peer {', ...inst.unicastPeers.map((p) => `    ${p}`), '  }');
  l.push('  virtual_ipaddress {', ...inst.vips.map((v) => `    ${v}`), '  }');
  for (const x of inst.extra ?? []) l.push(`  ${x}`);
  l.push('}', '');
  return l.join('\n');
}

// ---------------------------------------------------------------------------------------------
// vrrpd build checks

/**
 * Why `vrrpd run` cannot be used from this checkout, or false when it can: the benchmarks run the
 * BUILT daemon (`dist/`), they never build it themselves. The same check as `vrrpd demo`'s
 * (src/cli/demo-lab.ts). Tests use `requireBuild()` (test/support/build-check.ts) instead, which
 * fails the test file rather than skipping it.
 */
export function vrrpdUnavailable(root = REPO_ROOT): false | string {
  const why = builtDaemonUnavailable(root);
  return why === false ? false : `${why} (the tests run the built daemon)`;
}

/** Why keepalived cannot be run here, or false. */
export function keepalivedUnavailable(): false | string {
  for (const d of ['/usr/sbin/keepalived', '/usr/bin/keepalived', '/usr/local/sbin/keepalived']) if (existsSync(d)) return false;
  return 'keepalived is not installed (apt-get install keepalived)';
}

// ---------------------------------------------------------------------------------------------
// Node runners

export type Impl = 'keepalived' | 'vrrpd';

export interface StartNodeOptions {
  impl: Impl;
  /** Lab host short name. */
  host: string;
  /** keepalived.conf text (both implementations read the same file). */
  conf: string;
  /**
   * Extra files in the node's private root, keyed by their absolute path as the node sees it:
   * `/etc/keepalived/...`, `/tmp/...`, `/var/...` or `/run/...`. Mode defaults to 0644
   * (use 0o755 for scripts).
   */
  files?: Record<string, { content: string; mode?: number }>;
  /**
   * The node's user database (lab-users.ts): root and nobody plus these; default none else, so no
   * keepalived_script and hooks run as root. KEEPALIVED_SCRIPT_USERS: hooks run as keepalived_script.
   */
  users?: LabUsers;
  /** Extra daemon arguments. */
  args?: readonly string[];
  /** Path of the vrrpd entry point (default REPO_ROOT/bin/vrrpd). */
  vrrpdBin?: string;
  /** Node options before the entry point (vrrpd only), e.g. `--heapsnapshot-signal=SIGWINCH`. */
  nodeArgs?: readonly string[];
}

/** A running (or stopped) keepalived or vrrpd in a lab host. */
export interface VrrpNode {
  readonly impl: Impl;
  readonly host: string;
  /** The node's directory on the real filesystem (its private /run, /tmp, /var, /etc/keepalived live below). */
  readonly dir: string;
  readonly proc: NsProcess;
  /** Real paths of the pid files the daemon was told to write. */
  readonly pidFiles: readonly string[];
  /** Map a path as the node sees it (`/var/keepalived/state`) to the real path. */
  realPath(p: string): string;
  /** Everything the daemon logged so far. */
  readonly log: string;
  /** Send SIGTERM to the daemon's main process only (like `kill $(cat pidfile)`); returns the send time (wall ms). */
  sigterm(): number;
  /** SIGTERM, wait up to `timeoutMs` for exit (then SIGKILL the group); returns exit details. */
  stop(timeoutMs?: number): Promise<{ exitCode: number | null; exitSignal: NodeJS.Signals | null; ms: number; killed: boolean }>;
}

let nodeSeq = 0;

/**
 * The private mount namespace: /run, /var, /etc/keepalived and /tmp are the node's own directories
 * (/tmp mode 1777 as on any host), /etc/passwd and /etc/group the node's own files.
 * `$K` (this checkout, which node needs to load vrrpd and tap's NODE_OPTIONS hooks) stays visible
 * even when it lives under one of those directories (a CI clone in /tmp): it is bound into the
 * node's directory at the same place before the cover, and the covers are recursive (--rbind).
 */
const MOUNT_SCRIPT = [
  'set -e',
  'D="$1"; K="$2"; shift 2',
  'mount --bind "$D/etc-passwd" /etc/passwd',
  'mount --bind "$D/etc-group" /etc/group',
  'keep() { case "$K" in "$1"/*) mkdir -p "$2/${K#"$1"/}"; mount --bind "$K" "$2/${K#"$1"/}";; esac; }',
  'keep /run "$D/run"; keep /var "$D/var"; keep /etc/keepalived "$D/etc-keepalived"; keep /tmp "$D/tmp"',
  'mount --rbind "$D/run" /run',
  'mount --rbind "$D/var" /var',
  'mount --rbind "$D/etc-keepalived" /etc/keepalived',
  'mount --rbind "$D/tmp" /tmp', // last: $D is itself under /tmp
  'exec "$@"',
].join('\n');

/**
 * Start keepalived (`keepalived -n -l -D -G -f /run/keepalived.conf -p /run/keepalived.pid -r
 * /run/vrrp.pid`) or vrrpd (`node bin/vrrpd run -f /run/vrrpd.conf --log-console --pid-file
 * /run/vrrpd.pid --state-dir /run/vrrpd --control-socket /run/vrrpd.sock`) in a lab host, inside
 * `unshare --mount` with private /run, /tmp, /var and /etc/keepalived backed by `dir`, so pid files,
 * hook output (/tmp/log, /var/keepalived/state, /var/log/keepalived.log) and dumps never touch the
 * real host and are removed with the lab's temp dir. `-G`: no syslog (the host's journal stays clean).
 */
export function startNode(lab: NsLab, o: StartNodeOptions): VrrpNode {
  const dir = join(lab.tmpDir, `node-${o.host}-${o.impl}-${++nodeSeq}`);
  for (const d of ['run', 'run/lock', 'tmp', 'var/log', 'var/lib', 'var/tmp', 'etc-keepalived'])
    mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeLabUsers(dir, o.users);
  symlinkSync('/run', join(dir, 'var/run'));
  symlinkSync('/run/lock', join(dir, 'var/lock'));
  const realPath = (p: string): string => {
    for (const [inside, outside] of [
      ['/etc/keepalived', 'etc-keepalived'],
      ['/run', 'run'],
      ['/var', 'var'],
      ['/tmp', 'tmp'],
    ] as const) {
      if (p === inside || p.startsWith(`${inside}/`)) return join(dir, outside, p.slice(inside.length));
    }
    throw new Error(`${p} is not inside the node's private directories`);
  };
  for (const [p, f] of Object.entries(o.files ?? {})) {
    const real = realPath(p);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, f.content, { mode: f.mode ?? 0o644 });
  }
  let argv: string[];
  let pidFiles: string[];
  if (o.impl === 'keepalived') {
    writeFileSync(join(dir, 'run/keepalived.conf'), o.conf);
    argv = [
      'keepalived',
      '-n',
      '-l',
      '-D',
      '-G',
      '-f',
      '/run/keepalived.conf',
      '-p',
      '/run/keepalived.pid',
      '-r',
      '/run/vrrp.pid',
      ...(o.args ?? []),
    ];
    pidFiles = [join(dir, 'run/keepalived.pid'), join(dir, 'run/vrrp.pid')];
  } else {
    writeFileSync(join(dir, 'run/vrrpd.conf'), o.conf);
    const bin = o.vrrpdBin ?? join(REPO_ROOT, 'bin/vrrpd');
    // The launcher's own environment and Node options (its `#!` line) for the repository's daemon;
    // a build given as vrrpdBin gets only nodeArgs.
    const line = o.vrrpdBin === undefined ? readLauncherLine(bin) : { env: [], nodeArgs: [] };
    argv = [
      ...(line.env.length > 0 ? ['/usr/bin/env', ...line.env] : []),
      process.execPath,
      ...line.nodeArgs,
      ...(o.nodeArgs ?? []),
      bin,
      'run',
      '-f',
      '/run/vrrpd.conf',
      '--log-console',
      '--pid-file',
      '/run/vrrpd.pid',
      '--state-dir',
      '/run/vrrpd',
      '--control-socket',
      '/run/vrrpd.sock',
      ...(o.args ?? []),
    ];
    pidFiles = [join(dir, 'run/vrrpd.pid')];
  }
  const keep = realpathSync(REPO_ROOT).replace(/\/$/, '');
  const proc = lab.spawn(o.host, [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    MOUNT_SCRIPT,
    'vrrp-node',
    dir,
    keep,
    ...argv,
  ]);
  return {
    impl: o.impl,
    host: o.host,
    dir,
    proc,
    pidFiles,
    realPath,
    get log() {
      return proc.output;
    },
    sigterm() {
      const t = wallNowMs();
      if (proc.pid !== undefined && proc.running) process.kill(proc.pid, 'SIGTERM');
      return t;
    },
    async stop(timeoutMs = 5000) {
      const t0 = wallNowMs();
      if (!proc.running) return { exitCode: proc.exitCode, exitSignal: proc.exitSignal, ms: 0, killed: false };
      if (proc.pid !== undefined) process.kill(proc.pid, 'SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        void proc.kill('SIGKILL', 1000);
      }, timeoutMs);
      await proc.exited;
      clearTimeout(timer);
      // keepalived's VRRP child may outlive the parent by a moment; reap the whole group.
      await proc.kill('SIGKILL', 500);
      return { exitCode: proc.exitCode, exitSignal: proc.exitSignal, ms: wallNowMs() - t0, killed };
    },
  };
}

/** The log line each implementation prints on a state change (keepalived's wording; vrrpd keeps it). */
export const STATE_RE = {
  master: /\(VI_1\) Entering MASTER STATE/,
  backup: /\(VI_1\) Entering BACKUP STATE/,
  backupInit: /\(VI_1\) Entering BACKUP STATE \(init\)/,
  fault: /\(VI_1\) Entering FAULT STATE|\(VI_1\)[: ].*entering FAULT state/i,
} as const;

/** Count of matches of `re` (made global) in `s`. */
export function countMatches(s: string, re: RegExp): number {
  return (s.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`)) ?? []).length;
}

/** Wait until `re` has matched more than `already` times in the node's log. */
export async function waitForNth(node: VrrpNode, re: RegExp, already: number, timeoutMs: number): Promise<number> {
  const deadline = wallNowMs() + timeoutMs;
  for (;;) {
    if (countMatches(node.log, re) > already) return wallNowMs();
    if (!node.proc.running) throw new Error(`${node.impl} on ${node.host} exited before ${re}; log:\n${node.log}`);
    if (wallNowMs() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${re} (#${already + 1}) from ${node.impl} on ${node.host}; log:\n${node.log}`,
      );
    await sleep(5);
  }
}

/**
 * keepalived log lines that mean it rejected or mistrusted a peer's advert (docs/keepalived-behaviour.md 3.3):
 * length, TTL, version, auth, interval, type, address count/list, checksum, src/dst kind, unicast peer.
 */
export const KEEPALIVED_PACKET_ERROR_RE =
  /vrrp packet too (long|short)|invalid TTL|wrong version|Invalid auth type|auth, expecting|invalid passwd|interval mismatch|Invalid packet type|unexpected ip number count|ip_tot_len mismatch|Invalid VRRPv[23] checksum|Expected (multicast|unicast) packet|not present in MASTER advert|not a unicast peer|TTL\/HL \d+ not in range|AH header|equal priority advert received from remote host with our IP|both configured as address owner/i;

/** The lines of `log` matching KEEPALIVED_PACKET_ERROR_RE. */
export function packetErrors(log: string): string[] {
  return log.split('\n').filter((l) => KEEPALIVED_PACKET_ERROR_RE.test(l));
}

// ---------------------------------------------------------------------------------------------
// Observers

export interface AddrEvent {
  /** Wall-clock ms when `ip monitor` received the netlink message. */
  readonly ms: number;
  readonly op: 'add' | 'del';
  readonly dev: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly label: string;
}

/** `[2026-11-24T03:17:43.247090]` (UTC, we set TZ) -> ms. */
function isoMicrosToMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)$/.exec(s);
  if (!m) return Number.NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000;
}

export function parseAddrMonitor(text: string): AddrEvent[] {
  const out: AddrEvent[] = [];
  const re = /^\[([^\]]+)\] (Deleted )?\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\/(\d+)(.*)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const rest = m[6]!.trim().split(/\s+/);
    out.push({
      ms: isoMicrosToMs(m[1]!),
      op: m[2] ? 'del' : 'add',
      dev: m[3]!,
      ip: m[4]!,
      prefixLen: Number(m[5]),
      label: rest[rest.length - 1] ?? m[3]!,
    });
  }
  return out;
}

export interface AddrMonitor {
  readonly proc: NsProcess;
  events(): AddrEvent[];
  /** Events for `ip` only. */
  eventsFor(ip: string): AddrEvent[];
}

/**
 * `ip -ts monitor address` in a host; resolves once it is provably listening (it saw a probe
 * address come and go on `lo`).
 */
export async function startAddrMonitor(lab: NsLab, host: string): Promise<AddrMonitor> {
  const proc = lab.spawn(host, ['ip', '-ts', 'monitor', 'address'], { env: { ...process.env, TZ: 'UTC' } });
  const probe = '127.254.254.254/32';
  for (let i = 0; i < 50; i++) {
    await lab.exec(host, ['ip', 'addr', 'replace', probe, 'dev', 'lo']);
    await sleep(20);
    if (proc.output.includes('127.254.254.254')) break;
    await lab.exec(host, ['ip', 'addr', 'del', probe, 'dev', 'lo'], { allowFail: true });
  }
  await lab.exec(host, ['ip', 'addr', 'del', probe, 'dev', 'lo'], { allowFail: true });
  if (!proc.output.includes('127.254.254.254')) throw new Error(`ip monitor in ${host} never reported the probe address:\n${proc.output}`);
  const events = (): AddrEvent[] => parseAddrMonitor(proc.stdout).filter((e) => e.dev !== 'lo');
  return { proc, events, eventsFor: (ip) => events().filter((e) => e.ip === ip) };
}

export interface LinkEvent {
  readonly ms: number;
  readonly ifname: string;
  /** IFF_UP in the message's flags. */
  readonly up: boolean;
  readonly flags: readonly string[];
}

export function parseLinkMonitor(text: string): LinkEvent[] {
  const out: LinkEvent[] = [];
  const re = /^\[([^\]]+)\] (?:Deleted )?\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const flags = m[3]!.split(',');
    out.push({ ms: isoMicrosToMs(m[1]!), ifname: m[2]!, up: flags.includes('UP'), flags });
  }
  return out;
}

export interface LinkMonitor {
  readonly proc: NsProcess;
  events(): LinkEvent[];
}

/**
 * `ip -ts monitor link` in a host or namespace; resolves once provably listening (it reported
 * `probeIf`'s ALLMULTI flag going on and off; pass an interface whose allmulticast flag is
 * irrelevant, e.g. the client's bridge port).
 */
export async function startLinkMonitor(lab: NsLab, host: string, probeIf: string): Promise<LinkMonitor> {
  const proc = lab.spawn(host, ['ip', '-ts', 'monitor', 'link'], { env: { ...process.env, TZ: 'UTC' } });
  const seen = (): boolean => parseLinkMonitor(proc.stdout).some((e) => e.ifname === probeIf && e.flags.includes('ALLMULTI'));
  for (let i = 0; i < 50 && !seen(); i++) {
    await lab.exec(host, ['ip', 'link', 'set', probeIf, 'allmulticast', 'on']);
    await sleep(20);
    await lab.exec(host, ['ip', 'link', 'set', probeIf, 'allmulticast', 'off']);
  }
  if (!seen()) throw new Error(`ip monitor link in ${host} never reported ${probeIf}:\n${proc.output}`);
  return { proc, events: () => parseLinkMonitor(proc.stdout) };
}

export interface Interval {
  readonly from: number;
  readonly to: number;
}

/**
 * When `ip` was configured, from add/del events; an interval still open is closed at `untilMs`.
 * `initiallyPresent` opens an interval at -Infinity.
 */
export function ownership(events: readonly AddrEvent[], ip: string, untilMs: number, initiallyPresent = false): Interval[] {
  const out: Interval[] = [];
  let since: number | undefined = initiallyPresent ? Number.NEGATIVE_INFINITY : undefined;
  for (const e of events) {
    if (e.ip !== ip) continue;
    if (e.op === 'add' && since === undefined) since = e.ms;
    else if (e.op === 'del' && since !== undefined) {
      out.push({ from: since, to: e.ms });
      since = undefined;
    }
  }
  if (since !== undefined) out.push({ from: since, to: untilMs });
  return out;
}

/** The longest time both sets of intervals overlap (0 if never). */
export function maxOverlapMs(a: readonly Interval[], b: readonly Interval[]): number {
  let max = 0;
  for (const x of a) for (const y of b) max = Math.max(max, Math.min(x.to, y.to) - Math.max(x.from, y.from));
  return max;
}

export interface WireAdvert {
  readonly ms: number;
  readonly srcMac: string;
  readonly src: string;
  readonly dst: string;
  readonly vrid: number;
  readonly prio: number;
  readonly auth: string;
  readonly intvl: number;
}

export interface WireGarp {
  readonly ms: number;
  readonly srcMac: string;
  readonly ip: string;
}

export interface WireView {
  adverts: WireAdvert[];
  garps: WireGarp[];
}

/** Parse `tcpdump -l -tt -nn -e` text: VRRPv2 adverts and gratuitous ARP requests. */
export function parseTcpdumpText(text: string): WireView {
  const adverts: WireAdvert[] = [];
  const garps: WireGarp[] = [];
  const advRe =
    /^(\d+\.\d+) (\S+) > \S+, ethertype IPv4 \(0x0800\), length \d+: (\S+) > (\S+): VRRPv2, Advertisement, vrid (\d+), prio (\d+), authtype (\S+), intvl (\d+)s/;
  const garpRe =
    /^(\d+\.\d+) (\S+) > ff:ff:ff:ff:ff:ff, ethertype ARP \(0x0806\), .*Request who-has (\S+) (?:\(ff:ff:ff:ff:ff:ff\) )?tell (\S+),/;
  for (const line of text.split('\n')) {
    let m = advRe.exec(line);
    if (m) {
      adverts.push({
        ms: Number(m[1]) * 1000,
        srcMac: m[2]!,
        src: m[3]!,
        dst: m[4]!,
        vrid: Number(m[5]),
        prio: Number(m[6]),
        auth: m[7]!,
        intvl: Number(m[8]),
      });
      continue;
    }
    m = garpRe.exec(line);
    if (m && m[3] === m[4]) garps.push({ ms: Number(m[1]) * 1000, srcMac: m[2]!, ip: m[3]! });
  }
  return { adverts, garps };
}

export interface WireWatch {
  readonly proc: NsProcess;
  view(): WireView;
  stop(): Promise<void>;
}

/** A buffered capture (startWireWatch) has every packet at most this long after it arrived. */
export const BUFFERED_CAPTURE_DELAY_MS = 1500;

/**
 * A live `tcpdump -l -tt -nn -e` for VRRP and ARP (pass `host` = a lab host or the switch
 * namespace, `ifname` e.g. `eth0`, `br0` or a bridge port `p-a`). Resolves once listening.
 * `buffered`: without --immediate-mode, so the kernel hands tcpdump its packets in blocks (at the
 * latest 1 s after they arrived; `stop()` waits BUFFERED_CAPTURE_DELAY_MS first, so the capture
 * has every packet up to the call; `view()` may lag by that much), timestamps unchanged. For timing
 * measurements of a sender on this machine: a tcpdump woken for every packet (most likely by the
 * sender's own sendto(2)) showed as stops of 0.3-10 ms in the sender (BENCHMARKS.md, "The send
 * side's floor").
 */
export async function startWireWatch(
  lab: NsLab,
  host: string,
  ifname: string,
  filter = 'proto 112 or arp',
  o: { buffered?: boolean } = {},
): Promise<WireWatch> {
  const mode = o.buffered ? [] : ['--immediate-mode'];
  const proc = lab.spawn(host, ['tcpdump', '-l', '-tt', '-nn', '-e', ...mode, '-i', ifname, ...filter.split(/\s+/)]);
  await proc.waitFor(/listening on/, 5000);
  const stop = async (): Promise<void> => {
    if (o.buffered) await sleep(BUFFERED_CAPTURE_DELAY_MS);
    await proc.kill('SIGINT', 2000);
  };
  return { proc, view: () => parseTcpdumpText(proc.stdout), stop };
}

export interface Pinger {
  readonly proc: NsProcess;
  /** Reply receive times (wall ms), in order. */
  replies(): number[];
  stop(): Promise<void>;
}

/** `ping -D -n -i INTERVAL TARGET` in a host (default 10 ms between echoes). */
export function startPinger(lab: NsLab, host: string, target: string, intervalS = 0.01): Pinger {
  const proc = lab.spawn(host, ['ping', '-D', '-n', '-i', String(intervalS), target]);
  return {
    proc,
    replies: () => parsePingReplies(proc.stdout, target),
    stop: () => proc.kill('SIGINT', 2000),
  };
}

export function parsePingReplies(text: string, from?: string): number[] {
  const out: number[] = [];
  const re = /^\[(\d+\.\d+)\] \d+ bytes from (\d+\.\d+\.\d+\.\d+): icmp_seq=\d+/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m && (from === undefined || m[2] === from)) out.push(Number(m[1]) * 1000);
  }
  return out;
}

/**
 * The longest interval without a reply that overlaps [fromMs, toMs]: measured from the last reply
 * at or before `fromMs` (or `fromMs`) to the next reply (or `toMs`).
 */
export function longestGapMs(replies: readonly number[], fromMs: number, toMs: number): number {
  let prev = fromMs;
  for (const r of replies) if (r <= fromMs) prev = r;
  let max = 0;
  for (const r of replies) {
    if (r <= fromMs) continue;
    if (r > toMs) {
      max = Math.max(max, r - prev);
      return max;
    }
    max = Math.max(max, r - prev);
    prev = r;
  }
  return Math.max(max, toMs - prev);
}

/** The first element with `.ms >= t0` that satisfies `pred`. */
export function firstAfter<T extends { ms: number }>(list: readonly T[], t0: number, pred: (x: T) => boolean = () => true): T | undefined {
  return list.find((x) => x.ms >= t0 && pred(x));
}

/** Read a file written by a node (by its in-node path), or undefined. */
export function readNodeFile(node: VrrpNode, p: string): string | undefined {
  try {
    return readFileSync(node.realPath(p), 'utf8');
  } catch {
    return undefined;
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
