/**
 * Control socket client: one request, one response line. Used by the CLI commands and by a
 * daemon asking a vrrpd peer to take over (switchover). Imports nothing from io/.
 */
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { encodeLine, type ControlRequest, type ControlResponse } from './protocol.js';

export class ControlClientError extends Error {
  constructor(
    message: string,
    /** ENOENT/ECONNREFUSED (no daemon), EACCES (not root), ETIMEDOUT ... */
    readonly code: string,
  ) {
    super(message);
  }
}

/** Who the client says it is: the sudo user when run through sudo, else the login name. */
export function clientUser(): string {
  const base = (() => {
    try {
      return userInfo().username;
    } catch {
      return `uid ${process.getuid?.() ?? '?'}`;
    }
  })();
  const sudo = process.env.SUDO_USER;
  return sudo && sudo !== base ? `${sudo} (via sudo as ${base})` : base;
}

/** Send `req` on the Unix socket at `path`; resolves with the daemon's response. */
export function request(path: string, req: ControlRequest, timeoutMs = 5000, user: string = clientUser()): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    let done = false;
    const finish = (err: ControlClientError | null, res?: ControlResponse): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new ControlClientError(`no answer from ${path} within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'EIO';
      const why =
        code === 'ENOENT' || code === 'ECONNREFUSED'
          ? `no vrrpd is listening on ${path} (is it running? another --socket?)`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied on ${path} (the control socket is root-only: use sudo)`
            : `${path}: ${e.message}`;
      finish(new ControlClientError(why, code));
    });
    sock.on('connect', () => sock.write(encodeLine({ ...req, user })));
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      try {
        finish(null, JSON.parse(buf.slice(0, i)) as ControlResponse);
      } catch {
        finish(new ControlClientError(`bad answer from ${path}`, 'EPROTO'));
      }
    });
    sock.on('end', () => finish(new ControlClientError(`${path} closed the connection without answering`, 'EPROTO')));
  });
}
