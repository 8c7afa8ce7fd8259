/**
 * The decoding side of an instance (docs/keepalived-behaviour.md 3.3): which decoder a received packet goes
 * through (VRRPv2, or VRRPv3 over IPv4) and what it is checked against, built from the instance's
 * spec and params once per change rather than per packet. It also keeps the one piece of receive
 * state keepalived has for v3 unicast: the checksum form. A unicast instance that receives an
 * advert verifying only with the pre-1.3.6 checksum (pseudo-header destination 224.0.0.18) switches
 * to that form for sending and receiving, and says so (test/fixtures/v3/README.md), unless
 * configured `old_unicast_checksum never`; `old_unicast_checksum` uses that form from the start. Pure.
 */
import { decodeAdvert, type AdvertExpectations } from '../protocol/advert-checks.js';
import { decodeAdvertV3Ipv4, decodeAdvertV3Ipv6, type AdvertV3Expectations } from '../protocol/advert-v3-checks.js';
import type { DropReason } from '../protocol/drop-reasons.js';
import type { InstanceParams } from '../protocol/instance-params.js';
import type { Advert, AdvertV3, RxEnvelope } from '../protocol/types.js';
import type { V3ChecksumMode } from '../protocol/v3-checksum.js';
import type { InstanceSpec } from './params.js';
import type { ReceivedPacket6 } from './ports/index.js';

/** A decoded advert, or why it was dropped (`detail` is keepalived's log text without the instance). */
export type Received =
  | { readonly ok: true; readonly advert: Advert | AdvertV3; readonly envelope: RxEnvelope }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

interface Cached {
  readonly spec: InstanceSpec;
  readonly params: InstanceParams;
  readonly mode: V3ChecksumMode;
  /** With and without keepalived's address checking. */
  readonly v2: { readonly check: AdvertExpectations; readonly skip: AdvertExpectations } | null;
  readonly v3: { readonly check: AdvertV3Expectations; readonly skip: AdvertV3Expectations } | null;
}

export class AdvertIn {
  /** A peer was seen using the old unicast checksum: this instance uses it from then on. */
  #switched = false;
  #cache: Cached | null = null;

  /** v3 IPv4: the checksum form the instance sends and expects now. */
  checksumMode(spec: InstanceSpec): V3ChecksumMode {
    return this.#switched || spec.oldUnicastChecksum === 'old' ? 'old-unicast' : 'pseudo-header';
  }

  /**
   * Decode `packet` (the whole IPv4 packet) for an instance with `spec` and `params`. `checkVips`:
   * keepalived's address checking applies. `onOldChecksum` is called once, when the instance
   * switches to the old unicast checksum.
   */
  decode(spec: InstanceSpec, params: InstanceParams, packet: Uint8Array, checkVips: boolean, onOldChecksum: () => void): Received {
    const c = this.#expectations(spec, params);
    if (c.v3 !== null) {
      const r = decodeAdvertV3Ipv4(packet, checkVips ? c.v3.check : c.v3.skip);
      if (r.oldUnicastChecksum === true && this.checksumMode(spec) !== 'old-unicast') {
        this.#switched = true;
        onOldChecksum();
      }
      return r.ok ? { ok: true, advert: r.advert, envelope: r.envelope } : { ok: false, reason: r.reason, detail: r.detail };
    }
    const r = decodeAdvert(packet, checkVips ? c.v2!.check : c.v2!.skip);
    return r.ok ? { ok: true, advert: r.advert, envelope: r.envelope } : { ok: false, reason: r.reason, detail: r.detail };
  }

  /** Decode an IPv6 VRRP message (always v3) for an IPv6 instance. */
  decode6(spec: InstanceSpec, params: InstanceParams, p: ReceivedPacket6, checkVips: boolean): Received {
    const c = this.#expectations(spec, params).v3!;
    // no destination from the kernel: the channel's own (its group, or our address)
    const dstIp = p.dst ?? (spec.unicast ? (spec.configuredSrcIp ?? '') : spec.mcastGroup);
    const rx = { payload: p.packet, srcIp: p.src, dstIp, ...(p.hopLimit !== undefined ? { hopLimit: p.hopLimit } : {}) };
    const r = decodeAdvertV3Ipv6(rx, checkVips ? c.check : c.skip);
    return r.ok ? { ok: true, advert: r.advert, envelope: r.envelope } : { ok: false, reason: r.reason, detail: r.detail };
  }

  #expectations(spec: InstanceSpec, params: InstanceParams): Cached {
    const c = this.#cache;
    const mode = this.checksumMode(spec);
    if (c !== null && c.spec === spec && c.params === params && c.mode === mode) return c;
    // Built once per (spec, params): with 255 instances at advert_int 1 this ran 255 times a
    // second for the same answer.
    const unicastPeers = spec.peers.map((x) => ({ ip: x.address, minTtl: x.minTtl, maxTtl: x.maxTtl }));
    let v2: Cached['v2'] = null;
    let v3: Cached['v3'] = null;
    if (params.version === 3 || spec.family === 6) {
      const base: AdvertV3Expectations = {
        family: spec.family === 6 ? 'ipv6' : 'ipv4',
        vips: params.vips,
        checkVips: true,
        unicast: spec.unicast,
        unicastPeers,
        checkUnicastSrc: spec.checkUnicastSrc,
        checksumMode: mode,
        detectOldUnicast: spec.oldUnicastChecksum !== 'never',
        mcastGroup4: spec.mcastGroup4,
      };
      v3 = { check: base, skip: { ...base, checkVips: false } };
    } else {
      const base: AdvertExpectations = {
        adverIntSec: Math.round(params.adverIntMs / 1000),
        authType: spec.authType,
        ...(spec.authPass !== undefined ? { authPass: spec.authPass } : {}),
        vips: params.vips,
        unicast: spec.unicast,
        unicastPeers,
        checkUnicastSrc: spec.checkUnicastSrc,
        checkVips: true,
      };
      v2 = { check: base, skip: { ...base, checkVips: false } };
    }
    const next: Cached = { spec, params, mode, v2, v3 };
    this.#cache = next;
    return next;
  }
}
