/**
 * The config loader off the event loop: `vrrpd run` (at start and on every reload) and `vrrpd check`
 * load the config in a worker thread, so the daemon's adverts and timers keep running while a file
 * is read, whatever the file does. The reader's own limits (src/config/limits.ts) end a hostile file
 * quickly; what they cannot bound (a host call that hangs: an NFS mount, a user lookup, a FIFO on
 * `check -f`) ends at CONFIG_LOAD_TIMEOUT_MS, and memory at CONFIG_LOAD_HEAP_MB. A load that does
 * not finish is an outcome with a reason, never a crash of the caller; the daemon keeps its running
 * config.
 *
 * The worker runs the same loadConfig() with the same host as the main thread would, and the result
 * comes back by structured clone: the model is plain data (model.ts), so the clone is equal to what
 * the main thread would have built; it is frozen again here.
 */
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../config/diagnostics.js';
import type { LoadLimits } from '../config/limits.js';
import type { LoadResult } from '../config/load.js';
import { deepFreeze } from '../config/model.js';

/** Wall-clock bound of one load, from the worker's start (the 1,000-instance config takes ~0.5 s). */
export const CONFIG_LOAD_TIMEOUT_MS = 5000;
/** V8 old-space bound of the loader's worker, MB (the 1,000-instance config loads in 32). */
export const CONFIG_LOAD_HEAP_MB = 128;

/** What to load, and how (the worker builds the real host from it). */
export interface LoadRequest {
  readonly file: string;
  /** keepalived -i. */
  readonly configId?: string;
  /** Check interfaces, scripts and users against this host (default true). */
  readonly hostChecks?: boolean;
  /** keepalived -e. */
  readonly allConfig?: boolean;
  /** The main file must be a regular file (the daemon). */
  readonly mainRegularOnly?: boolean;
  /** Replace some of the reader's limits (tests). */
  readonly limits?: Partial<LoadLimits>;
  /** Refuse what the daemon cannot run yet (src/config/runtime-support.ts): `run`, reload and `check`. */
  readonly runtimeSupport?: boolean;
  /**
   * Send back a LoadSummary, not the LoadResult: the model stays in the worker (`check` without
   * --print; the model's structured clone is ~70 ms of the 1,000-instance check).
   */
  readonly summaryOnly?: boolean;
}

/** What a `summaryOnly` load sends back: what `check` prints without --print. */
export interface LoadSummary {
  readonly diagnostics: readonly Diagnostic[];
  /** `keepalived -t`'s exit code for this config. */
  readonly exitCode: number;
  /** The number of instances the daemon would start; undefined when it would refuse the config. */
  readonly instances: number | undefined;
}

/** A LoadResult's summary. */
export function loadSummary(r: LoadResult): LoadSummary {
  return { diagnostics: r.diagnostics, exitCode: r.exitCode, instances: r.config?.instances.length };
}

/** What `vrrpd run` loads, at start and on reload: a regular file, refused when the runtime cannot run it. */
export function daemonLoadRequest(a: {
  readonly file: string;
  readonly configId?: string | undefined;
  readonly allConfig?: boolean;
}): LoadRequest {
  return {
    file: a.file,
    mainRegularOnly: true,
    runtimeSupport: true,
    ...(a.configId !== undefined ? { configId: a.configId } : {}),
    ...(a.allConfig === true ? { allConfig: true } : {}),
  };
}

/** What `vrrpd check` loads: as the daemon would (what it cannot run is refused), any kind of file. */
export function checkLoadRequest(a: {
  readonly file: string;
  readonly configId?: string | undefined;
  readonly hostChecks: boolean;
  readonly allConfig: boolean;
}): LoadRequest {
  return {
    file: a.file,
    hostChecks: a.hostChecks,
    allConfig: a.allConfig,
    runtimeSupport: true,
    ...(a.configId !== undefined ? { configId: a.configId } : {}),
  };
}

export interface LoaderOptions {
  /** Default CONFIG_LOAD_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Default CONFIG_LOAD_HEAP_MB. */
  readonly heapMb?: number;
  /** Abort (the daemon stopping): the worker is terminated and the outcome is `aborted`. */
  readonly signal?: AbortSignal;
}

export type LoadFailure = 'timeout' | 'memory' | 'crash' | 'aborted';

/** A load that did not finish, and why. */
export interface LoadFailed {
  readonly ok: false;
  readonly reason: LoadFailure;
  readonly message: string;
}

export type LoadOutcome = { readonly ok: true; readonly result: LoadResult } | LoadFailed;
export type SummaryOutcome = { readonly ok: true; readonly summary: LoadSummary } | LoadFailed;

/** Set by scripts/bundle.mjs in the bundle: its worker entry is one CommonJS file. */
declare const __VRRPD_CONFIG_WORKER__: string | undefined;
/** The worker's entry, beside this file: config-worker.js (tsc's output), or the bundle's own. */
const WORKER_URL = new URL(typeof __VRRPD_CONFIG_WORKER__ === 'string' ? __VRRPD_CONFIG_WORKER__ : './config-worker.js', import.meta.url);

/**
 * How long a worker that finished a load waits for the next one before it is ended (unreferenced
 * meanwhile, so it never keeps a process alive): loads in a row (tests, a burst of reloads) skip the
 * thread's start-up, and a daemon holds no idle thread for long.
 */
const IDLE_WORKER_MS = 2000;

let idle: { worker: Worker; heapMb: number; timer: NodeJS.Timeout } | undefined;
let nextId = 1;

/** The idle worker if it has the wanted heap bound, else a new one. */
function takeWorker(heapMb: number): Worker {
  const w = idle;
  idle = undefined;
  if (w !== undefined) {
    clearTimeout(w.timer);
    if (w.heapMb === heapMb) {
      w.worker.ref();
      return w.worker;
    }
    void w.worker.terminate().catch(() => undefined);
  }
  return new Worker(WORKER_URL, { execArgv: workerExecArgv(), resourceLimits: { maxOldGenerationSizeMb: heapMb } });
}

/**
 * The parent's Node options that the worker needs to load its modules (a test runner's loader
 * hooks, source maps), and nothing else: a worker refuses V8 options and options about the process
 * (`--max-semi-space-size`, `--trace-gc`, `--heapsnapshot-signal`, `-e`...), so passing the whole
 * of `process.execArgv` would make every load fail as soon as the daemon runs with one of them.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (!WORKER_FLAGS.has(name)) continue;
    out.push(a);
    // `--import X`: the value is the next word
    if (!a.includes('=') && WITH_VALUE.has(name) && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

/** Module-loading options a worker accepts and needs. */
const WORKER_FLAGS: ReadonlySet<string> = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--conditions',
  '-C',
  '--enable-source-maps',
  '--no-warnings',
  '--no-deprecation',
]);
const WITH_VALUE: ReadonlySet<string> = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);

function parkWorker(worker: Worker, heapMb: number): void {
  if (idle !== undefined) {
    void worker.terminate().catch(() => undefined);
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    if (idle?.worker === worker) idle = undefined;
    void worker.terminate().catch(() => undefined);
  }, IDLE_WORKER_MS);
  timer.unref();
  idle = { worker, heapMb, timer };
  worker.once('exit', () => {
    if (idle?.worker === worker) {
      clearTimeout(idle.timer);
      idle = undefined;
    }
  });
}

/**
 * Load `req.file` in a worker thread. Resolves (never rejects) with the LoadResult, or with why there
 * is none; the caller must check `ok`. The result's model is deeply frozen.
 */
export function loadConfigOffThread(req: LoadRequest, o: LoaderOptions = {}): Promise<LoadOutcome> {
  return offThread({ ...req, summaryOnly: false }, o, (r) => {
    if (!isLoadResult(r)) return undefined;
    deepFreeze(r.partial);
    return { ok: true, result: r };
  });
}

/** As loadConfigOffThread, but only the LoadSummary comes back (the model stays in the worker). */
export function summarizeConfigOffThread(req: LoadRequest, o: LoaderOptions = {}): Promise<SummaryOutcome> {
  return offThread({ ...req, summaryOnly: true }, o, (r) => (isLoadSummary(r) ? { ok: true, summary: r } : undefined));
}

/** `vrrpd check`'s load: the model comes back only when it is to be printed (--print). */
export function loadForCheck(
  a: Parameters<typeof checkLoadRequest>[0] & { readonly print?: string | undefined },
): Promise<LoadOutcome | SummaryOutcome> {
  const req = checkLoadRequest(a);
  return a.print === undefined ? summarizeConfigOffThread(req) : loadConfigOffThread(req);
}

/** One request to a worker; `accept` takes the worker's `result`, or returns undefined for a bad one. */
function offThread<T extends { readonly ok: true }>(
  req: LoadRequest,
  o: LoaderOptions,
  accept: (result: unknown) => T | undefined,
): Promise<T | LoadFailed> {
  const timeoutMs = o.timeoutMs ?? CONFIG_LOAD_TIMEOUT_MS;
  const heapMb = o.heapMb ?? CONFIG_LOAD_HEAP_MB;
  const what = `Loading '${req.file}'`;
  return new Promise<T | LoadFailed>((resolve) => {
    if (o.signal?.aborted) {
      resolve({ ok: false, reason: 'aborted', message: `${what} was cancelled` });
      return;
    }
    let worker: Worker;
    try {
      worker = takeWorker(heapMb);
    } catch (e) {
      resolve({ ok: false, reason: 'crash', message: `${what} failed: cannot start the loader thread: ${errText(e)}` });
      return;
    }
    const id = nextId++;
    let done = false;
    const finish = (out: T | LoadFailed, reusable = false): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reusable) parkWorker(worker, heapMb);
      else {
        // a worker stuck in a system call cannot be stopped at once: it must not hold the process
        worker.unref();
        void worker.terminate().catch(() => undefined);
      }
      resolve(out);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted', message: `${what} was cancelled` });
    const onMessage = (m: unknown): void => {
      const out = (m as { id?: unknown } | null)?.id === id ? accept((m as { result?: unknown }).result) : undefined;
      if (out === undefined) finish({ ok: false, reason: 'crash', message: `${what} failed: the loader thread sent no result` });
      else finish(out, true);
    };
    const onError = (e: Error & { code?: string }): void => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        finish({ ok: false, reason: 'memory', message: `${what} needed more than ${heapMb} MB (CONFIG_LOAD_HEAP_MB)` });
      } else finish({ ok: false, reason: 'crash', message: `${what} failed: ${errText(e)}` });
    };
    const onExit = (code: number): void =>
      finish({ ok: false, reason: 'crash', message: `${what} failed: the loader thread exited (code ${code}) without a result` });
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout', message: `${what} did not finish within ${timeoutMs} ms (CONFIG_LOAD_TIMEOUT_MS)` }),
      timeoutMs,
    );
    o.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id, req });
  });
}

/**
 * A failed load as a diagnostic, for `check` and the daemon's log: fatal, counted as a config error
 * (exit 5), not tied to a line (the file is named in the message).
 */
export function failureDiagnostic(out: { readonly reason: LoadFailure; readonly message: string }): Diagnostic {
  return { file: '', line: 0, severity: 'fatal', exitClass: 'config', message: `${out.message} - configuration refused` };
}

function isLoadResult(m: unknown): m is LoadResult {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Partial<LoadResult>;
  return Array.isArray(r.diagnostics) && typeof r.exitCode === 'number' && typeof r.partial === 'object' && r.partial !== null;
}

function isLoadSummary(m: unknown): m is LoadSummary {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Partial<LoadSummary>;
  return Array.isArray(r.diagnostics) && typeof r.exitCode === 'number' && (r.instances === undefined || typeof r.instances === 'number');
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
