/**
 * Links vrrpd creates: the macvlan of `use_vmac` (docs/vmac.md), as keepalived 2.2.7's
 * netlink_link_add_vmac() asks for it: RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL, AF_UNSPEC) with
 * IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { IFLA_MACVLAN_MODE private } },
 * IFLA_LINK, IFLA_IFNAME, IFLA_ADDRESS; then IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE
 * none } } and IFF_UP in two more RTM_NEWLINKs; RTM_DELLINK to remove it. The `netlink` package
 * carries IFLA_LINKINFO and IFLA_LINK as raw bytes: the nested attributes are encoded here.
 * Implements LinkCommands (runtime/ports/net.ts) over NetlinkCommands' socket.
 */
import { fail, ok, toIoError, type IoResult } from './io-error.js';
import { AF_INET6, NLM_F_CREATE, NLM_F_EXCL, netlinkModule } from './netlink-codec.js';
import type { LinkCommands, LinkInfo, MacvlanSpec } from '../runtime/ports/net.js';

type RtSocket = ReturnType<ReturnType<typeof netlinkModule>['createRtNetlink']>;

// <linux/if_link.h>
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_PRIVATE = 1;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
const AF_UNSPEC = 0;

/** One netlink attribute: length and type (host order, little-endian here), payload, padded to 4. */
export function nlattr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** IFLA_LINKINFO's payload for a private-mode macvlan (the kind without its NUL, as keepalived). */
export function macvlanLinkInfo(): Buffer {
  return Buffer.concat([
    nlattr(IFLA_INFO_KIND, Buffer.from('macvlan')),
    nlattr(IFLA_INFO_DATA, nlattr(IFLA_MACVLAN_MODE, u32(MACVLAN_MODE_PRIVATE))),
  ]);
}

/** IFLA_INFO_KIND from an IFLA_LINKINFO payload (NUL stripped), or undefined. */
export function linkKind(info: Buffer | undefined): string | undefined {
  if (info === undefined) return undefined;
  for (let off = 0; off + 4 <= info.length;) {
    const len = info.readUInt16LE(off);
    if (len < 4 || off + len > info.length) return undefined;
    if (info.readUInt16LE(off + 2) === IFLA_INFO_KIND) return info.toString('latin1', off + 4, off + len).replace(/\0+$/, '');
    off += (len + 3) & ~3;
  }
  return undefined;
}

function macBytes(mac: string): Buffer | undefined {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export interface NetlinkLinksOptions {
  /** The command socket (NetlinkCommands.socket()). */
  readonly socket: () => IoResult<RtSocket>;
  /** The watcher's cache: `addMacvlan` resolves once the new link is in it. */
  readonly links: () => readonly LinkInfo[];
  readonly timeoutMs?: number;
}

/** LinkCommands on rtnetlink. */
export class NetlinkLinks implements LinkCommands {
  readonly #o: NetlinkLinksOptions;
  readonly #timeoutMs: number;

  constructor(o: NetlinkLinksOptions) {
    this.#o = o;
    this.#timeoutMs = o.timeoutMs ?? 2000;
  }

  async addMacvlan(spec: MacvlanSpec): Promise<IoResult<{ ifindex: number }>> {
    const mac = macBytes(spec.mac);
    if (!mac) return fail({ kind: 'IoError', syscall: 'RTM_NEWLINK', errno: 22, code: 'EINVAL', message: `bad MAC ${spec.mac}` });
    const s = this.#o.socket();
    if (!s.ok) return s;
    try {
      await s.value.newLink(
        { family: AF_UNSPEC },
        { linkinfo: macvlanLinkInfo(), link: u32(spec.parentIfindex), ifname: spec.name, address: mac },
        { timeout: this.#timeoutMs, flags: NLM_F_CREATE | NLM_F_EXCL },
      );
    } catch (err) {
      return fail(toIoError('RTM_NEWLINK', err));
    }
    return this.#waitFor((x) => x.ifname === spec.name, `${spec.name} created`);
  }

  /**
   * The watcher hears of a change on its own socket: wait (bounded) until its cache shows it, so
   * that what the daemon reads next (the VMAC there, then up) is what it asked for.
   */
  async #waitFor(want: (l: LinkInfo) => boolean, what: string): Promise<IoResult<{ ifindex: number }>> {
    const until = Date.now() + this.#timeoutMs;
    for (;;) {
      const l = this.#o.links().find(want);
      if (l) return ok({ ifindex: l.ifindex });
      if (Date.now() > until)
        return fail({
          kind: 'IoError',
          syscall: 'RTM_NEWLINK',
          errno: 110,
          code: 'ETIMEDOUT',
          message: `${what} but not reported by netlink`,
        });
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async linkUp(ifindex: number): Promise<IoResult<true>> {
    const s = this.#o.socket();
    if (!s.ok) return s;
    try {
      const gen = nlattr(IFLA_INET6_ADDR_GEN_MODE, Buffer.from([IN6_ADDR_GEN_MODE_NONE]));
      await s.value.newLink({ family: AF_UNSPEC, index: ifindex }, { afSpec: new Map([[AF_INET6, gen]]) }, { timeout: this.#timeoutMs });
      await s.value.newLink(
        { family: AF_UNSPEC, index: ifindex, flags: { up: true }, change: { up: true } },
        {},
        { timeout: this.#timeoutMs },
      );
    } catch (err) {
      return fail(toIoError('RTM_NEWLINK', err));
    }
    const seen = await this.#waitFor((x) => x.ifindex === ifindex && x.up, `link ${ifindex} set up`);
    return seen.ok ? ok(true) : seen;
  }

  async delLink(ifindex: number): Promise<IoResult<{ absent: boolean }>> {
    const s = this.#o.socket();
    if (!s.ok) return s;
    try {
      await s.value.delLink({ family: AF_UNSPEC, index: ifindex }, {}, { timeout: this.#timeoutMs });
    } catch (err) {
      const e = toIoError('RTM_DELLINK', err);
      return e.code === 'ENODEV' ? ok({ absent: true }) : fail(e);
    }
    // Gone from the watcher's cache too: a VMAC made again at once under the same name must not be
    // mistaken for the old one (addMacvlan finds the new link by name).
    const until = Date.now() + this.#timeoutMs;
    while (this.#o.links().some((x) => x.ifindex === ifindex) && Date.now() <= until) await new Promise((r) => setTimeout(r, 5));
    return ok({ absent: false });
  }
}
