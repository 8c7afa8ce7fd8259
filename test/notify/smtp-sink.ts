/**
 * A real SMTP server for the tests (the `smtp-server` package) run as its own process in a lab
 * host: it accepts every mail and prints one JSON line per message (the opening command, HELO
 * name, envelope and the data as received) and a line per connection opened and closed; `delayMs`
 * holds the greeting that long (a slow server).
 */
import type { Lab, LabProcess } from '../support/netns.js';
import { REPO_ROOT } from '../support/vrrp-harness.js';

const SINK_JS = `
const { SMTPServer } = await import('smtp-server');
const [host, port, delayMs] = [process.env.SINK_HOST, Number(process.env.SINK_PORT), Number(process.env.SINK_DELAY_MS)];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH'],
  hideSTARTTLS: true,
  logger: false,
  onConnect(session, cb) {
    process.stdout.write('connect ' + Date.now() + '\\n');
    if (delayMs > 0) setTimeout(() => cb(), delayMs);
    else cb();
  },
  onClose() {
    process.stdout.write('close ' + Date.now() + '\\n');
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const e = session.envelope;
      const line = { opening: session.openingCommand, helo: session.hostNameAppearsAs, from: e.mailFrom && e.mailFrom.address,
        to: e.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8') };
      process.stdout.write('mail ' + JSON.stringify(line) + '\\n');
      cb();
    });
  },
});
server.on('error', (e) => process.stderr.write('sink error ' + e.message + '\\n'));
server.listen(port, host, () => process.stdout.write('listening ' + host + ':' + port + '\\n'));
`;

export interface SinkMail {
  readonly opening: string;
  readonly helo: string;
  readonly from: string;
  readonly to: string[];
  readonly data: string;
}

export interface SmtpSink {
  readonly proc: LabProcess;
  readonly address: string;
  mails(): SinkMail[];
  /** Connections the server accepted so far. */
  connections(): number;
  /** The most connections open at once so far. */
  maxOpen(): number;
}

/** Start the server on `host`'s address (or `address`), `port`; resolves once it listens. */
export async function startSmtpSink(lab: Lab, host: string, o: { port: number; delayMs?: number; address?: string }): Promise<SmtpSink> {
  const address = o.address ?? lab.host(host).ip;
  const env = { ...process.env, SINK_HOST: address, SINK_PORT: String(o.port), SINK_DELAY_MS: String(o.delayMs ?? 0) };
  const proc = lab.spawn(host, [process.execPath, '--input-type=module', '-e', SINK_JS], { env, cwd: REPO_ROOT });
  await proc.waitFor(/^listening /m, 10_000);
  return {
    proc,
    address,
    mails: () =>
      proc.stdout
        .split('\n')
        .filter((l) => l.startsWith('mail '))
        .map((l) => JSON.parse(l.slice(5)) as SinkMail),
    connections: () => proc.stdout.split('\n').filter((l) => l.startsWith('connect ')).length,
    maxOpen: () => {
      let open = 0;
      let max = 0;
      for (const l of proc.stdout.split('\n')) {
        if (l.startsWith('connect ')) max = Math.max(max, ++open);
        else if (l.startsWith('close ')) open--;
      }
      return max;
    },
  };
}

/** A mail's Subject header. */
export function subjectOf(m: SinkMail): string {
  return /^Subject: (.*)$/m.exec(m.data)?.[1]?.replace(/\r$/, '') ?? '';
}
