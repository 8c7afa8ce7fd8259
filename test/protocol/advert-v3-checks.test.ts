// VRRPv3 receive checks (RFC 5798 7.1 as keepalived 2.2.7 applies them), IPv4 and IPv6: one test
// per check with a crafted packet, ordering tests (when two checks fail, keepalived's order decides),
// keepalived's old unicast checksum fallback, and what v3 does NOT check (interval, auth).
// The checksums here are computed by this file's own helper, not by src/.
import t, { type Test } from 'tap';
import { encodeAdvertV3, type AdvertV3Fields } from '../../src/protocol/advert-v3.js';
import {
  decodeAdvertV3Ipv4,
  decodeAdvertV3Ipv6,
  type AdvertV3Expectations,
  type DecodeV3Result,
} from '../../src/protocol/advert-v3-checks.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';

/** RFC 1071 over the given byte strings, concatenated (an independent implementation). */
function csum(...parts: Uint8Array[]): number {
  const b = Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] ?? 0) * 256 + (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
const v4bytes = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));
function v6bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}
/** Recompute a v3 message's checksum: IPv4 or IPv6 pseudo-header, or none (`as-v2`). */
function reseal(msg: Buffer, family: 'ipv4' | 'ipv6' | 'none', src: string, dst: string): void {
  msg.writeUInt16BE(0, 6);
  const len = Buffer.alloc(family === 'ipv6' ? 4 : 2);
  if (family === 'ipv6') len.writeUInt32BE(msg.length);
  else len.writeUInt16BE(msg.length);
  const ph =
    family === 'ipv6'
      ? [v6bytes(src), v6bytes(dst), len, Buffer.from([0, 0, 0, 112])]
      : family === 'ipv4'
        ? [v4bytes(src), v4bytes(dst), Buffer.from([0, 112]), len]
        : [];
  msg.writeUInt16BE(csum(...ph, msg), 6);
}

const SRC4 = '10.0.0.2';
const F4: AdvertV3Fields = {
  family: 'ipv4',
  vrid: 51,
  priority: 200,
  maxAdverIntCs: 100,
  vips: ['10.0.0.100', '10.0.0.101'],
  srcIp: SRC4,
  dstIp: '224.0.0.18',
};
const E4: AdvertV3Expectations = { family: 'ipv4', vips: ['10.0.0.100', '10.0.0.101'], checkVips: true, unicast: false };

interface P4 {
  fields?: Partial<AdvertV3Fields>;
  /** Mutate the message; the checksum is recomputed (RFC form) unless `seal` says otherwise. */
  vrrp?: (b: Buffer) => Buffer | void;
  seal?: 'ipv4' | 'none' | 'keep';
  src?: string;
  dst?: string;
  ttl?: number;
  ip?: (b: Buffer) => Buffer | void;
}
function pkt4(o: P4 = {}): Buffer {
  const f = { ...F4, ...o.fields };
  const src = o.src ?? f.srcIp;
  const dst = o.dst ?? f.dstIp;
  let msg = encodeAdvertV3({ ...f, srcIp: src, dstIp: dst });
  if (o.vrrp) {
    msg = o.vrrp(msg) ?? msg;
    if (o.seal !== 'keep') reseal(msg, o.seal ?? 'ipv4', src, dst);
  }
  const p = buildIpv4Packet({ srcIp: src, dstIp: dst, ttl: o.ttl ?? 255, id: 1, payload: msg });
  return (o.ip ? o.ip(p) : undefined) ?? p;
}

const LL6 = 'fe80::a:2';
const F6: AdvertV3Fields = {
  family: 'ipv6',
  vrid: 52,
  priority: 200,
  maxAdverIntCs: 10,
  vips: ['fd00::100', 'fd00::101'],
  srcIp: LL6,
  dstIp: 'ff02::12',
};
const E6: AdvertV3Expectations = { family: 'ipv6', vips: ['fd00:0::100', 'FD00::101'], checkVips: true, unicast: false };
function rx6(
  o: { vrrp?: (b: Buffer) => Buffer | void; keep?: boolean; dst?: string; hopLimit?: number; fields?: Partial<AdvertV3Fields> } = {},
) {
  const dst = o.dst ?? 'ff02::12';
  let msg = encodeAdvertV3({ ...F6, ...o.fields, dstIp: dst });
  if (o.vrrp) {
    msg = o.vrrp(msg) ?? msg;
    if (o.keep !== true) reseal(msg, 'ipv6', LL6, dst);
  }
  return { payload: msg, srcIp: LL6, dstIp: dst, hopLimit: o.hopLimit ?? 255 };
}

/** Assert a drop for `reason`, with keepalived's log text `detail` when given; `label` names the assertion. */
function dropped(t: Test, r: DecodeV3Result, reason: string, detail?: string, label?: string): void {
  if (r.ok) {
    t.fail(`accepted, expected drop ${reason}${label === undefined ? '' : ` (${label})`}`);
    return;
  }
  t.equal(r.reason, reason, label ?? reason);
  if (detail !== undefined) t.equal(r.detail, detail, label ?? detail);
}

t.test('IPv4: a valid advert decodes', async (t) => {
  const r = decodeAdvertV3Ipv4(pkt4(), E4);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.advert, {
    version: 3,
    type: 1,
    family: 'ipv4',
    vrid: 51,
    priority: 200,
    maxAdverIntCs: 100,
    vips: ['10.0.0.100', '10.0.0.101'],
  });
  t.same(r.envelope, { srcIp: SRC4, dstIp: '224.0.0.18', ttl: 255 });
  t.equal(r.oldUnicastChecksum, undefined);
});

t.test('IPv4: one drop reason per check, with keepalived wording', async (t) => {
  dropped(t, decodeAdvertV3Ipv4(pkt4({ ttl: 64 }), E4), 'ttl', 'invalid TTL/HL. Received 64 and expect 255');
  const v2Short = pkt4({ vrrp: (b) => void (b[0] = 0x21) });
  dropped(t, decodeAdvertV3Ipv4(v2Short, E4), 'too-short', 'vrrp packet too short, length 36 and expect 44');
  const v3Long = pkt4({ vrrp: (b) => Buffer.concat([b, Buffer.alloc(8)]) });
  dropped(t, decodeAdvertV3Ipv4(v3Long, E4), 'too-long', 'vrrp packet too long, length 44 and expect 36');
  // keepalived sizes the message by the received version: a v2 header claims 8 auth bytes
  const v2Full = pkt4({ vrrp: (b) => ((b[0] = 0x21), Buffer.concat([b, Buffer.alloc(8)])) });
  dropped(t, decodeAdvertV3Ipv4(v2Full, E4), 'version', 'wrong version. Received 2 and expect 3');
  dropped(t, decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void (b[0] = 0x32) }), E4), 'type', 'Invalid packet type. 2 and expect 1');
  const one = pkt4({ fields: { vips: ['10.0.0.100'] } });
  dropped(t, decodeAdvertV3Ipv4(one, E4), 'vip-count', 'received an unexpected ip number count 1, expected 2!');
  dropped(
    t,
    decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void (b[7] = (b[7] ?? 0) ^ 1), seal: 'keep' }), E4),
    'checksum',
    'Invalid VRRPv3 checksum',
  );
  const missing = pkt4({ fields: { vips: ['10.0.0.100', '10.0.0.102'] } });
  dropped(t, decodeAdvertV3Ipv4(missing, E4), 'vip-missing', 'ip address associated with VRID 51 not present in MASTER advert: 10.0.0.101');
  const short = pkt4({ ip: (b) => b.subarray(0, 24) });
  dropped(t, decodeAdvertV3Ipv4(short, E4), 'truncated');
  dropped(t, decodeAdvertV3Ipv4(pkt4({ ip: (b) => void b.writeUInt16BE(100, 2) }), E4), 'ip-length');
  const ah = pkt4({ ip: (b) => ((b[9] = 51), Buffer.concat([b.subarray(0, 20), Buffer.alloc(24), b.subarray(20)])) });
  dropped(t, decodeAdvertV3Ipv4(ah, E4), 'ah-mismatch', 'Received AH header but auth type not AH');
  dropped(t, decodeAdvertV3Ipv4(pkt4({ dst: '10.0.0.1' }), E4), 'expected-multicast');
  dropped(t, decodeAdvertV3Ipv4(Buffer.from([0x45]), E4), 'ip-header');
});

t.test('IPv4: the RFC checksum covers the pseudo-header, so another source or destination fails it', async (t) => {
  const p = pkt4();
  p.set([10, 0, 0, 9], 12); // source rewritten, IP header checksum not checked by the codec
  dropped(t, decodeAdvertV3Ipv4(p, E4), 'checksum');
  dropped(
    t,
    decodeAdvertV3Ipv4(pkt4({ vrrp: () => undefined, seal: 'none' }), E4),
    'checksum',
    undefined,
    'the v3_checksum_as_v2 form is refused by default',
  );
  t.ok(decodeAdvertV3Ipv4(pkt4({ vrrp: () => undefined, seal: 'none' }), { ...E4, checksumMode: 'as-v2' }).ok, 'accepted in as-v2 mode');
  t.ok(
    decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void (b[7] = (b[7] ?? 0) ^ 1), seal: 'keep' }), { ...E4, checksumMode: 'as-v2' }).ok,
    'keepalived 2.2.8 does not verify in as-v2 mode',
  );
});

t.test('v3 has no interval or auth check: any Max Adver Int passes, 0 and the reserved bits included', async (t) => {
  for (const cs of [0, 1, 3, 100, 4095]) {
    const r = decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void b.writeUInt16BE(cs, 4) }), E4);
    t.ok(r.ok && r.advert.maxAdverIntCs === cs, `${cs} cs`);
  }
  const reserved = decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void b.writeUInt16BE(0xf064, 4) }), E4);
  t.ok(reserved.ok && reserved.advert.maxAdverIntCs === 100, 'reserved bits ignored');
});

t.test('IPv4: keepalived order when two checks fail', async (t) => {
  dropped(
    t,
    decodeAdvertV3Ipv4(pkt4({ ttl: 64, vrrp: (b) => ((b[0] = 0x21), Buffer.concat([b, Buffer.alloc(8)])) }), E4),
    'ttl',
    undefined,
    'TTL before version',
  );
  dropped(
    t,
    decodeAdvertV3Ipv4(pkt4({ vrrp: (b) => void ((b[0] = 0x32), (b[3] = 1)) }), E4),
    'too-long',
    undefined,
    'length (from the count) before type',
  );
  dropped(
    t,
    decodeAdvertV3Ipv4(pkt4({ fields: { vips: ['10.0.0.100'] }, vrrp: (b) => void (b[0] = 0x32) }), E4),
    'type',
    undefined,
    'type before count',
  );
  const countAndSum = pkt4({ fields: { vips: ['10.0.0.100'] }, vrrp: (b) => void (b[7] = (b[7] ?? 0) ^ 1), seal: 'keep' });
  dropped(t, decodeAdvertV3Ipv4(countAndSum, E4), 'vip-count', undefined, 'count before checksum');
  dropped(t, decodeAdvertV3Ipv4(pkt4({ ttl: 64 }), { ...E4, unicast: true }), 'expected-unicast', undefined, 'no TTL rule for unicast');
});

const UC: AdvertV3Expectations = {
  ...E4,
  unicast: true,
  checkUnicastSrc: true,
  unicastPeers: [{ ip: SRC4, minTtl: 250, maxTtl: 255 }],
};

t.test('IPv4 unicast: peers, TTL range, and the old unicast checksum keepalived falls back to', async (t) => {
  const uc = (o: P4 = {}): Buffer => pkt4({ dst: '10.0.0.1', ...o });
  t.ok(decodeAdvertV3Ipv4(uc(), UC).ok);
  dropped(t, decodeAdvertV3Ipv4(uc({ src: '10.0.0.9' }), UC), 'not-a-peer', 'unicast source address 10.0.0.9 not a unicast peer');
  dropped(t, decodeAdvertV3Ipv4(uc({ ttl: 64 }), UC), 'ttl-range', 'TTL/HL 64 not in range 250 - 255');
  // the pre-1.3.6 form: pseudo-header destination 224.0.0.18 although the packet goes to the peer
  const old = uc({ vrrp: (b) => reseal(b, 'ipv4', SRC4, '224.0.0.18'), seal: 'keep' });
  const r = decodeAdvertV3Ipv4(old, UC);
  t.ok(r.ok && r.oldUnicastChecksum === true, 'accepted, and the caller is told to switch');
  dropped(t, decodeAdvertV3Ipv4(old, { ...UC, detectOldUnicast: false }), 'checksum', undefined, 'old_unicast_checksum never');
  dropped(t, decodeAdvertV3Ipv4(old, E4), 'checksum', undefined, 'multicast instances do not fall back');
  const oldNotPeer = uc({ src: '10.0.0.9', vrrp: (b) => reseal(b, 'ipv4', '10.0.0.9', '224.0.0.18'), seal: 'keep' });
  const d = decodeAdvertV3Ipv4(oldNotPeer, UC);
  t.ok(!d.ok && d.reason === 'not-a-peer' && d.oldUnicastChecksum === true, 'the switch happens even when a later check drops it');
  t.ok(decodeAdvertV3Ipv4(old, { ...UC, checksumMode: 'old-unicast' }).ok, 'after the switch');
  dropped(
    t,
    decodeAdvertV3Ipv4(uc(), { ...UC, checksumMode: 'old-unicast' }),
    'checksum',
    undefined,
    'after the switch the RFC form fails',
  );
});

t.test('IPv6: a valid advert decodes, addresses in RFC 5952 text', async (t) => {
  const r = decodeAdvertV3Ipv6(rx6(), E6);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.advert, { version: 3, type: 1, family: 'ipv6', vrid: 52, priority: 200, maxAdverIntCs: 10, vips: ['fd00::100', 'fd00::101'] });
  t.same(r.envelope, { srcIp: LL6, dstIp: 'ff02::12', ttl: 255 });
  const noHop = decodeAdvertV3Ipv6({ ...rx6(), hopLimit: undefined }, E6);
  t.ok(noHop.ok && noHop.envelope.ttl === -1, 'hop limit not reported: not checked (keepalived -1)');
});

t.test('IPv6: one drop reason per check', async (t) => {
  dropped(t, decodeAdvertV3Ipv6(rx6({ hopLimit: 64 }), E6), 'ttl', 'invalid TTL/HL. Received 64 and expect 255');
  dropped(t, decodeAdvertV3Ipv6(rx6({ vrrp: (b) => void (b[0] = 0x21) }), E6), 'version', 'wrong version. Received 2 and expect 3');
  dropped(
    t,
    decodeAdvertV3Ipv6(rx6({ vrrp: (b) => Buffer.concat([b, Buffer.alloc(16)]) }), E6),
    'too-long',
    'vrrp packet too long, length 56 and expect 40',
  );
  dropped(t, decodeAdvertV3Ipv6(rx6({ vrrp: (b) => void (b[0] = 0x32) }), E6), 'type');
  dropped(t, decodeAdvertV3Ipv6(rx6({ fields: { vips: ['fd00::100'] } }), E6), 'vip-count');
  dropped(t, decodeAdvertV3Ipv6(rx6({ vrrp: (b) => void (b[7] = (b[7] ?? 0) ^ 1), keep: true }), E6), 'checksum');
  dropped(
    t,
    decodeAdvertV3Ipv6(rx6({ fields: { vips: ['fd00::100', 'fd00::102'] } }), E6),
    'vip-missing',
    'ip address associated with VRID 52 not present in MASTER advert: fd00::101',
  );
  dropped(t, decodeAdvertV3Ipv6({ ...rx6(), payload: Buffer.alloc(7) }, E6), 'truncated', 'IPv6 VRRP packet too short - 7 bytes');
  dropped(t, decodeAdvertV3Ipv6({ ...rx6(), srcIp: '10.0.0.1' }, E6), 'ip-header');
  dropped(t, decodeAdvertV3Ipv6(rx6({ dst: 'fe80::a:1' }), E6), 'expected-multicast', 'discarding unicast packet on multicast instance');
  dropped(t, decodeAdvertV3Ipv6(rx6(), { ...E6, unicast: true }), 'expected-unicast', 'discarding multicast packet on unicast instance');
});

t.test('IPv6: the destination kind is sorted before any other check (vrrp_dispatcher_read)', async (t) => {
  dropped(t, decodeAdvertV3Ipv6(rx6({ dst: 'fe80::a:1', hopLimit: 1 }), E6), 'expected-multicast', undefined, 'before the hop limit');
  dropped(t, decodeAdvertV3Ipv6(rx6({ hopLimit: 1, vrrp: (b) => void (b[0] = 0x21) }), E6), 'ttl', undefined, 'hop limit before version');
});

t.test('never throws on garbage', async (t) => {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
  for (let i = 0; i < 2000; i++) {
    const len = rnd() % 80;
    const b = Buffer.from(Array.from({ length: len }, rnd));
    if (i % 2 === 0 && len > 0) b[0] = 0x45;
    t.doesNotThrow(() => decodeAdvertV3Ipv4(b, E4));
    t.doesNotThrow(() => decodeAdvertV3Ipv6({ payload: b, srcIp: LL6, dstIp: 'ff02::12', hopLimit: 255 }, E6));
  }
});

t.test('encoder: as-v2 sums the message alone, old-unicast puts 224.0.0.18 in the pseudo-header', async (t) => {
  const uc = { ...F4, dstIp: '10.0.0.1' };
  const asV2 = encodeAdvertV3({ ...uc, checksumMode: 'as-v2' });
  const plain = encodeAdvertV3(uc);
  reseal(plain, 'none', uc.srcIp, uc.dstIp);
  t.equal(asV2.toString('hex'), plain.toString('hex'), 'as-v2');
  const old = encodeAdvertV3({ ...uc, checksumMode: 'old-unicast' });
  const viaGroup = encodeAdvertV3({ ...uc, dstIp: '224.0.0.18' });
  t.equal(old.toString('hex'), viaGroup.toString('hex'), 'old-unicast');
  const otherGroup = encodeAdvertV3({ ...uc, checksumMode: 'old-unicast', mcastGroup4: '224.0.0.19' });
  t.equal(otherGroup.toString('hex'), encodeAdvertV3({ ...uc, dstIp: '224.0.0.19' }).toString('hex'), 'vrrp_mcast_group4');
});

t.test('encoder: out-of-range fields are bugs and throw, naming the field', async (t) => {
  t.throws(() => encodeAdvertV3({ ...F4, maxAdverIntCs: 0 }), /maxAdverIntCs must be an integer in 1\.\.4095/);
  t.throws(() => encodeAdvertV3({ ...F4, maxAdverIntCs: 4096 }), /maxAdverIntCs/);
  t.throws(() => encodeAdvertV3({ ...F4, vrid: 0 }), /vrid/);
  t.throws(() => encodeAdvertV3({ ...F4, priority: 256 }), /priority/);
  t.throws(() => encodeAdvertV3({ ...F4, vips: ['fd00::1'] }), /vips\[0\]: not an IPv4 address/);
  t.throws(() => encodeAdvertV3({ ...F6, vips: ['10.0.0.1'] }), /vips\[0\]: not an IPv6 address/);
  t.throws(() => encodeAdvertV3({ ...F6, checksumMode: 'as-v2' }), /IPv4 only/);
  t.throws(() => encodeAdvertV3({ ...F4, vips: new Array<string>(256).fill('10.0.0.1') }), /at most 255/);
  t.throws(() => encodeAdvertV3({ ...F4, srcIp: 'fe80::1' }), /srcIp: not an IPv4 address/);
});
