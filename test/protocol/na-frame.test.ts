import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildNeighbourAdvert, icmpv6Checksum, NA_FLAG_OVERRIDE, NA_FLAG_ROUTER, NA_FRAME_LEN } from '../../src/protocol/na-frame.js';
import { checksumIsValid } from '../../src/protocol/checksum.js';

/** test/fixtures/ipv6-na/na.hex: every NA keepalived 2.2.7 sent, with the comment line before each. */
const lines = readFileSync(new URL('../fixtures/ipv6-na/na.hex', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '');
const captured: Array<{ comment: string; frame: Buffer }> = [];
for (const [i, l] of lines.entries()) if (!l.startsWith('#')) captured.push({ comment: lines[i - 1] ?? '', frame: Buffer.from(l, 'hex') });

// test/fixtures/ipv6-na/keepalived.conf and record.sh: the MACs, VIPs and forwarding of each interface
const CASES = [
  { srcMac: '02:00:00:6e:00:01', target: 'fd00:61::100', router: false, iface: 'eth0 (forwarding 0)' },
  { srcMac: '02:00:00:6e:00:01', target: 'fd00:61::101', router: false, iface: 'eth0 (forwarding 0)' },
  { srcMac: '02:00:00:6e:00:01', target: 'fd00:63::100', router: false, iface: 'eth0 (forwarding 0)' },
  { srcMac: '02:00:00:6e:01:01', target: 'fd00:62::100', router: true, iface: 'eth1 (forwarding 1)' },
];

t.test('reproduces keepalived 2.2.7 unsolicited neighbour advertisements byte for byte', async (t) => {
  t.ok(captured.length >= CASES.length, `${captured.length} captured NAs`);
  const built = new Map(CASES.map((c) => [buildNeighbourAdvert(c).toString('hex'), c]));
  for (const c of CASES) {
    const mine = buildNeighbourAdvert(c).toString('hex');
    const theirs = captured.filter((x) => x.comment.includes(`${c.iface}: target ${c.target},`));
    t.ok(theirs.length > 0, `keepalived sent NAs for ${c.target} on ${c.iface}`);
    for (const x of theirs) t.equal(x.frame.toString('hex'), mine, `${x.comment}`);
  }
  for (const x of captured) t.ok(built.has(x.frame.toString('hex')), `every captured NA is one the builder makes: ${x.comment}`);
});

t.test('frame layout (RFC 4861 4.4, keepalived vrrp_ndisc.c)', async (t) => {
  const f = buildNeighbourAdvert({ srcMac: 'AA-BB-CC-DD-EE-0F', target: '2001:db8::7', router: false });
  t.equal(f.length, NA_FRAME_LEN);
  t.equal(f.subarray(0, 14).toString('hex'), '333300000001aabbccddee0f86dd', 'all-nodes MAC, interface MAC, IPv6');
  t.equal(f.subarray(14, 22).toString('hex'), '6000000000203aff', 'tclass 0, flow 0, payload 32, ICMPv6, hop limit 255');
  t.equal(f.subarray(22, 38).toString('hex'), '20010db8000000000000000000000007', 'source = the VIP');
  t.equal(f.subarray(38, 54).toString('hex'), 'ff020000000000000000000000000001', 'destination ff02::1');
  t.equal(f[54], 136, 'neighbour advertisement');
  t.equal(f[55], 0, 'code 0');
  t.equal(f[58], NA_FLAG_OVERRIDE, 'Override only: not solicited, not a router');
  t.equal(f.subarray(59, 62).toString('hex'), '000000', 'reserved');
  t.equal(f.subarray(62, 78).toString('hex'), '20010db8000000000000000000000007', 'target = the VIP');
  t.equal(f.subarray(78, 86).toString('hex'), '0201aabbccddee0f', 'target link-layer address option');
  t.equal(
    buildNeighbourAdvert({ srcMac: 'aa:bb:cc:dd:ee:0f', target: '2001:db8::7', router: true })[58],
    NA_FLAG_ROUTER | NA_FLAG_OVERRIDE,
  );
  const pseudo = Buffer.concat([f.subarray(22, 54), Buffer.from('000000200000003a', 'hex'), f.subarray(54)]);
  t.ok(checksumIsValid(pseudo), 'the checksum verifies over the pseudo-header');
  t.equal(
    icmpv6Checksum(f.subarray(22, 38), f.subarray(38, 54), Buffer.concat([f.subarray(54, 56), Buffer.alloc(2), f.subarray(58)])),
    f.readUInt16BE(56),
  );
});

t.test('rejects malformed input as a bug', async (t) => {
  t.throws(() => buildNeighbourAdvert({ srcMac: '02:00:0a:e7:00', target: 'fd00::1', router: false }), RangeError);
  t.throws(() => buildNeighbourAdvert({ srcMac: '02:00:0a:e7:00:01', target: '10.0.0.1', router: false }), RangeError);
  t.throws(() => buildNeighbourAdvert({ srcMac: '02:00:0a:e7:00:01', target: 'fe80::1%eth0', router: false }), RangeError);
});
