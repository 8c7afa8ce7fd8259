/**
 * Gratuitous ARP frame builder (RFC 826 / RFC 5227 "ARP Announcement"), byte-identical to what
 * keepalived 2.2.7 sends on its PF_PACKET socket when it takes over a VIP (docs/keepalived-behaviour.md 3.7):
 * Ethernet broadcast, ARP *request*, sender = target = VIP, target hardware address
 * ff:ff:ff:ff:ff:ff (keepalived's choice; RFC 5227 would use zeros). Pure: no I/O.
 */
import { parseIpv4 } from './ipv4-address.js';
import { ARP_HTYPE_ETHERNET, ARP_OP_REQUEST, ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, GARP_FRAME_LEN } from './constants.js';

/** Parse "aa:bb:cc:dd:ee:ff" (case-insensitive, ':' or '-') to 6 bytes, else undefined. */
export function parseMac(mac: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(mac);
  if (m === null) return undefined;
  return Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}

/** Format 6 bytes at `offset` as lowercase "aa:bb:cc:dd:ee:ff". */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  return Array.from(bytes.subarray(offset, offset + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The 42-byte Ethernet frame announcing that `ip` is at `srcMac` (the interface MAC, or the VMAC).
 * Throws RangeError on a malformed MAC or IPv4 address (a bug: callers pass validated values).
 */
export function buildGratuitousArp(srcMac: string, ip: string): Buffer {
  const mac = parseMac(srcMac);
  if (mac === undefined) throw new RangeError(`not a MAC address: ${JSON.stringify(srcMac)}`);
  const addr = parseIpv4(ip);
  if (addr === undefined) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);

  const f = Buffer.alloc(GARP_FRAME_LEN);
  // Ethernet: broadcast destination, our source, ARP
  f.fill(0xff, 0, 6);
  f.set(mac, 6);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  // ARP (RFC 826): hardware Ethernet, protocol IPv4, lengths 6 and 4, op request
  const a = ETHERNET_HEADER_LEN;
  f.writeUInt16BE(ARP_HTYPE_ETHERNET, a);
  f.writeUInt16BE(ETHERTYPE_IPV4, a + 2);
  f[a + 4] = 6;
  f[a + 5] = 4;
  f.writeUInt16BE(ARP_OP_REQUEST, a + 6);
  f.set(mac, a + 8); // sender hardware address
  f.set(addr, a + 14); // sender protocol address = VIP
  f.fill(0xff, a + 18, a + 24); // target hardware address: broadcast, as keepalived
  f.set(addr, a + 24); // target protocol address = VIP
  return f;
}
