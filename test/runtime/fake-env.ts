/**
 * A recording InstanceEnv for unit tests of one shipped Instance (no daemon): a fake clock, every
 * host address change and GARP request recorded in order, scripted failures.
 */
import { MemoryLog } from '../../src/log.js';
import { step } from '../../src/protocol/fsm.js';
import type { GarpPacket } from '../../src/protocol/garp-schedule.js';
import { FakeClock } from '../support/fake-clock.js';
import { entryText, type AddressKindEntry } from '../../src/runtime/entries.js';
import { Instance, type InstanceEnv } from '../../src/runtime/instance.js';
import type { InstanceSpec } from '../../src/runtime/params.js';
import type { IoResult } from '../../src/runtime/ports/index.js';

export interface AddressCall {
  readonly add: boolean;
  readonly kind: AddressKindEntry['kind'];
  readonly key: string;
  readonly defaultIf: string | null;
}

export interface FakeEnv {
  readonly env: InstanceEnv;
  readonly fake: FakeClock;
  readonly log: MemoryLog;
  /** Every InstanceEnv.setAddress call, in order. */
  readonly addressCalls: AddressCall[];
  /** Every InstanceEnv.garp call, in order. */
  readonly garps: { ifname: string; packets: readonly GarpPacket[]; intervalMs: number }[];
  /** Every packet sent, in order. */
  readonly sent: { ifname: string; packet: Uint8Array }[];
  /** Fail the next setAddress calls with this errno code. */
  failNext(count: number, code: string): void;
}

export function fakeEnv(): FakeEnv {
  const fake = new FakeClock(1_000_000);
  const log = new MemoryLog();
  const addressCalls: AddressCall[] = [];
  const garps: FakeEnv['garps'] = [];
  const sent: FakeEnv['sent'] = [];
  let failing = 0;
  let failCode = 'EPERM';
  const env: InstanceEnv = {
    clock: {
      nowMs: () => fake.now(),
      wallMs: () => 1_700_000_000_000 + fake.now(),
      setTimer: (ms, cb) => {
        const id = fake.setTimeout(cb, Math.max(0, ms));
        return { cancel: () => fake.cancel(id) };
      },
    },
    log,
    submit: (_what, fn) => void fn(),
    step: (inst, e) => inst.apply(step(inst.snapshot, e)),
    sendPacket: async (ifname, packet): Promise<IoResult<number>> => {
      sent.push({ ifname, packet });
      return { ok: true, value: packet.length };
    },
    sendPacket6: (_inst, ifname, message): IoResult<number> => {
      sent.push({ ifname, packet: message });
      return { ok: true, value: message.length };
    },
    setAddress: async (add, item, defaultIf): Promise<IoResult<unknown>> => {
      const key = entryText(item);
      addressCalls.push({ add, kind: item.kind, key, defaultIf });
      if (failing > 0) {
        failing--;
        return {
          ok: false,
          error: { kind: 'IoError', syscall: add ? 'RTM_NEWADDR' : 'RTM_DELADDR', errno: 1, code: failCode, message: failCode },
        };
      }
      return { ok: true, value: undefined };
    },
    garp: (ifname, packets, intervalMs) => void garps.push({ ifname, packets: [...packets], intervalMs }),
    notify: () => {},
  };
  return {
    env,
    fake,
    log,
    addressCalls,
    garps,
    sent,
    failNext: (count, code) => {
      failing = count;
      failCode = code;
    },
  };
}

/** A shipped Instance on the fake env, put in `state` (the snapshot field; no step taken). */
export function instanceIn(spec: InstanceSpec, f: FakeEnv, state: 'MASTER' | 'BACKUP' = 'MASTER'): Instance {
  const inst = new Instance(spec, f.env);
  inst.setSource('10.0.0.1', null);
  inst.snapshot = { ...inst.snapshot, state, started: true };
  return inst;
}
