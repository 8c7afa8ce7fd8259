/**
 * The control socket server: a Unix stream socket (mode 0600 by default: root only), one JSON
 * request per line, one response line per request, in order per connection. It only parses,
 * identifies the caller and hands the request to a handler; the handler does the work. Status
 * requests are logged at debug only; everything else by the handler.
 *
 * Bounded against its own clients (DESIGN.md style 11; the limits below are per socket, so a
 * read-only socket's users cannot starve the root socket):
 *  - one request in flight per connection: after a line is read, reading pauses until the reply is
 *    written out to the kernel (the write's callback, so a client that does not read its replies
 *    stops being read from: backpressure), then the next line is taken on a later event-loop turn;
 *    what a connection holds is at most one request line plus one socket read;
 *  - a request line longer than MAX_REQUEST_BYTES gets an error line and the connection is closed;
 *  - at most MAX_CONNECTIONS connections at once; the next ones get one error line and are closed;
 *  - at most MAX_REQUESTS_PER_SECOND requests and MAX_REPLY_BYTES_PER_SECOND reply bytes a second
 *    over all connections: a client that pipelines without pause is served at that pace, so it
 *    cannot take the daemon's CPU (a busy process is scheduled late for its advert timers);
 *  - a connection idle for IDLE_TIMEOUT_MS (nothing sent, or a reply not read) is closed; the time a
 *    request spends in the handler does not count;
 *  - refusals are counted (`stats`) and logged rate-limited.
 *
 * Who asked: SO_PEERCRED (uid and pid from the kernel), plus what the client says (`user`, e.g.
 * the sudo user). Commands that change the daemon need root (or the daemon's own uid) by
 * SO_PEERCRED; when the credentials cannot be read they are refused (fail closed). A read-only
 * server answers only `status` and `ping`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { RateLimiter, type Log } from '../log.js';
import { peerCred, type PeerCred } from './native.js';
import { EncodedResponse, encodeLine, parseRequest, type ControlRequest, type ControlResponse, type RequestEnvelope } from './protocol.js';
import { clearStaleSocket, finishSocketFile, listenWithMode, removeSocketFile, socketDirProblem } from './socket-file.js';

export interface Caller {
  /** For logs and holds: `root (uid 0, pid 4242)`, `alice (via sudo as root) (uid 0, pid 4242)`. */
  readonly by: string;
  readonly cred: PeerCred | null;
}

export type ControlHandler = (req: ControlRequest & RequestEnvelope, caller: Caller) => Promise<ControlResponse | EncodedResponse>;

/** Longest request line accepted, in bytes (the longest real request, a switchover with peer sockets, is well under 2 KiB). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Connections served at once, per socket. */
export const MAX_CONNECTIONS = 32;
/** A connection that sends nothing, or does not read its reply, for this long (ms) is closed. */
export const IDLE_TIMEOUT_MS = 10_000;
/** Refusals of one kind are logged at most once per this window (ms), with the count in between. */
export const REFUSAL_LOG_WINDOW_MS = 10_000;
/**
 * Requests answered per second, per socket, all connections together (a token bucket holding a
 * tenth of a second's worth). Fifty times what a monitoring loop polling every 100 ms asks; it
 * keeps a client that pipelines without pause to about 5 % of a core (measured: 9.5 % at 1,000
 * a second with 10 instances, BENCHMARKS.md).
 */
export const MAX_REQUESTS_PER_SECOND = 500;
/** Reply bytes written per second, per socket (large reports: 1,000 instances are about 1.5 MiB). */
export const MAX_REPLY_BYTES_PER_SECOND = 16 * 1024 * 1024;

export interface ControlLimits {
  readonly maxRequestBytes: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly requestsPerSecond: number;
  readonly replyBytesPerSecond: number;
}

export const DEFAULT_LIMITS: ControlLimits = {
  maxRequestBytes: MAX_REQUEST_BYTES,
  maxConnections: MAX_CONNECTIONS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  requestsPerSecond: MAX_REQUESTS_PER_SECOND,
  replyBytesPerSecond: MAX_REPLY_BYTES_PER_SECOND,
};

/**
 * The socket's request budget: two token buckets (requests, reply bytes) refilled continuously,
 * each holding a tenth of a second's worth. Bytes may go into debt (a reply bigger than the
 * bucket still goes out); the next request then waits for the debt to be paid.
 */
export class RequestBudget {
  #req: number;
  #bytes: number;
  #atMs: number;
  constructor(
    private readonly perSecond: number,
    private readonly bytesPerSecond: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.#req = perSecond / 10;
    this.#bytes = bytesPerSecond / 10;
    this.#atMs = nowMs();
  }

  #refill(): void {
    const now = this.nowMs();
    const dt = Math.max(0, now - this.#atMs) / 1000;
    this.#atMs = now;
    this.#req = Math.min(this.perSecond / 10, this.#req + dt * this.perSecond);
    this.#bytes = Math.min(this.bytesPerSecond / 10, this.#bytes + dt * this.bytesPerSecond);
  }

  /** ms until a request may be served: 0 = now (and one request token is taken). */
  take(): number {
    this.#refill();
    if (this.#req >= 1 && this.#bytes >= 0) {
      this.#req -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(Math.max(((1 - this.#req) / this.perSecond) * 1000, (-this.#bytes / this.bytesPerSecond) * 1000)));
  }

  /** Count a reply's bytes. */
  spend(bytes: number): void {
    this.#bytes -= bytes;
  }
}

export interface ControlServerOptions {
  readonly path: string;
  readonly log: Log;
  readonly handler: ControlHandler;
  /** Socket file mode (default 0o600). */
  readonly mode?: number;
  /** Group of the socket file (default: the daemon's). */
  readonly gid?: number;
  /** Serve only `status` and `ping` (the --status-socket). */
  readonly readOnly?: boolean;
  readonly limits?: Partial<ControlLimits>;
  /** Who is on the other end (default SO_PEERCRED); null = cannot be told. Tests inject it. */
  readonly peerCred?: (sock: Socket) => PeerCred | null;
}

/** Requests that change something: refused to a uid other than root's and the daemon's own. */
const MUTATING: ReadonlySet<string> = new Set(['reload', 'promote', 'switchover', 'maintenance']);
/** What a read-only socket answers. */
const READ_ONLY: ReadonlySet<string> = new Set(['status', 'ping']);

let passwd: Map<number, string> | undefined;

/** uid -> user name from /etc/passwd (no NSS: good enough for logs). */
export function userName(uid: number): string | undefined {
  if (passwd === undefined) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && /^\d+$/.test(f[2]!)) if (!passwd.has(Number(f[2]))) passwd.set(Number(f[2]), f[0]!);
      }
    } catch {
      // no passwd: numeric uids only
    }
  }
  return passwd.get(uid);
}

/** The `by` text for a caller. */
export function describeCaller(cred: PeerCred | null, claimed: string | undefined): string {
  const claim = claimed?.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  if (cred === null) return `${claim ?? 'unknown user'} (client's word)`;
  const name = userName(cred.uid) ?? `uid ${cred.uid}`;
  const who = claim !== undefined && claim !== name ? claim : name;
  return `${who} (uid ${cred.uid}, pid ${cred.pid})`;
}

function socketFd(sock: Socket): number {
  const h = (sock as unknown as { _handle?: { fd?: number } })._handle;
  return typeof h?.fd === 'number' ? h.fd : -1;
}

/** SO_PEERCRED of an accepted connection. */
export function kernelPeerCred(sock: Socket): PeerCred | null {
  return peerCred(socketFd(sock));
}

/** What the server refused or closed, since it started. */
export interface ControlServerStats {
  accepted: number;
  /** Connections refused because MAX_CONNECTIONS were open. */
  overCap: number;
  /** Connections closed after IDLE_TIMEOUT_MS of silence. */
  idleClosed: number;
  /** Connections closed for a request line over MAX_REQUEST_BYTES. */
  tooLong: number;
  /** Changing commands refused (not root, credentials unknown, read-only socket). */
  refused: number;
  /** Replies written. */
  answered: number;
  /** Times a connection's next request waited for the budget (MAX_REQUESTS_PER_SECOND). */
  paced: number;
}

const EMPTY = Buffer.alloc(0);

/** Whether the first `end` bytes of `b` are only spaces, tabs and carriage returns (no string made). */
function blank(b: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

export class ControlServer {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #limits: ControlLimits;
  readonly #rate = new RateLimiter(REFUSAL_LOG_WINDOW_MS);
  readonly #mode: number;
  readonly #budget: RequestBudget;
  readonly stats: ControlServerStats = { accepted: 0, overCap: 0, idleClosed: 0, tooLong: 0, refused: 0, answered: 0, paced: 0 };

  constructor(private readonly o: ControlServerOptions) {
    this.#limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.#mode = o.mode ?? 0o600;
    this.#budget = new RequestBudget(this.#limits.requestsPerSecond, this.#limits.replyBytesPerSecond);
  }

  get path(): string {
    return this.o.path;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Create the socket file (socket-file.ts's policy) and listen; rejects with the reason. */
  async start(): Promise<void> {
    const problem = socketDirProblem(this.o.path) ?? clearStaleSocket(this.o.path);
    if (problem !== null) throw new Error(problem);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.#connection(sock));
    await listenWithMode(server, this.o.path, this.#mode, this.o.gid);
    const bad = finishSocketFile(this.o.path, this.#mode, this.o.gid);
    if (bad !== null) {
      server.close();
      removeSocketFile(this.o.path);
      throw new Error(bad);
    }
    server.on('error', (e) => this.o.log.warn({}, `control socket error: ${e.message}`));
    server.unref();
    this.#server = server;
  }

  #warn(key: string, msg: string): void {
    const r = this.#rate.check(key, Date.now());
    if (r !== null)
      this.o.log.warn(
        { socket: this.o.path },
        r.suppressed > 0 ? `${msg} (${r.suppressed} more like it in the last ${REFUSAL_LOG_WINDOW_MS / 1000} s)` : msg,
      );
  }

  /** One error line, then close once it is written (or at the idle timeout). */
  #closeWith(sock: Socket, error: string): void {
    const t = setTimeout(() => sock.destroy(), this.#limits.idleTimeoutMs).unref();
    sock.once('close', () => clearTimeout(t));
    sock.end(encodeLine({ ok: false, error }), () => sock.destroy());
  }

  /** Refuses a connection over MAX_CONNECTIONS with one error line; true when it was refused. */
  #refusedOverCap(sock: Socket): boolean {
    if (this.#sockets.size < this.#limits.maxConnections) return false;
    this.stats.overCap++;
    this.#warn('cap', `control: refused a connection on ${this.o.path}: ${this.#limits.maxConnections} already open (MAX_CONNECTIONS)`);
    this.#closeWith(sock, `too many connections (${this.#limits.maxConnections} open, MAX_CONNECTIONS); try again later`);
    return true;
  }

  /**
   * The idle timer: one per connection, re-armed (refresh, no new timer) on activity: a line read,
   * a reply written. While the daemon works on a request (`working()`: the handler, a wait for the
   * budget) it does not count; a reply the client does not read does. Cleared when the socket closes.
   */
  #idleTimer(sock: Socket, working: () => boolean): NodeJS.Timeout {
    const idle = setTimeout(() => {
      if (working()) {
        idle.refresh();
        return;
      }
      this.stats.idleClosed++;
      sock.destroy();
    }, this.#limits.idleTimeoutMs).unref();
    sock.on('close', () => {
      clearTimeout(idle);
      this.#sockets.delete(sock);
    });
    return idle;
  }

  #connection(sock: Socket): void {
    sock.on('error', () => {});
    if (this.#refusedOverCap(sock)) return;
    this.stats.accepted++;
    this.#sockets.add(sock);
    const cred = (this.o.peerCred ?? kernelPeerCred)(sock);
    const max = this.#limits.maxRequestBytes;
    let buf: Buffer = EMPTY;
    let busy = false;
    let ended = false;
    let working = false;
    const idle = this.#idleTimer(sock, () => working);

    const tooLong = (): void => {
      this.stats.tooLong++;
      this.#warn('too-long', `control: closed a connection on ${this.o.path}: request line over ${max} bytes (MAX_REQUEST_BYTES)`);
      buf = EMPTY;
      busy = true;
      this.#closeWith(sock, `request line too long (over ${max} bytes, MAX_REQUEST_BYTES)`);
    };

    // Take the next complete line, if any: answer it, write the reply, and only when the kernel
    // has it come back here (on a later turn of the event loop). No line: read more.
    const pump = (): void => {
      while (!busy && !sock.destroyed) {
        const nl = buf.indexOf(10);
        if (nl < 0) {
          if (buf.length > max) return tooLong();
          if (ended) {
            sock.end();
            return;
          }
          sock.resume();
          return;
        }
        if (nl > max) return tooLong();
        sock.pause();
        if (blank(buf, nl)) {
          buf = nl + 1 === buf.length ? EMPTY : buf.subarray(nl + 1);
          continue;
        }
        // Over the socket's budget: come back when it allows one more (waiting is not idleness).
        const waitMs = this.#budget.take();
        if (waitMs > 0) {
          this.stats.paced++;
          busy = true;
          working = true;
          setTimeout(() => {
            busy = false;
            working = false;
            pump();
          }, waitMs).unref();
          return;
        }
        const line = buf.subarray(0, nl).toString('utf8');
        buf = nl + 1 === buf.length ? EMPTY : buf.subarray(nl + 1);
        busy = true;
        // The handler's time is not idleness (a reload or a switchover takes seconds).
        working = true;
        void this.#answer(line, cred).then((out) => {
          working = false;
          if (sock.destroyed) return;
          this.stats.answered++;
          this.#budget.spend(out.length);
          // From here the client has IDLE_TIMEOUT_MS to read the reply.
          idle.refresh();
          sock.write(out, (err) => {
            if (err) return;
            idle.refresh();
            busy = false;
            setImmediate(pump);
          });
        });
      }
    };

    sock.on('data', (d: Buffer) => {
      idle.refresh();
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      pump();
    });
    sock.on('end', () => {
      ended = true;
      pump();
    });
    pump();
  }

  /** The reply line (with its newline) for one request line. */
  async #answer(line: string, cred: PeerCred | null): Promise<string | Buffer> {
    const p = parseRequest(line);
    if (!p.ok) return encodeLine(p.id === undefined ? { ok: false, error: p.error } : { ok: false, error: p.error, id: p.id });
    const req = p.req;
    const caller: Caller = { by: describeCaller(cred, req.user), cred };
    const reply = (r: ControlResponse | EncodedResponse): string | Buffer =>
      r instanceof EncodedResponse ? r.line(req.id) : encodeLine(req.id === undefined ? r : { ...r, id: req.id });
    const refused = this.#refusal(req.cmd, cred);
    if (refused !== null) {
      this.stats.refused++;
      this.#warn(`refused:${refused.kind}`, `control: refused '${req.cmd}' from ${caller.by}: ${refused.log}`);
      return reply({ ok: false, error: refused.error });
    }
    if (req.cmd === 'status' || req.cmd === 'ping') this.o.log.debug({ by: caller.by }, `control: ${req.cmd} from ${caller.by}`);
    try {
      return reply(await this.o.handler(req, caller));
    } catch (e) {
      this.o.log.error({ cmd: req.cmd }, `control: ${req.cmd} failed: ${e instanceof Error ? e.message : String(e)}`);
      return reply({ ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  /** Why `cmd` is refused to this caller, or null. */
  #refusal(cmd: string, cred: PeerCred | null): { kind: string; error: string; log: string } | null {
    if (this.o.readOnly === true && !READ_ONLY.has(cmd)) {
      return {
        kind: 'read-only',
        error: `'${cmd}' is not served on the read-only status socket ${this.o.path} (only status and ping are); use the control socket, as root`,
        log: 'read-only status socket',
      };
    }
    if (!MUTATING.has(cmd)) return null;
    if (cred === null) {
      return {
        kind: 'no-cred',
        error: `'${cmd}' refused: the caller's credentials (SO_PEERCRED) cannot be read, and only root may change the daemon`,
        log: 'peer credentials unknown (fail closed)',
      };
    }
    if (cred.uid !== 0 && cred.uid !== process.getuid?.()) {
      return { kind: 'not-root', error: `'${cmd}' needs root`, log: 'only root may change the daemon' };
    }
    return null;
  }

  close(): void {
    this.#server?.close();
    const was = this.#server !== undefined;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (was) removeSocketFile(this.o.path);
  }
}
