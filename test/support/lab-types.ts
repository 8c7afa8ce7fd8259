/**
 * The shape of a namespace lab that the VRRP harness (`vrrp-harness.ts`) drives. Both the
 * benchmarks' `BenchLab` (ns-lab.ts) and the tests' `Lab` (netns.ts, which extends it) satisfy
 * it, so the node runners, monitors and analysis are shared by `bench/*.ts` and the tests.
 */

export interface NsExecOptions {
  /** SIGKILL the command after this long (ms); default 10 s. */
  timeoutMs?: number;
  /** Resolve instead of reject on a non-zero exit. */
  allowFail?: boolean;
}

export interface NsExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A long-running process in a namespace, leader of its own process group. */
export interface NsProcess {
  readonly argv: readonly string[];
  readonly pid: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
  readonly running: boolean;
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly exited: Promise<void>;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signal the whole group; SIGKILL it after `graceMs`. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface NsHost {
  readonly name: string;
  readonly ns: string;
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: string;
  readonly prefixLen: number;
  readonly ip: string;
  readonly swPort: string;
  /** Labs built with `ipv6: true`: eth0's global address (`fd00:10:234:33::1`, a /64) ... */
  readonly ip6?: string | undefined;
  /** ... and its EUI-64 link-local address (not tentative once the lab is built). */
  readonly linkLocal?: string | undefined;
}

export interface NsLab {
  readonly tmpDir: string;
  readonly switchNs: string;
  host(name: string): NsHost;
  exec(host: string, argv: readonly string[], opts?: NsExecOptions): Promise<NsExecResult>;
  spawn(host: string, argv: readonly string[], opts?: { env?: NodeJS.ProcessEnv }): NsProcess;
  linkDown(host: string, side?: 'host' | 'switch'): Promise<void>;
  linkUp(host: string, side?: 'host' | 'switch'): Promise<void>;
}
