/**
 * Netlink and socket errors injected at the ports (issue 6 item 2, unit level on fake ports, no
 * root): the daemon never throws, counts the errors, keeps its state machine and advert cadence,
 * and stops in bounded time. Errors are the IoError values io/ returns (errno + syscall).
 */
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import type { AddrSpec, IoResult } from '../../src/runtime/ports/index.js';
import { memoryHost, ONE_INSTANCE_CONF } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';

const CONF = ONE_INSTANCE_CONF;

const err = (syscall: string, code: string, errno: number) => ({
  ok: false as const,
  error: { kind: 'IoError' as const, syscall, errno, code, message: code },
});

class FaultyIo extends FakeIo {
  failAdd = 0;
  failDel = 0;
  failSend = 0;
  constructor() {
    super();
    const add = this.netlink.addAddress;
    const del = this.netlink.delAddress;
    const send = this.sockets.send;
    this.netlink.addAddress = async (s: AddrSpec): Promise<IoResult<{ exists: boolean }>> =>
      this.failAdd-- > 0 ? err('RTM_NEWADDR', 'EPERM', 1) : add(s);
    this.netlink.delAddress = async (s: AddrSpec): Promise<IoResult<{ absent: boolean }>> =>
      this.failDel-- > 0 ? err('RTM_DELADDR', 'ENOBUFS', 105) : del(s);
    this.sockets.send = async (ifname: string, pkt: Uint8Array): Promise<IoResult<number>> =>
      this.failSend-- > 0 ? err('sendto', 'ENETDOWN', 100) : send(ifname, pkt);
  }
}

async function boot(io: FaultyIo) {
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': CONF }));
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log, vipDeleted: 'restore' }));
  const s = await d.start(r.config!);
  if (!s.ok) throw new Error(s.error.message);
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  return { d, log, advance, st: () => d.status().instances[0]! };
}

t.test('RTM_NEWADDR fails (EPERM) when becoming MASTER: counted, logged, MASTER keeps advertising', async (t) => {
  const io = new FaultyIo();
  io.failAdd = 1;
  const { d, log, advance, st } = await boot(io);
  await advance(4000);
  t.equal(st().state, 'MASTER');
  t.ok((st().counters.addressErrors ?? 0) >= 1, `addressErrors ${st().counters.addressErrors}`);
  t.ok(
    log.messages().some((m) => /EPERM|10\.0\.0\.100/.test(m)),
    'the failure is logged',
  );
  const n = io.adverts().length;
  await advance(3000);
  t.equal(io.adverts().length - n, 3, 'one advert per second after the error');
  t.ok(d.status().instances.length === 1, 'status still answers');
});

t.test('sendto fails (ENETDOWN) 5 times in a row: counted, no transition, cadence resumes', async (t) => {
  const io = new FaultyIo();
  const { advance, st } = await boot(io);
  await advance(4000);
  t.equal(st().state, 'MASTER');
  io.failSend = 5;
  const sent = io.sent.length;
  await advance(8000);
  t.equal(st().state, 'MASTER', 'a send error is not a reason to leave MASTER');
  t.ok((st().counters.advertSendErrors ?? 0) >= 5, `advertSendErrors ${st().counters.advertSendErrors}`);
  t.ok(io.sent.length - sent >= 3, 'adverts go out again once sendto works');
});

t.test('RTM_DELADDR fails (ENOBUFS) during stop: stop completes in bounded time', async (t) => {
  const io = new FaultyIo();
  const { d, advance, st } = await boot(io);
  await advance(4000);
  t.equal(st().state, 'MASTER');
  io.failDel = 100;
  const t0 = Date.now();
  const stop = d.stop(200);
  for (let i = 0; i < 20; i++) await advance(100);
  await stop;
  t.ok(Date.now() - t0 < 3000, 'stopped');
});

t.test('netlink events for unknown interfaces and addresses are ignored', async (t) => {
  const io = new FaultyIo();
  const { advance, st } = await boot(io);
  await advance(4000);
  io.addLink('ghost0', 99, '10.9.9.9', true);
  io.deleteAddress('10.9.9.9');
  io.setLink('ghost0', false);
  await advance(2000);
  t.equal(st().state, 'MASTER');
});
