import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildGratuitousArp, formatMac, parseMac } from '../../src/protocol/arp-frame.js';
import { GARP_FRAME_LEN } from '../../src/protocol/constants.js';

const frames = readFileSync(new URL('../fixtures/adverts/garp.hex', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => Buffer.from(l, 'hex'));

// every VIP in test/fixtures/adverts/keepalived.conf
const VIPS = [
  '10.231.0.100',
  '10.231.0.101',
  '10.231.0.110',
  '10.231.0.111',
  '10.231.0.112',
  '10.231.0.113',
  '10.231.0.120',
  '10.231.0.130',
  '10.231.0.131',
  '10.231.0.140',
];

t.test('reproduces keepalived 2.2.7 gratuitous ARPs byte for byte', async (t) => {
  t.equal(frames.length, VIPS.length, 'one captured GARP per VIP');
  const captured = new Set(frames.map((f) => f.toString('hex')));
  for (const vip of VIPS) {
    const f = buildGratuitousArp('02:00:0a:e7:00:01', vip);
    t.equal(f.length, GARP_FRAME_LEN, 'a 42-byte frame');
    t.ok(captured.has(f.toString('hex')), `GARP for ${vip} matches the capture`);
  }
});

t.test('frame layout (docs/keepalived-behaviour.md 3.7)', async (t) => {
  const f = buildGratuitousArp('AA-BB-CC-DD-EE-0F', '192.0.2.7');
  t.equal(f.subarray(0, 6).toString('hex'), 'ffffffffffff', 'Ethernet broadcast destination');
  t.equal(formatMac(f, 6), 'aa:bb:cc:dd:ee:0f', 'Ethernet source = interface MAC');
  t.equal(f.readUInt16BE(12), 0x0806, 'ethertype ARP');
  t.equal(f.subarray(14, 22).toString('hex'), '0001080006040001', 'Ethernet/IPv4, 6/4, op 1 (request)');
  t.equal(formatMac(f, 22), 'aa:bb:cc:dd:ee:0f', 'sender MAC');
  t.equal([...f.subarray(28, 32)].join('.'), '192.0.2.7', 'sender IP = VIP');
  t.equal(f.subarray(32, 38).toString('hex'), 'ffffffffffff', 'target MAC ff:ff:ff:ff:ff:ff, as keepalived');
  t.equal([...f.subarray(38, 42)].join('.'), '192.0.2.7', 'target IP = VIP');
});

t.test('rejects malformed input as a bug', async (t) => {
  t.throws(() => buildGratuitousArp('02:00:0a:e7:00', '10.0.0.1'), RangeError);
  t.throws(() => buildGratuitousArp('02:00:0a:e7:00:01', '10.0.0.256'), RangeError);
  t.throws(() => buildGratuitousArp('02:00:0a:e7:00:01', '10.0.0'), RangeError);
  t.equal(parseMac('zz:00:00:00:00:00'), undefined);
  t.same([...(parseMac('00:11:22:33:44:55') ?? [])], [0, 0x11, 0x22, 0x33, 0x44, 0x55]);
});
