/**
 * The raw socket's send queue is bounded (issue 10 audit): a socket whose buffer never drains
 * (a stuck driver: every sendto EAGAIN, POLLOUT never comes) holds at most RAW_SEND_QUEUE_MAX
 * sends; the rest fail at once with ENOBUFS and are counted. A fake raw-socket module, no root.
 */
import t from 'tap';
import { RAW_SEND_QUEUE_MAX, RawVrrpTransport, type RawSocket, type RawSocketModule } from '../../src/io/raw-transport.js';

/** A raw socket whose queued sends never complete. */
function stuckModule(): { mod: RawSocketModule; queued: () => number } {
  let queued = 0;
  const sock: RawSocket = {
    setOption() {},
    send() {
      queued++; // raw-socket would queue it until POLLOUT, which never comes
      return undefined;
    },
    on() {
      return undefined;
    },
    close() {},
  };
  return { mod: { createSocket: () => sock }, queued: () => queued };
}

function packet(): Uint8Array {
  const p = new Uint8Array(40);
  p[0] = 0x45;
  p.set([224, 0, 0, 18], 16);
  return p;
}

t.test(`a socket that never drains holds at most RAW_SEND_QUEUE_MAX (${RAW_SEND_QUEUE_MAX}) sends`, async (t) => {
  const { mod, queued } = stuckModule();
  const tr = new RawVrrpTransport({ onPacket: () => {}, rawSocketModule: mod });
  t.ok(tr.open('eth9', { ifindex: 9, groups: [] }).ok);
  const results: { ok: boolean; code?: string | undefined }[] = [];
  for (let i = 0; i < RAW_SEND_QUEUE_MAX + 500; i++)
    void tr.send('eth9', packet()).then((r) => results.push(r.ok ? { ok: true } : { ok: false, code: r.error.code }));
  await new Promise((r) => setImmediate(r));
  t.equal(queued(), RAW_SEND_QUEUE_MAX, 'only the bound reached the socket queue');
  t.equal(results.length, 500, 'the rest settled at once');
  t.ok(
    results.every((r) => !r.ok && r.code === 'ENOBUFS'),
    'with ENOBUFS',
  );
  t.equal(tr.interfaces()[0]?.txErrors, 500, 'counted as send errors');
  tr.close('eth9');
  await new Promise((r) => setImmediate(r));
  t.equal(results.length, RAW_SEND_QUEUE_MAX + 500, 'closing settles the queued ones (ECANCELED)');
});
