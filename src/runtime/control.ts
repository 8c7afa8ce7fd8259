/**
 * A minimal control socket (issue 5 owns the full protocol in src/control/): a Unix stream socket
 * speaking newline-delimited JSON. Requests: `{"cmd":"status"}` (or the bare word `status`) answers
 * the daemon's status as one JSON line; `{"cmd":"reload"}` does what SIGHUP does. Requests are
 * answered on the daemon's work queue, so a status is a consistent snapshot between two steps.
 * TODO(issue 5): move to src/control, add `vrrpd status` client, priority override, stats clear.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Log } from '../log.js';
import type { Daemon } from './daemon.js';

export interface ControlOptions {
  path: string;
  daemon: Daemon;
  log: Log;
  reload: () => void;
}

export class ControlServer {
  #server: Server | undefined;
  constructor(private readonly o: ControlOptions) {}

  start(): Promise<void> {
    rmSync(this.o.path, { force: true });
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => {
        let buf = '';
        sock.setEncoding('utf8');
        sock.on('error', () => {});
        sock.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) void this.#answer(line).then((out) => sock.write(`${JSON.stringify(out)}\n`));
          }
        });
      });
      server.once('error', reject);
      server.listen(this.o.path, () => {
        server.off('error', reject);
        server.on('error', (e) => this.o.log.warn({}, `control socket error: ${e.message}`));
        try {
          chmodSync(this.o.path, 0o600);
        } catch {
          // best effort
        }
        server.unref();
        this.#server = server;
        resolve();
      });
    });
  }

  async #answer(line: string): Promise<unknown> {
    let cmd = line;
    if (line.startsWith('{')) {
      try {
        cmd = String((JSON.parse(line) as { cmd?: unknown }).cmd ?? '');
      } catch {
        return { ok: false, error: 'bad JSON' };
      }
    }
    switch (cmd) {
      case 'status':
        return { ok: true, status: await this.o.daemon.queue.run('control status', () => this.o.daemon.status()) };
      case 'reload':
        this.o.reload();
        return { ok: true };
      default:
        return { ok: false, error: `unknown command '${cmd}'` };
    }
  }

  close(): void {
    this.#server?.close();
    this.#server = undefined;
    rmSync(this.o.path, { force: true });
  }
}
