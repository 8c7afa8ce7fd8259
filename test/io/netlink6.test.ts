/**
 * IPv6 addresses through rtnetlink (prefix vr-v6io-nl-, subnet 10.232.62.0/24, fd00:6f::/64): VIPs
 * added with the flags keepalived 2.2.7 uses (test/fixtures/ipv6-na/README.md: `scope global nodad`,
 * preferred_lft forever for a /64, 0 and so `deprecated` for a /128), and IPv6 address events as the
 * runtime's AddrInfo with `family: 6`, only when the watcher is asked for them. The kernel sends IPv6
 * address notifications with port id 0 whoever asked: our own changes are recognised by the command
 * socket's ledger (origin `self`), anyone else's are `kernel`.
 */
import t from 'tap';
import { buildAddrMessage, IPV6_LIFETIME_FOREVER, NetlinkCommands } from '../../src/io/netlink-addr.js';
import { toAddrInfo, toAddrInfo6 } from '../../src/io/netlink-codec.js';
import { NetlinkWatcher, type NetlinkEvent } from '../../src/io/netlink-events.js';
import { Lab, netnsSkip, waitForEvent } from '../support/netns.js';
import { enableIpv6 } from '../support/lab-ipv6.js';

t.test('IPv6 address messages as keepalived builds them (no root)', async (t) => {
  const add = buildAddrMessage({ ifindex: 4, address: 'fd00:61::100', prefixLen: 64 });
  t.ok(add.ok);
  if (add.ok) {
    t.same(add.value.data, { family: 10, prefixlen: 64, scope: 0, index: 4 }, 'AF_INET6, scope 0 (the kernel sets it)');
    t.same(add.value.attrs.flags, { nodad: true }, 'IFA_F_NODAD');
    t.equal(add.value.attrs.cacheInfo, undefined, 'no IFA_CACHEINFO when preferred_lft is forever');
    t.equal(add.value.attrs.address, undefined, 'no IFA_ADDRESS without a peer');
    t.same([...(add.value.attrs.local ?? [])].slice(0, 4), [0xfd, 0, 0, 0x61]);
  }
  const host = buildAddrMessage({ ifindex: 4, address: 'fd00:61::101', prefixLen: 128 });
  t.match(
    host,
    { ok: true, value: { attrs: { cacheInfo: { ifaPrefered: 0, ifaValid: IPV6_LIFETIME_FOREVER } } } },
    '/128: preferred_lft 0',
  );
  const lft = buildAddrMessage({ ifindex: 4, address: 'fd00::1', prefixLen: 128, preferredLft: 'forever', nodad: false });
  t.match(lft, { ok: true, value: { attrs: { cacheInfo: undefined, flags: undefined } } }, "preferred_lft forever, keepalived's -nodad");
  const del = buildAddrMessage({ ifindex: 4, address: 'fd00:61::101', prefixLen: 128 }, false);
  t.match(
    del,
    { ok: true, value: { attrs: { cacheInfo: undefined, flags: undefined, address: undefined } } },
    'a delete carries IFA_LOCAL only',
  );
  for (const bad of [
    { address: 'fd00::1', prefixLen: 129 },
    { address: 'fd00::1', prefixLen: 64, label: 'eth0:x' },
    { address: 'fd00::1', prefixLen: 64, broadcast: '+' },
    { address: 'fd00::1', prefixLen: 64, preferredLft: -1 },
    { address: 'fd00::g', prefixLen: 64 },
  ])
    t.match(buildAddrMessage({ ifindex: 4, ...bad }), { ok: false, error: { code: 'EINVAL' } }, JSON.stringify(bad));
  t.same(
    buildAddrMessage({ ifindex: 3, address: '10.0.0.1', prefixLen: 24 }, false),
    buildAddrMessage({ ifindex: 3, address: '10.0.0.1', prefixLen: 24 }),
    'IPv4 add and delete messages unchanged',
  );
  const msg6 = { kind: 'address', data: { family: 10, index: 2, prefixlen: 64, scope: 0 }, attrs: { local: Buffer.alloc(16, 1) } };
  t.equal(toAddrInfo(msg6), undefined, 'the IPv4 conversion ignores IPv6 messages, as before');
  t.match(toAddrInfo6(msg6), { family: 6, ifindex: 2, address: '101:101:101:101:101:101:101:101', prefixLen: 64 });
});

t.test('IPv6 VIPs and events in a namespace', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vr-v6io-nl-', subnet: '10.232.62', hosts: ['a'] });
  await enableIpv6(lab, 'a');
  const a = lab.host('a');
  const events: NetlinkEvent[] = [];
  const v4events: NetlinkEvent[] = [];
  const waiters = new Set<() => void>();
  const watcher = new NetlinkWatcher({
    ipv6: true,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
  });
  const v4only = new NetlinkWatcher({ onEvent: (e) => v4events.push(e) });
  t.teardown(() => {
    watcher.stop();
    v4only.stop();
  });
  t.ok((await lab.inNetns('a', () => watcher.start())).ok, 'IPv6 watcher started');
  t.ok((await lab.inNetns('a', () => v4only.start())).ok, 'IPv4-only watcher started');
  t.ok(
    watcher.addresses(a.ifindex).some((x) => x.family === 6 && x.address.startsWith('fe80::') && x.scope === 253),
    'the dump has the link-local address (scope link)',
  );
  t.notOk(
    v4only.addresses().some((x) => x.family === 6),
    'without the option the cache holds IPv4 only',
  );
  const cmd = watcher.commands;
  const next = (pred: (e: NetlinkEvent) => boolean, what: string): Promise<NetlinkEvent> =>
    waitForEvent<NetlinkEvent>(
      (deliver) => {
        const w = (): void => {
          const hit = events.find(pred);
          if (hit) deliver(hit);
        };
        waiters.add(w);
        w();
        return () => waiters.delete(w);
      },
      3000,
      what,
    );
  const ipAddr = async (): Promise<
    Array<{ local: string; prefixlen: number; scope: string; nodad?: boolean; deprecated?: boolean; preferred_life_time: number }>
  > => {
    const out = (await lab.exec('a', ['ip', '-6', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout;
    return (JSON.parse(out) as Array<{ addr_info: [] }>).flatMap((l) => l.addr_info);
  };

  await t.test('add a /64 and a /128 VIP as keepalived does', async (t) => {
    t.same(await cmd.addAddress({ ifindex: a.ifindex, address: 'fd00:6f::100', prefixLen: 64 }), { ok: true, value: { exists: false } });
    t.same(await cmd.addAddress({ ifindex: a.ifindex, address: 'fd00:6f::101', prefixLen: 128 }), { ok: true, value: { exists: false } });
    const addrs = await ipAddr();
    t.match(
      addrs.find((x) => x.local === 'fd00:6f::100'),
      { prefixlen: 64, scope: 'global', nodad: true, preferred_life_time: 4294967295 },
    );
    t.match(
      addrs.find((x) => x.local === 'fd00:6f::101'),
      { prefixlen: 128, scope: 'global', nodad: true, deprecated: true, preferred_life_time: 0 },
    );
    const e = await next((x) => x.kind === 'addr' && x.op === 'new' && x.addr.address === 'fd00:6f::101', 'the /128 add');
    t.match(e, {
      origin: 'self',
      port: 0,
      ifname: 'eth0',
      addr: { family: 6, prefixLen: 128, nodad: true, deprecated: true, preferredLft: 0, scope: 0 },
    });
    t.match(await cmd.addAddress({ ifindex: a.ifindex, address: 'fd00:6f::100', prefixLen: 64 }), { ok: true, value: { exists: true } });
    t.ok(
      watcher.addresses(a.ifindex).some((x) => x.address === 'fd00:6f::100' && x.family === 6),
      'in the cache',
    );
  });

  await t.test('delete ours and notice someone else deleting one', async (t) => {
    t.same(await cmd.delAddress({ ifindex: a.ifindex, address: 'fd00:6f::100', prefixLen: 64 }), { ok: true, value: { absent: false } });
    t.match(await next((x) => x.kind === 'addr' && x.op === 'del' && x.addr.address === 'fd00:6f::100', 'our delete'), { origin: 'self' });
    t.same(await cmd.delAddress({ ifindex: a.ifindex, address: 'fd00:6f::100', prefixLen: 64 }), { ok: true, value: { absent: true } });
    await lab.exec('a', ['ip', 'addr', 'del', 'fd00:6f::101/128', 'dev', 'eth0']);
    // The kernel gives IPv6 notifications port id 0 whoever asked: `ip`'s delete cannot be told from the kernel's own.
    t.match(await next((x) => x.kind === 'addr' && x.op === 'del' && x.addr.address === 'fd00:6f::101', 'the external delete'), {
      origin: 'kernel',
      port: 0,
      addr: { family: 6 },
    });
    await lab.exec('a', ['ip', 'addr', 'add', 'fd00:6f::102/64', 'dev', 'eth0', 'nodad']);
    t.match(await next((x) => x.kind === 'addr' && x.op === 'new' && x.addr.address === 'fd00:6f::102', 'the external add'), {
      origin: 'kernel',
    });
    await lab.exec('a', ['ip', 'addr', 'del', 'fd00:6f::102/64', 'dev', 'eth0']);
    await next((x) => x.kind === 'addr' && x.op === 'del' && x.addr.address === 'fd00:6f::102', 'its delete');
    // Another command socket's change is not ours: the ledger belongs to the watcher's command socket.
    const other = new NetlinkCommands();
    t.teardown(() => other.close());
    t.ok((await lab.inNetns('a', () => other.addAddress({ ifindex: a.ifindex, address: 'fd00:6f::103', prefixLen: 64 }))).ok);
    t.match(await next((x) => x.kind === 'addr' && x.op === 'new' && x.addr.address === 'fd00:6f::103', "another socket's add"), {
      origin: 'kernel',
    });
    t.ok((await other.delAddress({ ifindex: a.ifindex, address: 'fd00:6f::103', prefixLen: 64 })).ok);
    await next((x) => x.kind === 'addr' && x.op === 'del' && x.addr.address === 'fd00:6f::103', 'its delete');
    t.equal(cmd.claimSelf6('del', { ifindex: a.ifindex, address: 'fd00:6f::103', prefixLen: 64 }), false, 'nothing pending');
    t.notOk(
      watcher.addresses().some((x) => x.address.startsWith('fd00:6f::')),
      'gone from the cache',
    );
    t.notOk(
      v4events.some((e) => e.kind === 'addr' && e.addr.family === 6),
      'the IPv4-only watcher saw no IPv6 event',
    );
  });
});

t.test('constructing opens nothing', async (t) => {
  t.equal(new NetlinkCommands().commandPort, undefined);
});
