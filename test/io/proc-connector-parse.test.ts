/**
 * The proc connector's message parser and request (src/io/proc-connector.ts), on crafted buffers:
 * each handled event in both byte orders, the messages ignored, and every malformed or truncated
 * message dropped as such, never thrown on. No root, no socket.
 */
import t from 'tap';
import {
  eventFilter,
  type BpfInsn,
  CN_IDX_PROC,
  CN_VAL_PROC,
  mcastMessage,
  parseProcMessage,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  PROC_EVENT_COMM,
  PROC_EVENT_EXEC,
  PROC_EVENT_EXIT,
  PROC_EVENT_FORK,
  PROC_EVENT_NONE,
} from '../../src/io/proc-connector.js';

interface Msg {
  what: number;
  data: number[];
  comm?: string;
  ack?: number;
  seq?: number;
  idx?: number;
  type?: number;
  /** cn_msg.len; default the whole proc_event (40 bytes, as the kernel sends). */
  cnLen?: number;
}

/** A message as the kernel lays it out: nlmsghdr (16), cn_msg (20), proc_event (40). */
function message(m: Msg, le = true): Buffer {
  const b = Buffer.alloc(76);
  const w32 = (v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  const w16 = (v: number, off: number) => (le ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  w32(76, 0);
  w16(m.type ?? 3, 4);
  w32(m.idx ?? CN_IDX_PROC, 16);
  w32(CN_VAL_PROC, 20);
  w32(m.seq ?? 7, 24);
  w32(m.ack ?? 0, 28);
  w16(m.cnLen ?? 40, 32);
  w32(m.what, 36);
  w32(1, 40); // cpu
  m.data.forEach((v, i) => w32(v, 52 + 4 * i));
  if (m.comm !== undefined) b.write(m.comm, 60, 16, 'utf8');
  return b;
}

t.test('each handled event, little and big endian', async (t) => {
  for (const le of [true, false]) {
    const p = (m: Msg) => parseProcMessage(message(m, le), 76, le);
    t.match(p({ what: PROC_EVENT_FORK, data: [100, 100, 101, 101] }), {
      kind: 'event',
      event: { kind: 'fork', parentTgid: 100, childPid: 101, childTgid: 101 },
      seq: 7,
    });
    t.match(p({ what: PROC_EVENT_EXEC, data: [200, 199] }), { kind: 'event', event: { kind: 'exec', pid: 200, tgid: 199 } });
    t.match(p({ what: PROC_EVENT_EXIT, data: [300, 300, 9, 17] }), { kind: 'event', event: { kind: 'exit', pid: 300, tgid: 300 } });
    t.match(p({ what: PROC_EVENT_COMM, data: [400, 400], comm: 'vtp-name' }), {
      kind: 'event',
      event: { kind: 'comm', pid: 400, tgid: 400, comm: 'vtp-name' },
    });
    t.match(p({ what: PROC_EVENT_NONE, data: [0], ack: 5 }), { kind: 'event', event: { kind: 'ack', err: 0 }, ack: 5 });
    t.match(p({ what: PROC_EVENT_NONE, data: [1], ack: 5 }), { kind: 'event', event: { kind: 'ack', err: 1 } });
  }
  const full = parseProcMessage(message({ what: PROC_EVENT_COMM, data: [1, 1], comm: 'abcdefghijklmnop' }), 76);
  t.match(full, { event: { comm: 'abcdefghijklmnop' } }, 'a comm filling its 16 bytes without a NUL');
});

t.test('ignored: other events, not the proc connector, netlink noop and error, acks that are not acks', async (t) => {
  const ignored = (m: Msg, why: string) => t.same(parseProcMessage(message(m), 76), { kind: 'ignored' }, why);
  ignored({ what: 0x4, data: [1, 1] }, 'uid change');
  ignored({ what: 0x40000000, data: [1, 1] }, 'coredump');
  ignored({ what: PROC_EVENT_EXEC, data: [1, 1], idx: 2 }, 'another connector index');
  ignored({ what: PROC_EVENT_EXEC, data: [1, 1], type: 1 }, 'NLMSG_NOOP');
  ignored({ what: PROC_EVENT_EXEC, data: [1, 1], type: 2 }, 'NLMSG_ERROR');
  ignored({ what: PROC_EVENT_NONE, data: [0], ack: 0 }, 'PROC_EVENT_NONE without ack');
  ignored({ what: PROC_EVENT_EXEC, data: [1, 1], ack: 3 }, 'an event with ack set');
});

t.test('malformed and truncated messages are dropped as such', async (t) => {
  const bad = (b: Buffer, len: number, why: string) => t.match(parseProcMessage(b, len), { kind: 'malformed' }, why);
  const exec = message({ what: PROC_EVENT_EXEC, data: [5, 5] });
  bad(exec, 10, 'shorter than a netlink header');
  bad(exec, 60, 'nlmsg_len past what was received');
  const short = Buffer.from(exec);
  short.writeUInt32LE(20, 0);
  bad(short, 76, 'nlmsg_len without room for cn_msg');
  bad(message({ what: PROC_EVENT_EXEC, data: [5, 5], cnLen: 60 }), 76, 'cn_msg len past nlmsg_len');
  bad(message({ what: PROC_EVENT_EXEC, data: [5, 5], cnLen: 8 }), 76, 'cn_msg len shorter than a proc_event header');
  bad(message({ what: PROC_EVENT_EXEC, data: [5, 5], cnLen: 20 }), 76, 'exec without its tgid');
  bad(message({ what: PROC_EVENT_FORK, data: [1, 1, 2, 2], cnLen: 28 }), 76, 'fork without its child tgid');
  bad(message({ what: PROC_EVENT_COMM, data: [1, 1], comm: 'x', cnLen: 30 }), 76, 'comm cut short');
  bad(message({ what: PROC_EVENT_NONE, data: [0], ack: 1, cnLen: 16 }), 76, 'ack without its error');
  // every truncation of a valid message: a value, never a throw, never an event
  for (const m of [
    message({ what: PROC_EVENT_FORK, data: [1, 1, 2, 2] }),
    message({ what: PROC_EVENT_COMM, data: [1, 1], comm: 'c' }),
    message({ what: PROC_EVENT_EXIT, data: [1, 1] }),
  ]) {
    let events = 0;
    for (let n = 0; n < 76; n++) {
      const r = parseProcMessage(m.subarray(0, n), n);
      if (r.kind === 'event') events++;
    }
    t.equal(events, 0, 'no truncation of the 76 bytes parses as an event');
  }
  t.equal(parseProcMessage(exec, 200).kind, 'event', 'a length past the buffer is cut to the buffer');
});

t.test('random bytes never throw', async (t) => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
  const base = message({ what: PROC_EVENT_FORK, data: [1, 1, 2, 2] });
  let thrown = 0;
  const kinds = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const b = i % 2 === 0 ? Buffer.from(base) : Buffer.alloc(rnd() % 100);
    for (let j = 0; j < 1 + (rnd() % 6); j++) if (b.length > 0) b[rnd() % b.length] = rnd() & 0xff;
    try {
      kinds.add(parseProcMessage(b, rnd() % 120).kind);
    } catch {
      thrown++;
    }
  }
  t.equal(thrown, 0, 'no throw');
  t.ok(kinds.has('malformed') && kinds.has('event'), `both kinds seen (${[...kinds].join(', ')})`);
});

t.test('the LISTEN and IGNORE requests', async (t) => {
  const b = mcastMessage(PROC_CN_MCAST_LISTEN, 0xabcdef, true);
  t.equal(b.length, 40, 'nlmsghdr + cn_msg + the op');
  t.equal(b.readUInt32LE(0), 40, 'nlmsg_len');
  t.equal(b.readUInt16LE(4), 3, 'NLMSG_DONE');
  t.same([b.readUInt32LE(16), b.readUInt32LE(20)], [CN_IDX_PROC, CN_VAL_PROC], 'the proc connector');
  t.equal(b.readUInt32LE(28), 0xabcdef, 'our nonce in cn_msg.ack');
  t.equal(b.readUInt16LE(32), 4, 'cn_msg.len: the op');
  t.equal(b.readUInt32LE(36), PROC_CN_MCAST_LISTEN);
  t.equal(mcastMessage(PROC_CN_MCAST_IGNORE, 1, false).readUInt32BE(36), PROC_CN_MCAST_IGNORE, 'big endian');
});

/** A classic BPF interpreter for what eventFilter uses: ld word abs (big-endian), tax, jeq k/x, ret k. */
function runBpf(prog: readonly BpfInsn[], pkt: Buffer): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < prog.length;) {
    const i = prog[pc]!;
    switch (i.code) {
      case 0x20:
        if (i.k + 4 > pkt.length) return 0; // the kernel drops on a load past the end
        a = pkt.readUInt32BE(i.k);
        pc++;
        break;
      case 0x07:
        x = a;
        pc++;
        break;
      case 0x15:
        pc += 1 + (a === i.k >>> 0 ? i.jt : i.jf);
        break;
      case 0x1d:
        pc += 1 + (a === x ? i.jt : i.jf);
        break;
      case 0x06:
        return i.k;
      default:
        throw new Error(`opcode ${i.code}`);
    }
  }
  throw new Error('fell off the end');
}

t.test('the socket filter keeps exactly the events used, in both byte orders', async (t) => {
  for (const le of [true, false]) {
    const prog = eventFilter(le);
    t.ok(prog.length <= 64, 'a short program');
    prog.forEach((ins, pc) => t.ok(pc + 1 + Math.max(ins.jt, ins.jf) <= prog.length, `jump ${pc} stays inside`));
    const keeps = (m: Msg) => runBpf(prog, message(m, le)) !== 0;
    t.ok(keeps({ what: PROC_EVENT_FORK, data: [1, 1, 2, 2] }), 'fork of a process');
    t.notOk(keeps({ what: PROC_EVENT_FORK, data: [1, 1, 3, 2] }), 'fork of a thread');
    t.ok(keeps({ what: PROC_EVENT_EXIT, data: [5, 5] }), 'exit of a process');
    t.notOk(keeps({ what: PROC_EVENT_EXIT, data: [6, 5] }), 'exit of a thread');
    t.ok(keeps({ what: PROC_EVENT_EXEC, data: [6, 5] }), 'exec (the runtime looks at pid and tgid)');
    t.ok(keeps({ what: PROC_EVENT_COMM, data: [5, 5], comm: 'x' }), 'comm');
    t.ok(keeps({ what: PROC_EVENT_NONE, data: [0], ack: 3 }), 'ack');
    t.notOk(keeps({ what: 0x4, data: [5, 5] }), 'uid');
    t.notOk(keeps({ what: 0x80, data: [5, 5] }), 'sid');
    t.notOk(runBpf(prog, message({ what: PROC_EVENT_EXIT, data: [5, 5] }, le).subarray(0, 40)) !== 0, 'a short message');
  }
});
