/**
 * Trackers over fake ports for the track_process tests (not a test file): the instances of `text`
 * as MASTER, every link up, work items queued and run by `drain`, and optionally a fake source of
 * the kernel's process events (without one, /proc is scanned).
 */
import { MemoryLog } from '../../src/log.js';
import { openGate } from '../../src/notify/security.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import type { ProcessEvents } from '../../src/runtime/ports/index.js';
import type { Instance } from '../../src/runtime/instance.js';
import { Trackers } from '../../src/runtime/trackers.js';
import { configFromText } from '../support/config-host.js';
import { fakeEnv, instanceIn } from './fake-env.js';
import { FakeIo } from './fake-io.js';

export interface TrackersSetupOptions {
  readonly procEvents?: ProcessEvents;
  /** The instances' state (default MASTER). */
  readonly state?: 'MASTER' | 'BACKUP';
  /** Whether an interface is up (default: every one). */
  readonly isUp?: (ifname: string) => boolean;
}

export function trackersSetup(text: string, o: TrackersSetupOptions = {}) {
  const io = new FakeIo();
  const f = fakeEnv();
  let insts: Instance[] = instanceSpecs(configFromText(text)).map((s) => instanceIn(s, f, o.state ?? 'MASTER'));
  const procEvents = o.procEvents;
  const queue: (() => void | Promise<void>)[] = [];
  const log = new MemoryLog();
  const trackers = new Trackers({
    clock: io.clock,
    runner: io.processes,
    files: io.files,
    procTable: io.procTable,
    ...(procEvents !== undefined ? { procEvents } : {}),
    gate: openGate(log),
    log,
    submit: (_w, fn) => void queue.push(fn),
    instances: () => insts,
    isUp: o.isUp ?? (() => true),
  });
  const drain = async (): Promise<void> => {
    for (let fn = queue.shift(); fn !== undefined; fn = queue.shift()) await fn();
  };
  return {
    io,
    f,
    trackers,
    inst: insts[0]!,
    drain,
    log,
    get insts(): Instance[] {
      return insts;
    },
    /** Replace the instances the trackers see (a reload). */
    set: (l: Instance[]) => void (insts = l),
  };
}
