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

/**
 * Largest reply line read from a control socket (bytes). A status report is about 1.5 KiB per
 * instance, so 1,000 instances fit many times over; a peer socket that sends more (or never a
 * newline) is dropped with an error naming this limit instead of growing the reader's memory: the
 * daemon itself reads replies from peer sockets during `switchover`.
 */
export const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** Send `req` on the Unix socket at `path`; resolves with the daemon's response (at most `maxReplyBytes`). */
export function request(
  path: string,
  req: ControlRequest,
  timeoutMs = 5000,
  user: string = clientUser(),
  maxReplyBytes = MAX_REPLY_BYTES,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const chunks: Buffer[] = [];
    let size = 0;
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
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'EIO';
      const why =
        code === 'ENOENT' || code === 'ECONNREFUSED'
          ? `no vrrpd is listening on ${path} (is it running? another --socket?)`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied on ${path} (the control socket is root-only: use sudo; a --status-socket serves status to its group)`
            : `${path}: ${e.message}`;
      finish(new ControlClientError(why, code));
    });
    sock.on('connect', () => sock.write(encodeLine({ ...req, user })));
    sock.on('data', (d: Buffer) => {
      const i = d.indexOf(10);
      const part = i < 0 ? d : d.subarray(0, i);
      if (size + part.length > maxReplyBytes) {
        finish(new ControlClientError(`reply from ${path} is over ${maxReplyBytes} bytes (MAX_REPLY_BYTES); not read further`, 'EMSGSIZE'));
        return;
      }
      chunks.push(part);
      size += part.length;
      if (i < 0) return;
      try {
        finish(null, JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as ControlResponse);
      } catch {
        finish(new ControlClientError(`bad answer from ${path}`, 'EPROTO'));
      }
    });
    sock.on('end', () => finish(new ControlClientError(`${path} closed the connection without answering`, 'EPROTO')));
  });
}
