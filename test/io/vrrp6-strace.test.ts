/**
 * The IPv6 VRRP sockets make the same system calls as keepalived 2.2.7 (prefix vr-v6io-st-, subnet
 * 10.232.63.0/24): a child running the BUILT transport (dist/, so build first) is traced with strace
 * opening a multicast channel and a unicast one on eth0 and sending once on each, and its calls are
 * compared, socket by socket, with keepalived's (test/fixtures/ipv6-na/strace-sockets.txt, recorded
 * by record.sh for the same interface name and addresses).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuild } from '../support/build-check.js';
import { Lab, netnsSkip } from '../support/netns.js';
import { enableIpv6 } from '../support/lab-ipv6.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DIST = join(ROOT, 'dist/io/vrrp6-transport.js');

/**
 * strace lines -> the calls on each IPv6 raw socket, in creation order, with what differs between two
 * runs by design taken out: pids, times, fd numbers, the ifindex, and the advert's bytes.
 */
function perSocket(lines: readonly string[]): string[][] {
  const sockets = new Map<string, string[]>();
  const sent = new Set<string>();
  for (const raw of lines) {
    const call = raw.replace(/^\d+\s+(\d\d:\d\d:\d\d\.\d+\s+)?/, '');
    const created = /^socket\(AF_INET6, SOCK_RAW.* = (\d+)$/.exec(call);
    if (created?.[1] !== undefined) {
      sockets.set(created[1], [call.replace(/ = \d+$/, ' = FD')]);
      continue;
    }
    const m = /^(setsockopt|bind|sendmsg)\((\d+), (.*)$/.exec(call);
    const list = m?.[2] === undefined ? undefined : sockets.get(m[2]);
    if (!m || list === undefined) continue;
    if (m[1] === 'sendmsg') {
      if (sent.has(m[2]!)) continue;
      sent.add(m[2]!);
    }
    list.push(
      `${m[1]}(FD, ${m[3]!}`
        .replace(/IPV6_MULTICAST_IF, \[\d+\]/, 'IPV6_MULTICAST_IF, [IFINDEX]')
        .replace(/iov_base="(?:[^"\\]|\\.)*", iov_len=\d+/, 'iov_base=ADVERT')
        .replace(/\) = \d+$/, ') = LEN'),
    );
  }
  return [...sockets.values()];
}

t.test('socket calls equal keepalived 2.2.7s', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const which = await import('node:child_process').then((cp) => cp.spawnSync('strace', ['-V']));
  if (which.status !== 0) {
    t.pass('strace is not installed: nothing to compare');
    return;
  }
  const theirs = perSocket(readFileSync(new URL('../fixtures/ipv6-na/strace-sockets.txt', import.meta.url), 'utf8').split('\n'));
  t.equal(theirs.length, 6, "keepalived's fixture: receive and send sockets for eth0 multicast, eth1 multicast, eth0 unicast");

  const lab = await Lab.create(t, { prefix: 'vr-v6io-st-', subnet: '10.232.63', hosts: ['a'] });
  const ll = await enableIpv6(lab, 'a');
  await lab.exec('a', ['ip', 'addr', 'add', 'fd00:60::1/64', 'dev', 'eth0', 'nodad']);
  const dir = mkdtempSync(join(tmpdir(), 'vr-v6io-st-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = join(dir, 'child.mjs');
  writeFileSync(
    child,
    [
      `import { Vrrp6Transport } from ${JSON.stringify(DIST)};`,
      'const tr = new Vrrp6Transport();',
      "const mc = tr.open({ ifname: 'eth0' });",
      "const uc = tr.open({ ifname: 'eth0', unicastSrc: 'fd00:60::1' });",
      'if (!mc.ok || !uc.ok) { console.error(JSON.stringify([mc, uc])); process.exit(1); }',
      "const adv = Buffer.from('313d960100640000fd000061000000000000000000000100', 'hex');",
      `const a = tr.send(mc.value.key, adv, { src: ${JSON.stringify(ll)}, dst: 'ff02::12' });`,
      "const b = tr.send(uc.value.key, adv, { src: 'fd00:60::1', dst: 'fd00:60::2' });",
      'tr.closeAll();',
      'if (!a.ok || !b.ok) { console.error(JSON.stringify([a, b])); process.exit(1); }',
    ].join('\n'),
  );
  const trace = join(dir, 'strace.txt');
  const r = await lab.exec(
    'a',
    ['strace', '-f', '-s', '256', '-v', '-o', trace, '-e', 'trace=socket,setsockopt,bind,sendmsg', process.execPath, child],
    {
      allowFail: true,
      timeoutMs: 20000,
    },
  );
  t.equal(r.code, 0, `the traced child ran (${r.stderr.slice(-300)})`);
  const ours = perSocket(readFileSync(trace, 'utf8').split('\n'));
  t.equal(ours.length, 4, 'receive and send sockets for the multicast and the unicast channel');
  t.same(ours[0], theirs[0], 'multicast receive socket');
  t.same(ours[1], theirs[1], 'multicast send socket, and its first advert');
  t.same(ours[2], theirs[4], 'unicast receive socket');
  t.same(ours[3], theirs[5], 'unicast send socket, and its first advert');
});
