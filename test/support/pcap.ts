/**
 * A tiny pcap reader (classic libpcap format, as `tcpdump -w` writes it) and decoders for the
 * frames our tests care about: Ethernet, IPv4 (VRRP adverts) and ARP.
 */

export interface PcapRecord {
  /** Capture time in microseconds since the epoch (from the record header). */
  readonly tsUs: number;
  /** Bytes on the wire (may exceed data.length if the snaplen cut the frame). */
  readonly origLen: number;
  readonly data: Buffer;
}

export interface PcapFile {
  /** DLT / LINKTYPE: 1 = Ethernet, 113 = Linux cooked (SLL), 276 = SLL2. */
  readonly linkType: number;
  readonly records: PcapRecord[];
}

/** Parse a whole pcap file. A truncated last record (tcpdump killed mid-write) is ignored. */
export function parsePcap(buf: Buffer): PcapFile {
  if (buf.length < 24) return { linkType: 1, records: [] };
  const magicLE = buf.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  switch (magicLE) {
    case 0xa1b2c3d4:
      le = true;
      nanos = false;
      break;
    case 0xa1b23c4d:
      le = true;
      nanos = true;
      break;
    case 0xd4c3b2a1:
      le = false;
      nanos = false;
      break;
    case 0x4d3cb2a1:
      le = false;
      nanos = true;
      break;
    default:
      throw new Error(`not a pcap file (magic 0x${magicLE.toString(16)})`);
  }
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const orig = u32(off + 12);
    if (off + 16 + incl > buf.length) break;
    records.push({
      tsUs: sec * 1_000_000 + (nanos ? Math.floor(frac / 1000) : frac),
      origLen: orig,
      data: buf.subarray(off + 16, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return { linkType, records };
}

export interface EthFrame {
  readonly dst: string;
  readonly src: string;
  readonly etherType: number;
  readonly payload: Buffer;
}

export const macToString = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
export const ipToString = (b: Uint8Array): string => Array.from(b).join('.');

export function parseEthernet(data: Buffer): EthFrame | undefined {
  if (data.length < 14) return undefined;
  return {
    dst: macToString(data.subarray(0, 6)),
    src: macToString(data.subarray(6, 12)),
    etherType: data.readUInt16BE(12),
    payload: data.subarray(14),
  };
}

export interface Ipv4Header {
  readonly version: number;
  readonly ihl: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  readonly fragOff: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly src: string;
  readonly dst: string;
  readonly payload: Buffer;
}

export function parseIpv4(p: Buffer): Ipv4Header | undefined {
  if (p.length < 20 || p[0]! >> 4 !== 4) return undefined;
  const ihl = (p[0]! & 0x0f) * 4;
  const totalLength = p.readUInt16BE(2);
  return {
    version: 4,
    ihl,
    tos: p[1]!,
    totalLength,
    id: p.readUInt16BE(4),
    fragOff: p.readUInt16BE(6),
    ttl: p[8]!,
    protocol: p[9]!,
    checksum: p.readUInt16BE(10),
    src: ipToString(p.subarray(12, 16)),
    dst: ipToString(p.subarray(16, 20)),
    payload: p.subarray(ihl, Math.min(totalLength, p.length)),
  };
}

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

export function parseArp(p: Buffer): ArpPacket | undefined {
  if (p.length < 28 || p.readUInt16BE(0) !== 1 || p.readUInt16BE(2) !== 0x0800) return undefined;
  return {
    op: p.readUInt16BE(6),
    senderMac: macToString(p.subarray(8, 14)),
    senderIp: ipToString(p.subarray(14, 18)),
    targetMac: macToString(p.subarray(18, 24)),
    targetIp: ipToString(p.subarray(24, 28)),
  };
}

/** Decoded view of one captured Ethernet frame (only Ethernet captures are supported). */
export interface Decoded {
  readonly tsUs: number;
  readonly eth: EthFrame;
  readonly ip?: Ipv4Header | undefined;
  readonly arp?: ArpPacket | undefined;
}

export function decodeAll(file: PcapFile): Decoded[] {
  if (file.linkType !== 1) throw new Error(`unsupported pcap link type ${file.linkType}`);
  const out: Decoded[] = [];
  for (const r of file.records) {
    const eth = parseEthernet(r.data);
    if (!eth) continue;
    out.push({
      tsUs: r.tsUs,
      eth,
      ip: eth.etherType === 0x0800 ? parseIpv4(eth.payload) : undefined,
      arp: eth.etherType === 0x0806 ? parseArp(eth.payload) : undefined,
    });
  }
  return out;
}
