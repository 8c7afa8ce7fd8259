// Seeded fuzz: 100,000 random and mutated buffers. decodeAdvert and peekVrid must never throw and
// must always return a well-formed value; anything accepted must be internally consistent.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { encodeAdvert, peekVrid } from '../../src/protocol/advert.js';
import { decodeAdvert, type AdvertExpectations } from '../../src/protocol/advert-checks.js';
import { DROP_REASONS } from '../../src/protocol/drop-reasons.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { checksumIsValid } from '../../src/protocol/checksum.js';

/** mulberry32: small deterministic PRNG (no Math.random, so failures reproduce). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed3768;
const ITERATIONS = 100_000;

// seeds: the keepalived captures plus synthetic adverts (AH-wrapped, no VIPs, many VIPs)
const captured = [
  'mc-noauth.hex',
  'mc-pass-short.hex',
  'mc-pass-long-multi.hex',
  'mc-owner-pass8.hex',
  'uc-noauth.hex',
  'mc-v3.hex',
].flatMap((name) =>
  readFileSync(new URL(`../fixtures/adverts/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .slice(0, 2)
    .map((l) => Buffer.from(l.trim(), 'hex').subarray(14)),
);
const synthetic = [
  buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 7,
    payload: encodeAdvert({ vrid: 1, priority: 255, authType: 0, adverIntSec: 1, vips: [] }),
  }),
  buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 8,
    payload: encodeAdvert({
      vrid: 200,
      priority: 7,
      authType: 1,
      authPass: 'pw',
      adverIntSec: 255,
      vips: Array.from({ length: 20 }, (_, i) => `10.0.1.${i}`),
    }),
  }),
  buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 9,
    protocol: 51,
    payload: Buffer.concat([
      Buffer.from([112, 4, 0, 0, 10, 0, 0, 2, 0, 0, 0, 1]),
      Buffer.alloc(12),
      encodeAdvert({ vrid: 9, priority: 100, authType: 2, adverIntSec: 1, vips: ['10.0.0.9'] }),
    ]),
  }),
];
const seeds = [...captured, ...synthetic];

const expectations: AdvertExpectations[] = [
  { adverIntSec: 1, authType: 0, vips: ['10.231.0.100'], checkVips: true, unicast: false },
  { adverIntSec: 1, authType: 1, authPass: 'abc', vips: ['10.231.0.101'], checkVips: false, unicast: false },
  {
    adverIntSec: 2,
    authType: 1,
    authPass: 'verylongpassword',
    vips: ['10.231.0.110', '10.231.0.111', '10.231.0.113', '10.231.0.112'],
    checkVips: true,
    unicast: false,
  },
  {
    adverIntSec: 1,
    authType: 0,
    vips: ['10.231.0.130', '10.231.0.131'],
    checkVips: true,
    unicast: true,
    checkUnicastSrc: true,
    unicastPeers: [{ ip: '10.231.0.1', minTtl: 0, maxTtl: 255 }],
  },
  { adverIntSec: 1, authType: 2, vips: ['10.0.0.9'], checkVips: true, unicast: false },
  { adverIntSec: 255, authType: 0, vips: [], checkVips: true, unicast: false },
];

function mutate(rnd: () => number, src: Buffer): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  const ops = 1 + pick(3);
  for (let k = 0; k < ops; k++) {
    switch (pick(6)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + pick(4); i < n && b.length > 0; i++) {
          const at = pick(b.length);
          b[at] = (b[at] ?? 0) ^ (1 << pick(8));
        }
        break;
      case 1: // random byte in the headers, where the checks look
        if (b.length > 0) b[pick(Math.min(b.length, 32))] = pick(256);
        break;
      case 2: // truncation
        b = b.subarray(0, pick(b.length + 1));
        break;
      case 3: // extension with random bytes
        b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(40) }, () => pick(256)))]);
        break;
      case 4: // plausible count / length fields
        if (b.length > 23) b[23] = pick(256);
        if (b.length > 3) b.writeUInt16BE(pick(0x10000), 2);
        break;
      default: // IHL / version nibble
        if (b.length > 0) b[0] = (pick(16) << 4) | pick(16);
        break;
    }
  }
  return b;
}

function randomBuffer(rnd: () => number): Buffer {
  const len = Math.floor(rnd() * 96);
  const b = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
  // half of them get a plausible IPv4/VRRP prefix so decoding gets past the first checks
  if (len >= 20 && rnd() < 0.5) {
    b[0] = 0x45;
    b[9] = rnd() < 0.8 ? 112 : 51;
    b.writeUInt16BE(len, 2);
  }
  return b;
}

t.test(`decodeAdvert and peekVrid never throw on ${ITERATIONS} random and mutated buffers`, async (t) => {
  const rnd = prng(SEED);
  const reasons = new Set<string>(DROP_REASONS);
  const problems: string[] = [];
  const seen = new Map<string, number>();
  let accepted = 0;
  const started = process.hrtime.bigint();

  for (let i = 0; i < ITERATIONS; i++) {
    const seed = seeds[Math.floor(rnd() * seeds.length)] ?? Buffer.alloc(0);
    const buf = rnd() < 0.25 ? randomBuffer(rnd) : mutate(rnd, seed);
    const exp = expectations[i % expectations.length] ?? expectations[0]!;
    let r;
    let vrid;
    try {
      vrid = peekVrid(buf);
      r = decodeAdvert(buf, exp);
    } catch (e) {
      problems.push(`#${i} threw ${String(e)} on ${buf.toString('hex')}`);
      continue;
    }
    if (vrid !== undefined && (!Number.isInteger(vrid) || vrid < 0 || vrid > 255)) problems.push(`#${i} peekVrid ${vrid}`);
    if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') {
      problems.push(`#${i} returned ${String(r)}`);
      continue;
    }
    if (!r.ok) {
      if (!reasons.has(r.reason) || typeof r.detail !== 'string' || r.detail === '') problems.push(`#${i} bad drop ${JSON.stringify(r)}`);
      // decodeAdvert turns an internal exception into a drop; the fuzz must never hit that path
      if (r.detail.startsWith('undecodable packet')) problems.push(`#${i} internal error ${r.detail} on ${buf.toString('hex')}`);
      seen.set(r.reason, (seen.get(r.reason) ?? 0) + 1);
      continue;
    }
    accepted++;
    // accepted => consistent: exact length, VRID demuxable, VRRP checksum verifies
    const ihl = ((buf[0] ?? 0) & 0x0f) * 4;
    if (buf.length !== ihl + 16 + 4 * r.advert.vips.length) problems.push(`#${i} accepted with a wrong length`);
    if (vrid !== r.advert.vrid) problems.push(`#${i} peekVrid ${vrid} != ${r.advert.vrid}`);
    if (!checksumIsValid(buf, ihl, buf.length)) problems.push(`#${i} accepted with a bad checksum`);
    if (r.advert.authData.length !== 8) problems.push(`#${i} authData length ${r.advert.authData.length}`);
  }

  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.same(problems.slice(0, 5), [], 'no throw, always a well-formed result');
  t.ok(accepted > 0, `some mutants are still valid adverts (${accepted})`);
  t.ok(seen.size >= 15, `the fuzz reaches most checks (${[...seen.keys()].join(', ')})`);
  t.ok(ms < 10_000, `fast enough (${ms.toFixed(0)} ms)`);
});
