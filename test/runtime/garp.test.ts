/**
 * The GARP module (garp.ts): every gratuitous ARP goes out here, built with the interface's MAC,
 * never on a NOARP or vanished link, paced per interface, errors logged rate-limited. Fake clock
 * and frame sender; no root.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { MemoryLog } from '../../src/log.js';
import { expandGarpBurst } from '../../src/protocol/garp-schedule.js';
import { FakeClock } from '../support/fake-clock.js';
import { Garp } from '../../src/runtime/garp.js';
import type { IoResult, Ipv6ForwardingReader, LinkInfo } from '../../src/runtime/ports/index.js';

const link = (ifname: string, ifindex: number, extra: Partial<LinkInfo> = {}): LinkInfo => ({
  ifindex,
  ifname,
  up: true,
  running: true,
  lowerUp: true,
  noarp: false,
  loopback: false,
  mac: `02:00:00:00:00:0${ifindex}`,
  mtu: 1500,
  master: undefined,
  ...extra,
});

function setup(links: LinkInfo[], fail: string | null = null, ipv6Forwarding?: Ipv6ForwardingReader) {
  const fake = new FakeClock(1000);
  const log = new MemoryLog();
  const sent: { atMs: number; ifindex: number; ifname: string; frame: Uint8Array }[] = [];
  const garp = new Garp({
    clock: {
      nowMs: () => fake.now(),
      setTimer: (ms, cb) => {
        const id = fake.setTimeout(cb, ms);
        return { cancel: () => fake.cancel(id) };
      },
    },
    frames: {
      send: (ifindex, frame, ifname): IoResult<number> => {
        sent.push({ atMs: fake.now(), ifindex, ifname, frame });
        return fail === null
          ? { ok: true, value: frame.length }
          : { ok: false, error: { kind: 'IoError', syscall: 'sendto', errno: 100, code: fail, message: 'Network is down' } };
      },
    },
    link: (n) => links.find((l) => l.ifname === n),
    log,
    ipv6Forwarding,
  });
  return { fake, log, sent, garp };
}

const burst = (addresses: string[], rounds: number, intervalMs = 0) =>
  expandGarpBurst({ type: 'send-garp', burst: 'master', rounds, addresses, intervalMs }, 1000);
const ipOf = (f: Uint8Array): string => `${f[28]}.${f[29]}.${f[30]}.${f[31]}`;
const macOf = (f: Uint8Array, at: number): string => [...f.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');

t.test('an unpaced burst goes out at once on the link, ARP frames with its MAC, one debug line per packet', async (t) => {
  const { sent, garp, log } = setup([link('eth0', 2)]);
  garp.schedule('eth0', burst(['10.0.0.100', '10.0.0.101'], 2), 0, () => true);
  t.same(
    sent.map((s) => [s.ifindex, s.ifname, ipOf(s.frame)]),
    [
      [2, 'eth0', '10.0.0.100'],
      [2, 'eth0', '10.0.0.101'],
      [2, 'eth0', '10.0.0.100'],
      [2, 'eth0', '10.0.0.101'],
    ],
  );
  t.equal(macOf(sent[0]!.frame, 6), '02:00:00:00:00:02', 'Ethernet source = the interface MAC');
  t.equal(macOf(sent[0]!.frame, 0), 'ff:ff:ff:ff:ff:ff', 'broadcast');
  t.equal(log.messages('debug').filter((m) => m === 'Sending gratuitous ARP on eth0 for 10.0.0.100').length, 2);
});

t.test('never on a NOARP link or a link that is gone (docs/keepalived-behaviour.md 3.7)', async (t) => {
  const { sent, garp } = setup([link('eth0', 2, { noarp: true }), link('eth1', 3, { mac: undefined })]);
  garp.schedule('eth0', burst(['10.0.0.100'], 3), 0, () => true);
  garp.schedule('eth1', burst(['10.0.0.100'], 1), 0, () => true);
  garp.schedule('eth9', burst(['10.0.0.100'], 1), 0, () => true);
  t.same(sent, []);
});

t.test('paced: one packet per interval on the interface; a queued one is dropped once no longer valid, or at stop', async (t) => {
  const { fake, sent, garp } = setup([link('eth0', 2)]);
  let valid = true;
  garp.schedule('eth0', burst(['10.0.0.100'], 4, 20), 20, () => valid);
  t.equal(sent.length, 1);
  fake.advance(20);
  t.same(
    sent.map((s) => s.atMs),
    [1000, 1020],
  );
  valid = false;
  fake.advance(20);
  t.equal(sent.length, 2, 'invalid: dropped');
  valid = true;
  garp.cancelAll();
  fake.advance(100);
  t.equal(sent.length, 2, 'cancelled at stop');
});

t.test('send errors: logged with errno and address, at most once per interface and errno per window', async (t) => {
  const { garp, log } = setup([link('eth0', 2)], 'ENETDOWN');
  garp.schedule('eth0', burst(['10.0.0.100', '10.0.0.101'], 5), 0, () => true);
  t.same(log.messages('warn'), ['Error 100 (Network is down) sending gratuitous ARP on eth0 for 10.0.0.100']);
});

t.test("IPv6 addresses: unsolicited NAs equal keepalived's frames, Router flag from forwarding (re-read after 5 s)", async (t) => {
  // test/fixtures/ipv6-na/na.hex: keepalived's NAs on eth0 (forwarding 0) and eth1 (forwarding 1)
  const captured = readFileSync(new URL('../fixtures/ipv6-na/na.hex', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const mac0 = '02:00:00:6e:00:01';
  const mac1 = '02:00:00:6e:01:01';
  const links = [link('eth0', 2, { mac: mac0 }), link('eth1', 3, { mac: mac1 })];
  const forwarding = new Map([
    ['eth0', false],
    ['eth1', true],
  ]);
  let reads = 0;
  const { fake, sent, garp } = setup(links, null, (ifname) => (reads++, { ok: true, value: forwarding.get(ifname) ?? false }));
  garp.schedule('eth0', burst(['fd00:61::100', 'fd00:61::101'], 1), 0, () => true);
  garp.schedule('eth1', burst(['fd00:62::100'], 1), 0, () => true);
  const hex = sent.map((x) => Buffer.from(x.frame).toString('hex'));
  t.ok(captured.includes(hex[0]!), 'eth0 fd00:61::100: byte-identical (Override only)');
  t.ok(captured.includes(hex[1]!), 'eth0 fd00:61::101: byte-identical');
  t.ok(captured.includes(hex[2]!), 'eth1 fd00:62::100: byte-identical (Router and Override)');
  t.equal(reads, 2, 'forwarding read once per interface');
  garp.schedule('eth1', burst(['fd00:62::100'], 1), 0, () => true);
  t.equal(reads, 2, 'not again within 5 s');
  fake.advance(5000);
  forwarding.set('eth1', false);
  garp.schedule('eth1', burst(['fd00:62::100'], 1), 0, () => true);
  t.equal(reads, 3, 're-read after 5 s');
  t.equal(sent.at(-1)!.frame[58]! & 0x80, 0, 'forwarding now off: no Router flag');
});
