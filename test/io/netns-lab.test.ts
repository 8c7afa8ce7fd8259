/**
 * The lab helper itself: namespaces, bridge, exec, spawn, capture, setns, cleanup.
 * Root only; prefix vio-lab-, subnet 10.232.10.0/24.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab, inNetns, netnsSkip, run } from '../support/netns.js';
import { parsePcap } from '../support/pcap.js';

t.test('pcap reader parses an empty/short file without throwing', async (t) => {
  t.same(parsePcap(Buffer.alloc(0)).records, []);
  t.throws(() => parsePcap(Buffer.alloc(24, 1)), /not a pcap/);
});

t.test('lab: two hosts on a bridge, exec, capture, setns, cleanup', { skip: netnsSkip() }, async (t) => {
  let tmp = '';
  const names: string[] = [];
  await t.test('build and use', async (t) => {
    const lab = await Lab.create(t, { prefix: 'vio-lab-', subnet: '10.232.10', hosts: ['a', 'b'] });
    tmp = lab.tmpDir;
    names.push(lab.switchNs, ...lab.hosts.map((h) => h.ns));
    const a = lab.host('a');
    const b = lab.host('b');
    t.equal(a.ip, '10.232.10.1');
    t.equal(b.ip, '10.232.10.2');
    t.match(a.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

    const cap = await lab.capture('b', { filter: 'icmp' });
    const ping = await lab.exec('a', ['ping', '-c', '2', '-i', '0.2', '-W', '1', b.ip], { timeoutMs: 5000 });
    t.match(ping.stdout, /2 received/);
    const res = await cap.stop();
    const echo = res.frames.filter((f) => f.ip?.protocol === 1 && f.ip.src === a.ip && f.ip.dst === b.ip);
    t.equal(echo.length, 2, 'two echo requests captured in b');
    t.match(await res.text(), /ICMP echo request/);

    // setns: a socket-free check that the thread really moves (if_nametoindex of eth0 differs per ns).
    const inA = lab.inNetns('a', () => execFileSync('ip', ['-j', 'link', 'show', 'eth0']).toString());
    t.match(inA, a.mac, "ip run from inside inNetns sees a's eth0");

    const p = lab.spawn('a', ['sleep', '30']);
    t.ok(p.running);
    await lab.linkDown('a', 'switch');
    await lab.waitLink('a', false, 3000);
    await lab.linkUp('a', 'switch');
    await lab.waitLink('a', true, 3000);
    t.ok(lab.hosts.length === 2);
  });
  const list = (await run(['ip', 'netns', 'list'])).stdout;
  for (const n of names) t.notMatch(list, new RegExp(`^${n}\\b`, 'm'), `${n} removed`);
  t.notOk(existsSync(tmp), 'temp dir removed');
  t.throws(() => inNetns('vio-lab-nonexistent', () => 1));
});
