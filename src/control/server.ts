/**
 * The control socket server: a Unix stream socket (mode 0600 by default: root only), one JSON
 * request per line, one response line per request, in order per connection. It only parses,
 * identifies the caller and hands the request to a handler; the handler does the work on the
 * daemon's queue. Status requests are logged at debug only; everything else by the handler.
 *
 * Who asked: SO_PEERCRED (uid and pid from the kernel) when koffi can read it, plus what the
 * client says (`user`, e.g. the sudo user); without peer credentials only the latter, marked so.
 */
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Log } from '../log.js';
import { peerCred, type PeerCred } from './native.js';
import { encodeLine, parseRequest, type ControlRequest, type ControlResponse, type RequestEnvelope } from './protocol.js';

export interface Caller {
  /** For logs and holds: `root (uid 0, pid 4242)`, `alice (via sudo as root) (uid 0, pid 4242)`. */
  readonly by: string;
  readonly cred: PeerCred | null;
}

export type ControlHandler = (req: ControlRequest & RequestEnvelope, caller: Caller) => Promise<ControlResponse>;

export interface ControlServerOptions {
  readonly path: string;
  readonly log: Log;
  readonly handler: ControlHandler;
  /** Socket file mode (default 0o600). */
  readonly mode?: number;
}

/** Requests that change something: refused to a uid other than root's and the daemon's own. */
const MUTATING: ReadonlySet<string> = new Set(['reload', 'promote', 'switchover', 'maintenance']);

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

export class ControlServer {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(private readonly o: ControlServerOptions) {}

  get path(): string {
    return this.o.path;
  }

  start(): Promise<void> {
    rmSync(this.o.path, { force: true });
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.#connection(sock));
      server.once('error', reject);
      server.listen(this.o.path, () => {
        server.off('error', reject);
        server.on('error', (e) => this.o.log.warn({}, `control socket error: ${e.message}`));
        try {
          chmodSync(this.o.path, this.o.mode ?? 0o600);
        } catch (e) {
          this.o.log.warn({}, `cannot chmod ${this.o.path}: ${e instanceof Error ? e.message : String(e)}`);
        }
        server.unref();
        this.#server = server;
        resolve();
      });
    });
  }

  #connection(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    const cred = peerCred(socketFd(sock));
    let buf = '';
    let chain: Promise<void> = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1 << 20) {
        sock.end(encodeLine({ ok: false, error: 'request line too long' }));
        return;
      }
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        chain = chain.then(async () => {
          const res = await this.#answer(line, cred);
          if (!sock.destroyed) sock.write(encodeLine(res));
        });
      }
    });
  }

  async #answer(line: string, cred: PeerCred | null): Promise<ControlResponse> {
    const p = parseRequest(line);
    if (!p.ok) return p.id === undefined ? { ok: false, error: p.error } : { ok: false, error: p.error, id: p.id };
    const req = p.req;
    const caller: Caller = { by: describeCaller(cred, req.user), cred };
    const withId = (r: ControlResponse): ControlResponse => (req.id === undefined ? r : { ...r, id: req.id });
    if (MUTATING.has(req.cmd) && cred !== null && cred.uid !== 0 && cred.uid !== process.getuid?.()) {
      this.o.log.warn({ by: caller.by }, `control: refused '${req.cmd}' from ${caller.by}: only root may change the daemon`);
      return withId({ ok: false, error: `'${req.cmd}' needs root` });
    }
    if (req.cmd === 'status' || req.cmd === 'ping') this.o.log.debug({ by: caller.by }, `control: ${req.cmd} from ${caller.by}`);
    try {
      return withId(await this.o.handler(req, caller));
    } catch (e) {
      this.o.log.error({ cmd: req.cmd }, `control: ${req.cmd} failed: ${e instanceof Error ? e.message : String(e)}`);
      return withId({ ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  close(): void {
    this.#server?.close();
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    rmSync(this.o.path, { force: true });
  }
}
