/**
 * Shared protocol value types (RFC 3768). Pure: no I/O.
 * Owned jointly by the codec (advert.ts) and the state machine (fsm.ts).
 */

/** RFC 3768 5.3.6 Auth Type. 0 none, 1 simple text password (PASS), 2 IP Authentication Header (AH). */
export type AuthType = 0 | 1 | 2;

/** A decoded (or to-be-encoded) VRRPv2 advertisement, plus the IP envelope facts the checks need. */
export interface Advert {
  /** RFC 3768 5.3.1: always 2 for what we send; decode reports what was received. */
  readonly version: number;
  /** RFC 3768 5.3.2: 1 = ADVERTISEMENT. */
  readonly type: number;
  /** 1..255 */
  readonly vrid: number;
  /** 0..255; 0 = master is leaving, 255 = address owner. */
  readonly priority: number;
  readonly authType: AuthType;
  /** RFC 3768 5.3.7: advertisement interval in whole seconds (the wire unit). */
  readonly adverIntSec: number;
  /** VIPs carried in the advert, dotted quads, wire order. */
  readonly vips: readonly string[];
  /** The 8 authentication bytes (password NUL-padded, or zeros). */
  readonly authData: Uint8Array;
}

/** A decoded VRRPv3 advertisement (RFC 5798 5.2), IPv4 or IPv6. */
export interface AdvertV3 {
  /** Always 3 (the decoder drops anything else). */
  readonly version: number;
  /** RFC 5798 5.2.2: 1 = ADVERTISEMENT. */
  readonly type: number;
  readonly family: 'ipv4' | 'ipv6';
  /** 1..255 */
  readonly vrid: number;
  /** 0..255; 0 = master is leaving, 255 = address owner. */
  readonly priority: number;
  /**
   * RFC 5798 5.2.7 Max Adver Int, centiseconds, 0..4095 as received (the reserved bits dropped).
   * 0 is not refused: keepalived 2.2.7 has no interval check under v3 (test/fixtures/v3/README.md).
   */
  readonly maxAdverIntCs: number;
  /** Addresses carried in the advert, text of `family` (RFC 5952 for IPv6), wire order. */
  readonly vips: readonly string[];
}

/** The IP envelope of a received advert: what the socket layer reports alongside the VRRP bytes. */
export interface RxEnvelope {
  /** Source address (dotted quad; RFC 5952 text for IPv6). */
  readonly srcIp: string;
  /** Destination address (dotted quad; RFC 5952 text for IPv6). */
  readonly dstIp: string;
  /** IPv4 TTL (IPv6 Hop Limit for v3 IPv6 adverts; -1 when the socket did not report it) as received. */
  readonly ttl: number;
}

/** RFC 3768 6.4 states, plus keepalived's FAULT (and INIT at start-up). */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';
