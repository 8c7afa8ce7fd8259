/**
 * rtnetlink commands and events in a namespace (prefix vio-nl-, subnet 10.232.3.0/24).
 * Checked against the kernel with `ip addr` / `ip link`.
 */
import t from 'tap';
import { NetlinkCommands } from '../../src/io/netlink-addr.js';
import { broadcastFor } from '../../src/io/netlink-codec.js';
import { NetlinkWatcher, type NetlinkEvent } from '../../src/io/netlink-events.js';
import { buildAddrMessage } from '../../src/io/netlink-addr.js';
import { Lab, netnsSkip, waitForEvent } from '../support/netns.js';

t.test('pure helpers (no root)', async (t) => {
  t.equal(broadcastFor('10.0.0.100', 24), '10.0.0.255');
  t.equal(broadcastFor('10.1.2.3', 16), '10.1.255.255');
  t.equal(broadcastFor('10.1.2.3', 32), undefined);
  t.equal(broadcastFor('10.1.2.3', 0), '255.255.255.255');
  t.equal(
    buildAddrMessage({ ifindex: 1, address: '10.0.0.1', prefixLen: 24, label: 'a-very-long-label' }).ok,
    false,
    'label > 15 bytes refused',
  );
  t.equal(buildAddrMessage({ ifindex: 1, address: '10.0.0.300', prefixLen: 24 }).ok, false);
  t.equal(buildAddrMessage({ ifindex: 1, address: '10.0.0.1', prefixLen: 33 }).ok, false);
  const m = buildAddrMessage({ ifindex: 3, address: '10.0.0.1', prefixLen: 24, broadcast: '+', scope: 'link', label: 'eth0:x' });
  t.ok(m.ok);
  if (m.ok) {
    t.match(m.value.data, { family: 2, prefixlen: 24, scope: 253, index: 3 });
    t.same([...(m.value.attrs.broadcast ?? [])], [10, 0, 0, 255]);
  }
  // Constructing opens nothing.
  const c = new NetlinkCommands();
  t.equal(c.commandPort, undefined);
});

t.test('netlink in a namespace', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vio-nl-', subnet: '10.232.3', hosts: ['a', 'b'] });
  const a = lab.host('a');
  const events: NetlinkEvent[] = [];
  const waiters = new Set<() => void>();
  const watcher = new NetlinkWatcher({
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
  });
  t.teardown(() => watcher.stop());
  const started = await lab.inNetns('a', () => watcher.start());
  t.ok(started.ok, 'watcher started (subscribed, dumped)');
  const cmd = watcher.commands;

  /** Wait for an event matching pred (among those not yet consumed). */
  let seen = 0;
  const next = (pred: (e: NetlinkEvent) => boolean, what: string, timeoutMs = 3000): Promise<NetlinkEvent> =>
    waitForEvent<NetlinkEvent>(
      (deliver) => {
        const w = (): void => {
          for (let i = seen; i < events.length; i++) {
            const e = events[i]!;
            if (pred(e)) {
              seen = i + 1;
              deliver(e);
              return;
            }
          }
        };
        waiters.add(w);
        w();
        return () => waiters.delete(w);
      },
      timeoutMs,
      what,
    );

  await t.test('list links and addresses', async (t) => {
    const links = await cmd.listLinks();
    t.ok(links.ok);
    if (!links.ok) return;
    const eth0 = links.value.find((l) => l.ifname === 'eth0');
    t.match(eth0, { ifindex: a.ifindex, mac: a.mac, up: true, running: true, lowerUp: true, noarp: false, loopback: false, mtu: 1500 });
    t.match(
      links.value.find((l) => l.ifname === 'lo'),
      { loopback: true, up: true },
    );
    const addrs = await cmd.listAddresses();
    t.ok(addrs.ok);
    if (addrs.ok) {
      t.match(
        addrs.value.find((x) => x.ifindex === a.ifindex),
        { address: a.ip, prefixLen: 24, broadcast: '10.232.3.255', label: 'eth0', scope: 0, secondary: false },
      );
    }
    t.match(watcher.link('eth0'), { ifindex: a.ifindex });
    t.ok(
      watcher.addresses(a.ifindex).some((x) => x.address === a.ip),
      'cache filled',
    );
  });

  await t.test('add a VIP with brd, scope and label; ip addr shows it; our own NEW arrives as self', async (t) => {
    const r = await cmd.addAddress({ ifindex: a.ifindex, address: '10.232.3.100', prefixLen: 24, broadcast: '+', label: 'eth0:havip' });
    t.same(r, { ok: true, value: { exists: false } });
    const out = (await lab.exec('a', ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
    t.match(out, /inet 10\.232\.3\.100\/24 brd 10\.232\.3\.255 scope global secondary eth0:havip/);
    const e = await next((e) => e.kind === 'addr' && e.op === 'new' && e.addr.address === '10.232.3.100', 'NEW 10.232.3.100');
    t.match(e, {
      kind: 'addr',
      op: 'new',
      origin: 'self',
      ifname: 'eth0',
      synthetic: false,
      addr: { label: 'eth0:havip', secondary: true, prefixLen: 24 },
    });
    const again = await cmd.addAddress({ ifindex: a.ifindex, address: '10.232.3.100', prefixLen: 24, label: 'eth0:havip' });
    t.same(again, { ok: true, value: { exists: true } }, 'adding twice reports exists, not an error');

    const r2 = await cmd.addAddress({ ifindex: a.ifindex, address: '10.232.3.101', prefixLen: 32, scope: 'link', label: 'eth0:vip2' });
    t.ok(r2.ok);
    const out2 = (await lab.exec('a', ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
    t.match(out2, /inet 10\.232\.3\.101\/32 scope link eth0:vip2/);
  });

  await t.test('remove the VIP: gone from ip addr; DEL arrives as self', async (t) => {
    const r = await cmd.delAddress({ ifindex: a.ifindex, address: '10.232.3.100', prefixLen: 24 });
    t.same(r, { ok: true, value: { absent: false } });
    const out = (await lab.exec('a', ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
    t.notMatch(out, /10\.232\.3\.100/);
    const e = await next((e) => e.kind === 'addr' && e.op === 'del' && e.addr.address === '10.232.3.100', 'DEL 10.232.3.100');
    t.match(e, { origin: 'self' });
    t.notOk(
      watcher.addresses(a.ifindex).some((x) => x.address === '10.232.3.100'),
      'cache updated',
    );
    const again = await cmd.delAddress({ ifindex: a.ifindex, address: '10.232.3.100', prefixLen: 24 });
    t.same(again, { ok: true, value: { absent: true } }, 'removing twice reports absent, not an error');
  });

  await t.test('external `ip addr del` arrives as a DEL from another process', async (t) => {
    await lab.exec('a', ['ip', 'addr', 'del', '10.232.3.101/32', 'dev', 'eth0']);
    const e = await next((e) => e.kind === 'addr' && e.op === 'del' && e.addr.address === '10.232.3.101', 'external DEL');
    t.match(e, { origin: 'other', ifname: 'eth0', addr: { label: 'eth0:vip2', scope: 253 } });
    if (e.kind === 'addr') t.ok(e.port > 0 && e.port !== cmd.commandPort, `requester port ${e.port}`);
    await lab.exec('a', ['ip', 'addr', 'add', '10.232.3.102/24', 'dev', 'eth0', 'label', 'eth0:ext']);
    const n = await next((e) => e.kind === 'addr' && e.op === 'new' && e.addr.address === '10.232.3.102', 'external NEW');
    t.match(n, { origin: 'other', addr: { label: 'eth0:ext' } });
  });

  await t.test('errors are values', async (t) => {
    const r = await cmd.addAddress({ ifindex: 9999, address: '10.232.3.110', prefixLen: 24 });
    t.equal(r.ok, false);
    if (!r.ok) t.match(r.error, { kind: 'IoError', syscall: 'RTM_NEWADDR', code: 'ENODEV' });
  });

  await t.test('link events: carrier loss, admin down, create and delete', async (t) => {
    await lab.linkDown('a', 'switch');
    const down = await next((e) => e.kind === 'link' && e.link.ifname === 'eth0' && !e.link.running, 'eth0 not running');
    t.match(down, { op: 'new', link: { up: true, running: false, lowerUp: false }, previous: { running: true } });
    await lab.linkUp('a', 'switch');
    const up = await next((e) => e.kind === 'link' && e.link.ifname === 'eth0' && e.link.running, 'eth0 running again');
    t.match(up, { op: 'new', link: { up: true, running: true }, previous: { running: false } });

    await lab.linkDown('a', 'host');
    const adminDown = await next((e) => e.kind === 'link' && e.link.ifname === 'eth0' && !e.link.up, 'eth0 admin down');
    t.match(adminDown, { link: { up: false, running: false } });
    await lab.linkUp('a', 'host');
    await next((e) => e.kind === 'link' && e.link.ifname === 'eth0' && e.link.up && e.link.running, 'eth0 admin up and running');

    await lab.exec('a', ['ip', 'link', 'add', 'vt0', 'type', 'veth', 'peer', 'name', 'vt1']);
    const created = await next((e) => e.kind === 'link' && e.op === 'new' && e.link.ifname === 'vt0', 'vt0 created');
    t.match(created, { previous: undefined });
    await lab.exec('a', ['ip', 'link', 'del', 'vt0']);
    const deleted = await next((e) => e.kind === 'link' && e.op === 'del' && e.link.ifname === 'vt0', 'vt0 deleted');
    t.match(deleted, { op: 'del', link: { ifname: 'vt0' } });
    t.equal(watcher.link('vt0'), undefined, 'cache forgot vt0');
  });

  await t.test('virtual_routes and virtual_rules', async (t) => {
    const b = lab.host('b');
    const route = { dst: '10.99.0.0', prefixLen: 24, gateway: b.ip, ifindex: a.ifindex, metric: 7 };
    t.same(await cmd.addRoute(route), { ok: true, value: { exists: false } });
    t.match(
      (await lab.exec('a', ['ip', 'route', 'show', '10.99.0.0/24'])).stdout,
      /10\.99\.0\.0\/24 via 10\.232\.3\.2 dev eth0 proto keepalived metric 7/,
    );
    t.same(await cmd.addRoute(route), { ok: true, value: { exists: true } });
    t.same(await cmd.delRoute(route), { ok: true, value: { absent: false } });
    t.equal((await lab.exec('a', ['ip', 'route', 'show', '10.99.0.0/24'])).stdout.trim(), '');
    t.same(await cmd.delRoute(route), { ok: true, value: { absent: true } });

    const onLink = { dst: '10.98.0.0', prefixLen: 16, ifindex: a.ifindex, src: a.ip, table: 100 };
    t.ok((await cmd.addRoute(onLink)).ok);
    t.match(
      (await lab.exec('a', ['ip', 'route', 'show', 'table', '100'])).stdout,
      /10\.98\.0\.0\/16 dev eth0 proto keepalived scope link src 10\.232\.3\.1/,
    );
    const bh = { dst: '10.97.0.0', prefixLen: 24, type: 'blackhole' as const, table: 1000 };
    t.ok((await cmd.addRoute(bh)).ok);
    t.match((await lab.exec('a', ['ip', 'route', 'show', 'table', '1000'])).stdout, /blackhole 10\.97\.0\.0\/24 proto keepalived/);
    t.ok((await cmd.delRoute(onLink)).ok);
    t.ok((await cmd.delRoute(bh)).ok);

    const rule = { from: { address: '10.232.3.100', prefixLen: 32 }, table: 100, priority: 1234 };
    t.same(await cmd.addRule(rule), { ok: true, value: { exists: false } });
    t.match((await lab.exec('a', ['ip', 'rule', 'show'])).stdout, /1234:\s+from 10\.232\.3\.100 lookup 100/);
    t.same(await cmd.delRule(rule), { ok: true, value: { absent: false } });
    t.notMatch((await lab.exec('a', ['ip', 'rule', 'show'])).stdout, /1234:/);
    t.same(await cmd.delRule(rule), { ok: true, value: { absent: true } });

    const bad = await cmd.addRoute({ dst: '10.96.0.0', prefixLen: 24 });
    t.equal(bad.ok, false, 'unicast route without gateway or device is refused');
  });

  await t.test('resync with no change emits nothing', async (t) => {
    const before = events.length;
    const r = await watcher.resync();
    t.ok(r.ok);
    t.equal(events.length, before);
  });
});
