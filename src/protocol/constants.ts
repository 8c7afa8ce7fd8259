/**
 * RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3) numbers, plus the few IPv4 / IPv6 / Ethernet / ARP numbers the codecs need: the one
 * set of protocol constants (the state machine, the io adapters and the tests take them from here).
 * Pure: no I/O.
 */
import type { AuthType } from './types.js';

/** RFC 3768 5.2.4: "The IP protocol number assigned by the IANA for VRRP is 112 (decimal)." */
export const IPPROTO_VRRP = 112;
/** IP Authentication Header (RFC 2402); keepalived sends `auth_type AH` adverts with protocol 51. */
export const IPPROTO_AH = 51;

/** RFC 3768 5.2.2: "The multicast address as assigned by the IANA for VRRP is 224.0.0.18." */
export const VRRP_MULTICAST_GROUP = '224.0.0.18';
/** Ethernet multicast MAC for 224.0.0.18 (RFC 1112 6.4 mapping). */
export const VRRP_MULTICAST_MAC = '01:00:5e:00:00:12';
/** RFC 3768 5.2.3: "The TTL MUST be set to 255." (also keepalived's default `unicast_ttl`). */
export const VRRP_TTL = 255;
/** keepalived sets IP TOS to 0xc0 (precedence "internetwork control") on every advert. */
export const VRRP_IP_TOS = 0xc0;

/** RFC 3768 5.3.1: this protocol version. */
export const VRRP_VERSION = 2;
/** RFC 5798 5.2.1: VRRPv3 (IPv4 and IPv6). */
export const VRRP_VERSION_3 = 3;
/** RFC 3768 5.3.2 / RFC 5798 5.2.2: the only packet type. */
export const VRRP_TYPE_ADVERTISEMENT = 1;

/** RFC 3768 5.3.6 Auth Type values. */
export const AUTH_NONE: AuthType = 0;
export const AUTH_PASS: AuthType = 1;
export const AUTH_AH: AuthType = 2;

/** IPv4 header without options (IHL 5). keepalived never sends options. */
export const IPV4_HEADER_LEN = 20;
/** Fixed VRRP header: version/type, VRID, priority, count, auth type, adver int, checksum. */
export const VRRP_HEADER_LEN = 8;
/** RFC 3768 5.3.10: Authentication Data, 8 octets, present in every VRRPv2 advert. */
export const VRRP_AUTH_DATA_LEN = 8;
/** One IPv4 VIP in the advert. */
export const VRRP_VIP_LEN = 4;
/** Count IP Addrs is one octet. */
export const VRRP_MAX_VIPS = 255;
/** keepalived's IPsec AH header (next header, length, reserved, SPI, sequence, 96-bit ICV). */
export const AH_HEADER_LEN = 24;

/** RFC 3768 5.3.3 / 5.3.4 ranges. */
export const VRID_MIN = 1;
export const VRID_MAX = 255;
export const PRIORITY_MAX = 255;
/** Priority 0: "the current Master has stopped participating in VRRP" (RFC 3768 5.3.4). */
export const PRIORITY_STOP = 0;
/** Priority 255: the address owner (RFC 3768 5.3.4). */
export const PRIORITY_OWNER = 255;
/** Adver Int is one octet of whole seconds; 0 is meaningless. */
export const ADVER_INT_MIN_SEC = 1;
export const ADVER_INT_MAX_SEC = 255;

/** RFC 5798 5.1.2.2: "The IPv6 multicast address as assigned by the IANA for VRRP is FF02:0:0:0:0:0:0:12." */
export const VRRP_MULTICAST_GROUP6 = 'ff02::12';
/** RFC 5798 5.1.2.3: "The Hop Limit MUST be set to 255." */
export const VRRP_HOP_LIMIT = 255;
/** Fixed IPv6 header; a raw IPv6 socket delivers the payload without it. */
export const IPV6_HEADER_LEN = 40;
/** One IPv6 address in a v3 advert. */
export const VRRP_VIP6_LEN = 16;
/** RFC 5798 5.2.7: Max Adver Int is the low 12 bits of bytes 4-5 (the top 4 are reserved, sent as zero). */
export const VRRP_V3_ADVER_INT_MASK = 0x0fff;
/**
 * `advert_int` range in centiseconds under v3: 0.01 s to 40.95 s. A received 0 is not refused by
 * keepalived (it has no interval check under v3), so the decoder does not refuse it either.
 */
export const ADVER_INT_MIN_CS = 1;
export const ADVER_INT_MAX_CS = 4095;

/** Ethernet / ARP numbers for the gratuitous ARP frame (RFC 826). */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERNET_HEADER_LEN = 14;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
/** 14-byte Ethernet header + 28-byte ARP payload; keepalived sends it unpadded. */
export const GARP_FRAME_LEN = 42;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
