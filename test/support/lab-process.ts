/**
 * Running commands for the namespace labs, shared by the benchmarks' `BenchLab` (ns-lab.ts) and
 * the tests' `Lab` (test/support/netns.ts): a bounded one-shot command, and a long-running process
 * that leads its own process group (so a kill reaches its children).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import type { NsExecOptions, NsExecResult, NsProcess } from './lab-types.js';
import { signalGroup } from '../../src/util/process-group.js';

export interface CmdResult extends NsExecResult {
  readonly signal: NodeJS.Signals | null;
}

export interface CmdOptions extends NsExecOptions {
  /** Written to the command's stdin. */
  input?: string;
}

/** Run a command (no shell), bounded in time. Rejects on non-zero exit unless `allowFail`. */
export function runCmd(argv: readonly string[], opts: CmdOptions = {}): Promise<CmdResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        const res: CmdResult = {
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
        };
        if (e && !opts.allowFail) {
          reject(new Error(`${argv.join(' ')} failed (code ${res.code}, signal ${res.signal}): ${res.stderr.trim()}`));
        } else {
          resolve(res);
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A long-running process in a namespace (its own process group, so kill reaches its children). */
export class LabProcess implements NsProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly argv: readonly string[],
    child: ChildProcess,
  ) {
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.#notify();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.#notify();
        resolve();
      });
      child.on('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        this.exitCode = -1;
        this.#notify();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Output so far, stdout then stderr. */
  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Wait until stdout+stderr matches `re` (resolves with the match) or reject after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.output.match(re);
        if (m) {
          done();
          resolve(m);
          return true;
        }
        if (!this.running) {
          done();
          reject(new Error(`${this.argv.join(' ')} exited (${this.exitCode ?? this.exitSignal}) before ${re}; output:\n${this.output}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${this.argv.join(' ')}; output:\n${this.output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.#waiters.add(waiter);
    });
  }

  /** Signal the process group; after `graceMs` without exit, SIGKILL it. Always resolves. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (!this.running || this.pid === undefined) return;
    signalGroup(this.pid, signal);
    const timer = setTimeout(() => this.pid !== undefined && signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous SIGKILL of the group (exit handlers). */
  killNow(): void {
    if (this.running && this.pid !== undefined) signalGroup(this.pid, 'SIGKILL');
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}
