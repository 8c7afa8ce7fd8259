/**
 * keepalived's dump signals for `vrrpd run` (docs/keepalived-behaviour.md 4.4, 6): SIGUSR1 data, SIGUSR2 stats,
 * SIGRTMIN+2 JSON. A signal only enqueues the dump on the daemon's queue (runtime/dumps.ts
 * writeDump); process signal handling stays here, in the composition root.
 */
import type { Log } from '../log.js';
import { SIGJSON, writeDump, type DumpHost, type DumpKind, type DumpSource } from '../runtime/dumps.js';

interface SignalWrap {
  onsignal: ((signum: number) => void) | undefined;
  start(signum: number): number;
  close(): void;
  unref(): void;
}

/**
 * Listen for a signal by number (Node names no real-time signals). Uses Node's internal
 * signal_wrap binding, the one `process.on('SIGUSR1')` uses; returns null if unavailable.
 */
function listenSignalNumber(signum: number, fn: () => void): (() => void) | null {
  const prev = process.noDeprecation;
  try {
    process.noDeprecation = true; // process.binding() is deprecated (DEP0111) but stable for this
    const binding = (process as unknown as { binding(name: string): { Signal: new () => SignalWrap } }).binding('signal_wrap');
    const w = new binding.Signal();
    w.onsignal = () => fn();
    if (w.start(signum) !== 0) {
      w.close();
      return null;
    }
    w.unref();
    return () => w.close();
  } catch {
    return null;
  } finally {
    process.noDeprecation = prev;
  }
}

/**
 * Install the handlers; returns a function that removes them. Without a handler SIGRTMIN+2 would
 * terminate the daemon, so failing to install it is logged as a warning.
 */
export function installDumpSignals(src: DumpSource, host: DumpHost, log: Log): () => void {
  const fire = (kind: DumpKind) => (): void => {
    writeDump(kind, src, host, log).catch(() => {});
  };
  const onUsr1 = fire('data');
  const onUsr2 = fire('stats');
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  const closeJson = listenSignalNumber(SIGJSON, fire('json'));
  if (closeJson === null)
    log.warn({}, `cannot handle signal ${SIGJSON} (SIGRTMIN+2): the JSON dump is unavailable and that signal would stop vrrpd`);
  return () => {
    process.removeListener('SIGUSR1', onUsr1);
    process.removeListener('SIGUSR2', onUsr2);
    closeJson?.();
  };
}
