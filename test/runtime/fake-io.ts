/**
 * In-memory ports for daemon tests: a FakeClock (monotonic, and a wall clock moving with it),
 * recorded sends, a fake rtnetlink (links, addresses, events with origin), recorded GARP frames, a
 * scripted process runner and in-memory files. No root, no sockets. {@link testNotifier} gives the
 * daemon its notifier on the fake runner.
 */
import type { Log } from '../../src/log.js';
import { Notifications } from '../../src/notify/notifications.js';
import { FakeClock } from '../support/fake-clock.js';
import type {
  AddrInfo,
  AddrSpec,
  DaemonIo,
  IoResult,
  LinkInfo,
  NetlinkEvent,
  ProcEntry,
  ProcessRunner,
  ReceivedPacket,
  ReceivedPacket6,
  SocketStats,
  RouteSpec,
  Vrrp6ChannelSpec,
  Vrrp6Send,
  RuleSpec,
  RunResult,
  RunSpec,
} from '../../src/runtime/ports/index.js';

export interface SentPacket {
  readonly atMs: number;
  readonly ifname: string;
  readonly packet: Buffer;
}

export type NetOp = { atMs: number; op: 'add' | 'del'; what: 'addr' | 'route' | 'rule'; detail: string };

export interface FakeIoOptions {
  readonly ifname?: string;
  readonly ip?: string;
  /** The clock to run on (several FakeIo on one fake LAN share one); default a new one at 1,000,000 ms. */
  readonly clock?: FakeClock;
}

export class FakeIo implements DaemonIo {
  readonly fake: FakeClock;
  readonly sent: SentPacket[] = [];
  readonly garps: { atMs: number; ifindex: number; ip: string }[] = [];
  readonly netOps: NetOp[] = [];
  readonly opened: { ifname: string; groups: string[] }[] = [];
  readonly runs: { atMs: number; argv: readonly string[] }[] = [];
  /** Exit code per argv[0] for the fake runner (default 0). */
  readonly exitCodes = new Map<string, number>();
  readonly fileData = new Map<string, string>();
  readonly fileWatchers = new Map<string, () => void>();
  links: LinkInfo[] = [];
  addrs: AddrInfo[] = [];
  /** IPv6: channels opened, messages sent, every frame sent (GARP or NA) as bytes. */
  readonly opened6: Vrrp6ChannelSpec[] = [];
  readonly sent6: { atMs: number; key: string; message: Buffer; to: Vrrp6Send }[] = [];
  readonly frameBytes: { atMs: number; ifindex: number; frame: Buffer }[] = [];
  /** net.ipv6.conf.IF.forwarding per interface (default off). */
  readonly forwarding = new Map<string, boolean>();
  #onPacket: (p: ReceivedPacket) => void = () => {};
  #onPacket6: (p: ReceivedPacket6) => void = () => {};
  #onEvent: (e: NetlinkEvent) => void = () => {};
  /** Order of everything observable (adverts, address ops, GARPs), for ordering assertions. */
  readonly trace: string[] = [];

  /** Wall clock minus the fake monotonic clock: the wall clock moves with the fake one. */
  readonly wallOffsetMs: number;

  readonly clock = {
    nowMs: () => this.fake.now(),
    wallMs: () => this.fake.now() + this.wallOffsetMs,
    setTimer: (delayMs: number, cb: () => void) => {
      const id = this.fake.setTimeout(cb, Math.max(0, delayMs));
      return { cancel: () => this.fake.cancel(id) };
    },
  };

  readonly sockets = {
    setHandler: (h: (p: ReceivedPacket) => void) => {
      this.#onPacket = h;
    },
    open: (ifname: string, groups: readonly string[]): IoResult<{ ifindex: number }> => {
      const l = this.links.find((x) => x.ifname === ifname);
      if (!l)
        return {
          ok: false,
          error: { kind: 'IoError', syscall: 'if_nametoindex', errno: 19, code: 'ENODEV', message: 'No such device', ifname },
        };
      this.opened.push({ ifname, groups: [...groups] });
      return { ok: true, value: { ifindex: l.ifindex } };
    },
    send: async (ifname: string, pkt: Uint8Array): Promise<IoResult<number>> => {
      const packet = Buffer.from(pkt);
      this.sent.push({ atMs: this.fake.now(), ifname, packet });
      this.trace.push(`advert prio ${packet[22]} to ${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}`);
      return { ok: true, value: pkt.length };
    },
    close: () => {},
    closeAll: () => {},
    /** The interfaces opened, with the kernel drops a test set in `kernelDrops` (0 by default). */
    stats: (): SocketStats[] =>
      [...new Set(this.opened.map((o) => o.ifname))].map((ifname) => ({
        family: 4,
        ifname,
        channel: null,
        rxPackets: 0,
        kernelDrops: this.kernelDrops.get(ifname) ?? 0,
      })),
  };

  /** What `sockets.stats()` says the kernel dropped on each interface's socket. */
  readonly kernelDrops = new Map<string, number | null>();

  readonly sockets6 = {
    setHandler: (h: (p: ReceivedPacket6) => void) => {
      this.#onPacket6 = h;
    },
    open: (spec: Vrrp6ChannelSpec): IoResult<{ key: string; ifindex: number }> => {
      const l = this.links.find((x) => x.ifname === spec.ifname);
      if (!l) return { ok: false, error: { kind: 'IoError', syscall: 'bind', errno: 19, code: 'ENODEV', message: 'No such device' } };
      this.opened6.push(spec);
      return { ok: true, value: { key: `${spec.ifname}|${spec.unicastSrc ?? spec.group ?? 'ff02::12'}`, ifindex: l.ifindex } };
    },
    send: (key: string, message: Uint8Array, to: Vrrp6Send): IoResult<number> => {
      this.sent6.push({ atMs: this.fake.now(), key, message: Buffer.from(message), to });
      this.trace.push(`advert6 prio ${message[2]} to ${to.dst}`);
      return { ok: true, value: message.length };
    },
    close: () => {},
    closeAll: () => {},
  };

  readonly ipv6Forwarding = (ifname: string): IoResult<boolean> => ({ ok: true, value: this.forwarding.get(ifname) ?? false });

  readonly netlink = {
    start: async (h: (e: NetlinkEvent) => void): Promise<IoResult<true>> => {
      this.#onEvent = h;
      return { ok: true, value: true };
    },
    links: () => this.links,
    addresses: (ifindex?: number) => (ifindex === undefined ? this.addrs : this.addrs.filter((a) => a.ifindex === ifindex)),
    addAddress: async (s: AddrSpec): Promise<IoResult<{ exists: boolean }>> => {
      const v6 = s.address.includes(':') ? ` nodad=${String(s.nodad ?? true)} preferred_lft=${String(s.preferredLft ?? 'default')}` : '';
      this.netOps.push({
        atMs: this.fake.now(),
        op: 'add',
        what: 'addr',
        detail: `${s.address}/${s.prefixLen} ${s.label ?? ''}`.trim() + v6,
      });
      this.trace.push(`add ${s.address}`);
      const exists = this.addrs.some((a) => a.address === s.address && a.ifindex === s.ifindex);
      if (!exists)
        this.addrs.push({
          ...(s.address.includes(':') ? { family: 6 as const } : {}),
          ifindex: s.ifindex,
          address: s.address,
          prefixLen: s.prefixLen,
          peer: undefined,
          broadcast: undefined,
          scope: 0,
          label: s.label,
          secondary: true,
        });
      return { ok: true, value: { exists } };
    },
    delAddress: async (s: AddrSpec): Promise<IoResult<{ absent: boolean }>> => {
      this.netOps.push({ atMs: this.fake.now(), op: 'del', what: 'addr', detail: `${s.address}/${s.prefixLen}` });
      this.trace.push(`del ${s.address}`);
      const before = this.addrs.length;
      this.addrs = this.addrs.filter((a) => !(a.address === s.address && a.ifindex === s.ifindex));
      return { ok: true, value: { absent: before === this.addrs.length } };
    },
    addRoute: async (s: RouteSpec): Promise<IoResult<{ exists: boolean }>> => {
      this.netOps.push({ atMs: this.fake.now(), op: 'add', what: 'route', detail: `${s.dst}/${s.prefixLen}` });
      return { ok: true, value: { exists: false } };
    },
    delRoute: async (s: RouteSpec): Promise<IoResult<{ absent: boolean }>> => {
      this.netOps.push({ atMs: this.fake.now(), op: 'del', what: 'route', detail: `${s.dst}/${s.prefixLen}` });
      return { ok: true, value: { absent: false } };
    },
    addRule: async (s: RuleSpec): Promise<IoResult<{ exists: boolean }>> => {
      this.netOps.push({ atMs: this.fake.now(), op: 'add', what: 'rule', detail: `table ${s.table}` });
      return { ok: true, value: { exists: false } };
    },
    delRule: async (s: RuleSpec): Promise<IoResult<{ absent: boolean }>> => {
      this.netOps.push({ atMs: this.fake.now(), op: 'del', what: 'rule', detail: `table ${s.table}` });
      return { ok: true, value: { absent: false } };
    },
    stop: () => {},
  };

  readonly frames = {
    send: (ifindex: number, frame: Uint8Array): IoResult<number> => {
      this.frameBytes.push({ atMs: this.fake.now(), ifindex, frame: Buffer.from(frame) });
      const ip = `${frame[28]}.${frame[29]}.${frame[30]}.${frame[31]}`;
      this.garps.push({ atMs: this.fake.now(), ifindex, ip });
      this.trace.push(`garp ${ip}`);
      return { ok: true, value: frame.length };
    },
  };

  readonly processes: ProcessRunner = {
    run: async (spec: RunSpec): Promise<RunResult> => {
      this.runs.push({ atMs: this.fake.now(), argv: spec.argv });
      const code = this.exitCodes.get(spec.argv[0] ?? '') ?? 0;
      return { code, signal: null, timedOut: false, durationMs: 0 };
    },
    killAll: () => {},
    drain: async () => {},
  };

  /** The process table track_process scans (set `procs` to change it). */
  procs: ProcEntry[] = [];
  readonly procTable = {
    list: (): readonly ProcEntry[] => this.procs,
    entry: (pid: number): ProcEntry | undefined => this.procs.find((p) => p.pid === pid),
  };

  readonly files = {
    read: (p: string) => this.fileData.get(p),
    write: (p: string, c: string) => void this.fileData.set(p, c),
    watch: (p: string, cb: () => void) => {
      this.fileWatchers.set(p, cb);
      return { cancel: () => void this.fileWatchers.delete(p) };
    },
  };

  constructor(opts: FakeIoOptions = {}) {
    this.fake = opts.clock ?? new FakeClock(1_000_000);
    this.wallOffsetMs = Date.now() - this.fake.now();
    this.addLink(opts.ifname ?? 'eth0', 2, opts.ip ?? '10.0.0.1');
  }

  addLink(ifname: string, ifindex: number, ip?: string, emit = false): void {
    const link: LinkInfo = {
      ifindex,
      ifname,
      up: true,
      running: true,
      lowerUp: true,
      noarp: false,
      loopback: false,
      mac: `02:00:00:00:00:0${ifindex}`,
      mtu: 1500,
      master: undefined,
    };
    this.links = [...this.links.filter((l) => l.ifname !== ifname), link];
    if (emit) this.#onEvent({ kind: 'link', op: 'new', link, previous: undefined, synthetic: false });
    if (ip !== undefined) {
      const a: AddrInfo = {
        ifindex,
        address: ip,
        prefixLen: 24,
        peer: undefined,
        broadcast: undefined,
        scope: 0,
        label: ifname,
        secondary: false,
      };
      this.addrs.push(a);
      if (emit) this.#onEvent({ kind: 'addr', op: 'new', addr: a, ifname, origin: 'other', port: 999, synthetic: false });
    }
  }

  setLink(ifname: string, running: boolean): void {
    const old = this.links.find((l) => l.ifname === ifname)!;
    const link = { ...old, running, lowerUp: running };
    this.links = this.links.map((l) => (l.ifname === ifname ? link : l));
    this.#onEvent({ kind: 'link', op: 'new', link, previous: old, synthetic: false });
  }

  /** Someone else deletes a link (its addresses go with it, as in the kernel). */
  deleteLink(ifname: string): void {
    const link = this.links.find((l) => l.ifname === ifname);
    if (!link) throw new Error(`no link ${ifname}`);
    this.links = this.links.filter((l) => l !== link);
    this.addrs = this.addrs.filter((a) => a.ifindex !== link.ifindex);
    this.#onEvent({ kind: 'link', op: 'del', link, previous: link, synthetic: false });
  }

  /** Someone else deletes an address. */
  deleteAddress(address: string, origin: 'other' | 'kernel' = 'other'): void {
    const a = this.addrs.find((x) => x.address === address);
    if (!a) throw new Error(`no address ${address}`);
    this.addrs = this.addrs.filter((x) => x !== a);
    const ifname = this.links.find((l) => l.ifindex === a.ifindex)?.ifname;
    this.#onEvent({ kind: 'addr', op: 'del', addr: a, ifname, origin, port: origin === 'kernel' ? 0 : 4242, synthetic: false });
  }

  /** Give an interface an IPv6 address (link-local: scope link), optionally announced by netlink. */
  addAddress6(ifname: string, address: string, prefixLen = 64, emit = false): void {
    const l = this.links.find((x) => x.ifname === ifname)!;
    const a: AddrInfo = {
      family: 6,
      ifindex: l.ifindex,
      address,
      prefixLen,
      peer: undefined,
      broadcast: undefined,
      scope: address.startsWith('fe80:') ? 253 : 0,
      label: undefined,
      secondary: false,
    };
    this.addrs.push(a);
    if (emit) this.#onEvent({ kind: 'addr', op: 'new', addr: a, ifname, origin: 'other', port: 999, synthetic: false });
  }

  /** An IPv6 VRRP message arrives on `ifname`. */
  receive6(ifname: string, message: Buffer, src: string, dst: string, hopLimit = 255, rxMs = this.fake.now()): void {
    const l = this.links.find((x) => x.ifname === ifname)!;
    this.#onPacket6({ family: 6, packet: message, src, dst, hopLimit, truncated: false, ifindex: l.ifindex, ifname, rxMs });
  }

  /** A packet arrives; `rxMs` = when the socket read it (default now). */
  receive(ifname: string, packet: Buffer, rxMs = this.fake.now()): void {
    const l = this.links.find((x) => x.ifname === ifname)!;
    this.#onPacket({ packet, ifindex: l.ifindex, ifname, rxMs });
  }

  /** Adverts sent, decoded enough for assertions. */
  adverts(): { atMs: number; src: string; dst: string; priority: number; id: number; ttl: number }[] {
    return this.sent.map((s) => ({
      atMs: s.atMs,
      src: `${s.packet[12]}.${s.packet[13]}.${s.packet[14]}.${s.packet[15]}`,
      dst: `${s.packet[16]}.${s.packet[17]}.${s.packet[18]}.${s.packet[19]}`,
      priority: s.packet[22]!,
      id: s.packet.readUInt16BE(4),
      ttl: s.packet[8]!,
    }));
  }
}

/**
 * Advance the fake clock to exactly +ms, running the daemon's queued work at every timer deadline
 * on the way (so timers fire in order and their follow-up work runs before the next one).
 */
export async function advanceDaemon(d: { readonly queue: { idle(): Promise<void> } }, io: FakeIo, ms: number): Promise<void> {
  const target = io.fake.now() + ms;
  for (;;) {
    await d.queue.idle();
    const next = io.fake.nextDeadline();
    if (next === null || next > target) break;
    io.fake.advanceTo(next);
    await d.queue.idle();
  }
  io.fake.advanceTo(target);
  await d.queue.idle();
}

/**
 * The daemon's notifier for tests: the real one (hooks, FIFOs) on the fake's process runner, no
 * state files, scripts unchecked (they run as the daemon: fake runners have no files to check).
 */
export function testNotifier(io: Pick<DaemonIo, 'processes'>, log: Log): Notifications {
  return new Notifications({ runner: io.processes, log, stateFiles: null, checkScripts: false });
}

/** Daemon options with {@link testNotifier} added (on the options' own io and log). */
export function withTestNotifier<O extends { readonly io: Pick<DaemonIo, 'processes'>; readonly log: Log }>(
  o: O,
): O & { readonly notifier: Notifications } {
  return { ...o, notifier: testNotifier(o.io, o.log) };
}
