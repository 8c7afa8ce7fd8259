/**
 * No root, no network: the SMTP alerts (src/notify/smtp-alerts.ts) on a fake transport. Which
 * transitions mail, the envelope, headers, subjects and bodies as keepalived 2.2.7 sent them to a
 * real SMTP server (the expected texts below are what it sent), sync-group mails, the smtp_alert
 * defaults, the queue bound, one send at a time, a failing transport logged and counted.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import {
  MAIL_QUEUE_BOUND,
  parseSmtpServer,
  rfc822Date,
  SmtpAlerts,
  toHeader,
  type AlertMail,
  type SmtpTarget,
} from '../../src/notify/smtp-alerts.js';
import { Notifications } from '../../src/notify/notifications.js';
import type { ProcessRunner } from '../../src/notify/runner.js';
import { configFromText } from '../support/config-host.js';

const instance = (name: string, vrid: number, extra = ''): string =>
  `vrrp_instance ${name} {\n state BACKUP\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n${extra}\n virtual_ipaddress {\n  10.9.9.${vrid}/24\n }\n}\n`;

const GLOBALS = `
  router_id R1
  notification_email {
    ops@x.test
    oncall@y.test
  }
  notification_email_from vrrpd@x.test
  smtp_server 127.0.0.1 2525
  smtp_helo_name helo.test
  smtp_connect_timeout 7
`;

function conf(globals: string, body: string): string {
  return `global_defs {\n${globals}\n}\n${body}`;
}

const SYNC_CONF = conf(
  `${GLOBALS}\n  smtp_alert`,
  `vrrp_sync_group VG {\n group {\n  VI_2\n  VI_3\n }\n}\n${instance('VI_1', 51)}${instance('VI_2', 52)}${instance('VI_3', 53)}`,
);

/** A fake transport: records mails; `hold` keeps sends pending until released; `fail` rejects. */
class FakeMail {
  readonly targets: SmtpTarget[] = [];
  readonly mails: AlertMail[] = [];
  closed = 0;
  active = 0;
  maxActive = 0;
  hold = false;
  fail: string | null = null;
  #release: (() => void)[] = [];

  factory = (target: SmtpTarget) => {
    this.targets.push(target);
    return {
      send: async (m: AlertMail) => {
        this.active++;
        this.maxActive = Math.max(this.maxActive, this.active);
        try {
          if (this.hold) await new Promise<void>((r) => this.#release.push(r));
          else await new Promise((r) => setImmediate(r));
          if (this.fail !== null) throw new Error(this.fail);
          this.mails.push(m);
        } finally {
          this.active--;
        }
      },
      close: () => void this.closed++,
    };
  };

  releaseAll(): void {
    this.hold = false;
    for (const r of this.#release.splice(0)) r();
  }
}

const FIXED = new Date(2026, 11, 2, 16, 17, 29); // local time: the Date header is local
const DATE = rfc822Date(FIXED);

function alerts(fake: FakeMail, o: { log?: MemoryLog; nowMs?: () => number } = {}) {
  return new SmtpAlerts({
    log: o.log ?? new MemoryLog(),
    transport: fake.factory,
    date: () => FIXED,
    localName: 'vm',
    user: 'root',
    ...(o.nowMs ? { nowMs: o.nowMs } : {}),
  });
}

const subjects = (f: FakeMail): string[] => f.mails.map((m) => m.subject);

t.test('the Date header is strftime %a, %d %b %Y %H:%M:%S %z in local time', async (t) => {
  t.match(DATE, /^Wed, 02 Dec 2026 16:17:29 [+-]\d{4}$/);
  const off = -FIXED.getTimezoneOffset();
  const z = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${String(Math.abs(off) % 60).padStart(2, '0')}`;
  t.equal(DATE.slice(-5), z);
  t.equal(rfc822Date(new Date(2027, 0, 3, 4, 5, 6)).slice(0, 25), 'Sun, 03 Jan 2027 04:05:06');
});

t.test('smtp_server and the To header', async (t) => {
  t.same(parseSmtpServer('10.1.2.3'), { host: '10.1.2.3', port: 25 }, 'port 25 by default');
  t.same(parseSmtpServer('mail.x.test 2525'), { host: 'mail.x.test', port: 2525 });
  t.equal(parseSmtpServer(null), null);
  t.equal(parseSmtpServer('10.1.2.3 99999'), null);
  t.equal(toHeader(['a@x', 'b@y']), 'a@x, b@y');
  t.equal(toHeader(Array.from({ length: 200 }, (_, i) => `user${i}@x.test`)).length <= 1023, true, 'at most 1023 bytes');
});

t.test('an instance mails MASTER, BACKUP, FAULT once each, with keepalived 2.2.7 text', async (t) => {
  const fake = new FakeMail();
  const a = alerts(fake);
  a.configure(configFromText(SYNC_CONF));
  t.same(fake.targets, [{ host: '127.0.0.1', port: 2525, helo: 'helo.test', timeoutMs: 7000 }], 'server, HELO name, timeout');
  a.notify('INSTANCE', 'VI_1', 'BACKUP');
  a.notify('INSTANCE', 'VI_1', 'MASTER');
  a.notify('INSTANCE', 'VI_1', 'MASTER'); // same state again: no second mail
  a.notify('INSTANCE', 'VI_1', 'MASTER_RX_LOWER_PRI'); // no mail
  a.notify('INSTANCE', 'VI_1', 'FAULT');
  await a.idle(2000);
  t.same(subjects(fake), [
    '[R1] VRRP Instance VI_1 - Entering BACKUP state',
    '[R1] VRRP Instance VI_1 - Entering MASTER state',
    '[R1] VRRP Instance VI_1 - Entering FAULT state',
  ]);
  const m = fake.mails[1]!;
  t.equal(m.from, 'vrrpd@x.test', 'envelope sender');
  t.same(m.to, ['ops@x.test', 'oncall@y.test'], 'one RCPT per address');
  // Byte for byte what keepalived 2.2.7 sent (DATA, before the final dot), but for the date.
  t.equal(
    m.raw,
    `Date: ${DATE}\r\nFrom: vrrpd@x.test\r\nSubject: [R1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n` +
      `To: ops@x.test, oncall@y.test\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n`,
  );
  t.match(fake.mails[0]!.raw, /\r\n\r\n=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n$/);
  t.match(fake.mails[2]!.raw, /\r\n\r\n=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n$/);
  t.equal(fake.maxActive, 1, 'one send at a time');
  t.same(a.stats(), { sent: 3, failed: 0, dropped: 0, queued: 0, sending: false });
});

t.test('sync groups mail their moves, their members still mail theirs', async (t) => {
  const fake = new FakeMail();
  const a = alerts(fake);
  a.configure(configFromText(SYNC_CONF));
  a.notify('GROUP', 'VG', 'BACKUP');
  a.notify('INSTANCE', 'VI_2', 'BACKUP');
  a.notify('INSTANCE', 'VI_2', 'MASTER');
  a.notify('GROUP', 'VG', 'MASTER');
  a.notify('GROUP', 'VG', 'FAULT');
  await a.idle(2000);
  t.same(subjects(fake), [
    '[R1] VRRP Group VG - Entering BACKUP state',
    '[R1] VRRP Instance VI_2 - Entering BACKUP state',
    '[R1] VRRP Instance VI_2 - Entering MASTER state',
    '[R1] VRRP Group VG - Entering MASTER state',
    '[R1] VRRP Group VG - Entering FAULT state',
  ]);
  t.match(fake.mails[0]!.raw, /\r\n\r\n=> All VRRP group instances are now in BACKUP state <=\r\n\r\n$/);
  t.match(fake.mails[3]!.raw, /\r\n\r\n=> All VRRP group instances are now in MASTER state <=\r\n\r\n$/);
  t.match(fake.mails[4]!.raw, /\r\n\r\n=> All VRRP group instances are now in FAULT state <=\r\n\r\n$/);
});

t.test('STOP is mailed only outside a daemon stop; nothing is queued once stopping', async (t) => {
  const fake = new FakeMail();
  const a = alerts(fake);
  a.configure(configFromText(SYNC_CONF));
  a.notify('INSTANCE', 'VI_1', 'STOP');
  a.notify('GROUP', 'VG', 'STOP');
  a.stopping();
  a.notify('INSTANCE', 'VI_2', 'STOP');
  a.notify('INSTANCE', 'VI_3', 'MASTER');
  await a.idle(2000);
  t.same(subjects(fake), ['[R1] VRRP Instance VI_1 - Stopping', '[R1] VRRP Group VG - Stopping']);
  t.match(fake.mails[0]!.raw, /=> VRRP Instance stopping <=\r\n\r\n$/);
  t.match(fake.mails[1]!.raw, /=> All VRRP group instances are now stopping <=\r\n\r\n$/);
});

t.test('a deleted instance mails FAULT, or Deleted with notify_deleted; no_email_faults drops FAULT', async (t) => {
  const fake = new FakeMail();
  const a = alerts(fake);
  const base = conf(`${GLOBALS}\n  smtp_alert`, `${instance('VI_1', 51)}${instance('VI_2', 52, ' notify_deleted')}`);
  a.configure(configFromText(base));
  a.notify('INSTANCE', 'VI_1', 'MASTER');
  a.notify('INSTANCE', 'VI_2', 'MASTER');
  // A reload removes both: their DELETED notifies come after the new config, with the old flags.
  a.configure(configFromText(conf(`${GLOBALS}\n  smtp_alert`, instance('VI_9', 59))));
  a.notify('INSTANCE', 'VI_1', 'DELETED');
  a.notify('INSTANCE', 'VI_2', 'DELETED');
  await a.idle(2000);
  t.same(subjects(fake).slice(2), ['[R1] VRRP Instance VI_1 - Entering FAULT state', '[R1] VRRP Instance VI_2 - Deleted']);
  t.match(fake.mails[3]!.raw, /=> VRRP Deleted at reload <=\r\n\r\n$/);

  const f2 = new FakeMail();
  const b = alerts(f2);
  b.configure(configFromText(conf(`${GLOBALS}\n  smtp_alert\n  no_email_faults`, instance('VI_1', 51))));
  b.notify('INSTANCE', 'VI_1', 'MASTER');
  b.notify('INSTANCE', 'VI_1', 'FAULT');
  b.notify('INSTANCE', 'VI_1', 'DELETED');
  b.notify('INSTANCE', 'VI_1', 'BACKUP');
  await b.idle(2000);
  t.same(subjects(f2), ['[R1] VRRP Instance VI_1 - Entering MASTER state', '[R1] VRRP Instance VI_1 - Entering BACKUP state']);
});

t.test('who mails: smtp_alert per instance, per group, smtp_alert_vrrp, smtp_alert; none without addresses or server', async (t) => {
  const cases: [string, string, string[]][] = [
    ['', `${instance('VI_1', 51)}${instance('VI_2', 52, ' smtp_alert')}`, ['VI_2']],
    ['smtp_alert_vrrp', `${instance('VI_1', 51)}${instance('VI_2', 52)}`, ['VI_1', 'VI_2']],
    ['smtp_alert', `${instance('VI_1', 51)}${instance('VI_2', 52)}`, ['VI_1', 'VI_2']],
    ['', `${instance('VI_1', 51)}${instance('VI_2', 52)}`, []],
    ['', `vrrp_sync_group VG {\n group {\n  VI_1\n  VI_2\n }\n smtp_alert\n}\n${instance('VI_1', 51)}${instance('VI_2', 52)}`, ['VG']],
    ['smtp_alert', `${instance('VI_1', 51, ' smtp_alert false')}${instance('VI_2', 52)}`, ['VI_2']],
    ['smtp_alert\n  smtp_alert_vrrp false', `${instance('VI_1', 51)}${instance('VI_2', 52, ' smtp_alert')}`, ['VI_2']],
    [
      'smtp_alert_vrrp',
      `vrrp_sync_group VG {\n group {\n  VI_1\n  VI_2\n }\n smtp_alert off\n}\n${instance('VI_1', 51)}${instance('VI_2', 52)}`,
      ['VI_1', 'VI_2'],
    ],
  ];
  for (const [g, body, want] of cases) {
    const fake = new FakeMail();
    const a = alerts(fake);
    a.configure(configFromText(conf(`${GLOBALS}\n  ${g}`, body)));
    for (const n of ['VI_1', 'VI_2']) a.notify('INSTANCE', n, 'MASTER');
    a.notify('GROUP', 'VG', 'MASTER');
    await a.idle(2000);
    t.same(
      fake.mails.map((m) => /VRRP \w+ (\S+) /.exec(m.subject)![1]),
      want,
      `global '${g}': ${want.join(', ') || 'none'}`,
    );
  }
  for (const drop of [/ {2}notification_email \{[^}]*\}\n/, / {2}smtp_server .*\n/]) {
    const fake = new FakeMail();
    const a = alerts(fake);
    a.configure(configFromText(conf(`${GLOBALS.replace(drop, '')}\n  smtp_alert`, instance('VI_1', 51))));
    a.notify('INSTANCE', 'VI_1', 'MASTER');
    await a.idle(500);
    t.equal(fake.targets.length + fake.mails.length, 0, `no transport, no mail without ${String(drop)}`);
  }
});

t.test('defaults: router_id, HELO name and sender from the host name and user; port 25; 30 s', async (t) => {
  const fake = new FakeMail();
  const a = alerts(fake);
  a.configure(
    configFromText(conf('  notification_email {\n    ops@x.test\n  }\n  smtp_server 10.0.0.25\n  smtp_alert', instance('VI_1', 51))),
  );
  a.notify('INSTANCE', 'VI_1', 'MASTER');
  await a.idle(2000);
  t.same(fake.targets, [{ host: '10.0.0.25', port: 25, helo: 'vm', timeoutMs: 30_000 }]);
  t.equal(fake.mails[0]!.from, 'root@vm');
  t.match(fake.mails[0]!.raw, /^Date: .*\r\nFrom: root@vm\r\nSubject: \[vm\] VRRP Instance VI_1 - Entering MASTER state\r\n/);
});

t.test(`the queue holds ${MAIL_QUEUE_BOUND} mails; more are dropped, counted and logged once`, async (t) => {
  const fake = new FakeMail();
  fake.hold = true; // a server that never answers
  const log = new MemoryLog();
  const a = alerts(fake, { log, nowMs: () => 1000 });
  const names = Array.from({ length: 40 }, (_, i) => `VI_${i + 1}`);
  a.configure(configFromText(conf(`${GLOBALS}\n  smtp_alert`, names.map((n, i) => instance(n, i + 1)).join(''))));
  for (const n of names) a.notify('INSTANCE', n, 'MASTER');
  await new Promise((r) => setImmediate(r));
  // 1 being sent, MAIL_QUEUE_BOUND waiting, the rest dropped
  t.same(a.stats(), { sent: 0, failed: 0, dropped: 40 - 1 - MAIL_QUEUE_BOUND, queued: MAIL_QUEUE_BOUND, sending: true });
  const drops = log.lines.filter((l) => /SMTP alert dropped/.test(l.msg));
  t.equal(drops.length, 1, 'one log line for the drops (rate-limited)');
  t.match(drops[0]!.msg, /32 mails already waiting/);
  fake.releaseAll();
  await a.idle(5000);
  t.equal(fake.mails.length, 1 + MAIL_QUEUE_BOUND, 'the queued ones were sent afterwards, in order');
  t.equal(fake.mails[0]!.subject, '[R1] VRRP Instance VI_1 - Entering MASTER state');
  t.equal(fake.maxActive, 1, 'one connection at a time');
});

t.test('a failing transport is logged (rate-limited) and counted, and the next mails still go', async (t) => {
  const fake = new FakeMail();
  fake.fail = 'Connection timeout';
  const log = new MemoryLog();
  let now = 1000;
  const a = alerts(fake, { log, nowMs: () => now });
  a.configure(configFromText(SYNC_CONF));
  a.notify('INSTANCE', 'VI_1', 'MASTER');
  a.notify('INSTANCE', 'VI_2', 'MASTER');
  a.notify('INSTANCE', 'VI_3', 'MASTER');
  await a.idle(2000);
  t.same(a.stats(), { sent: 0, failed: 3, dropped: 0, queued: 0, sending: false });
  const fails = log.lines.filter((l) => /SMTP alert to/.test(l.msg));
  t.equal(fails.length, 1, 'one line a minute');
  t.equal(fails[0]!.level, 'warn');
  t.match(
    fails[0]!.msg,
    /SMTP alert to \[127\.0\.0\.1\]:2525 failed: Connection timeout \(\[R1\] VRRP Instance VI_1 - Entering MASTER state\)/,
  );
  now += 61_000;
  fake.fail = null;
  a.notify('INSTANCE', 'VI_1', 'BACKUP');
  await a.idle(2000);
  t.same(a.stats(), { sent: 1, failed: 3, dropped: 0, queued: 0, sending: false });
});

t.test('Notifications sends the alerts: the group first at start-up, none at stop, none without a transport', async (t) => {
  const runner: ProcessRunner = { run: async () => ({ code: 0, signal: null, timedOut: false, durationMs: 0 }) } as never;
  const fake = new FakeMail();
  const n = new Notifications({ runner, log: new MemoryLog(), checkScripts: false, mailTransport: fake.factory });
  n.configure(configFromText(SYNC_CONF));
  n.notify('INSTANCE', 'VI_2', {}, 'BACKUP', 100);
  n.notify('INSTANCE', 'VI_2', {}, 'MASTER', 100);
  n.notify('INSTANCE', 'VI_1', {}, 'MASTER_RX_LOWER_PRI', 100);
  await n.idle(2000);
  t.same(subjects(fake).slice(0, 3), [
    '[R1] VRRP Group VG - Entering BACKUP state',
    '[R1] VRRP Instance VI_2 - Entering BACKUP state',
    '[R1] VRRP Instance VI_2 - Entering MASTER state',
  ]);
  t.equal(n.mailStats.sent, 3);
  n.stopping();
  n.notify('INSTANCE', 'VI_2', {}, 'STOP', 100);
  n.notify('INSTANCE', 'VI_3', {}, 'STOP', 100);
  await n.idle(1000);
  t.equal(fake.mails.length, 3, 'no mail at stop (keepalived sends none)');
  n.close();
  t.equal(fake.closed, 1, 'close() closes the transport');

  const none = new Notifications({ runner, log: new MemoryLog(), checkScripts: false });
  none.configure(configFromText(SYNC_CONF));
  none.notify('INSTANCE', 'VI_1', {}, 'MASTER', 100);
  await none.idle(500);
  t.same(none.mailStats, { sent: 0, failed: 0, dropped: 0, queued: 0, sending: false }, 'no transport given: nothing');
});

t.test('a reload that changes the server makes a new transport and closes the old one after its mail', async (t) => {
  const fake = new FakeMail();
  fake.hold = true;
  const a = alerts(fake);
  a.configure(configFromText(SYNC_CONF));
  a.notify('INSTANCE', 'VI_1', 'MASTER');
  a.configure(configFromText(SYNC_CONF.replace('smtp_server 127.0.0.1 2525', 'smtp_server 10.0.0.25')));
  t.same(
    fake.targets.map((x) => `${x.host}:${x.port}`),
    ['127.0.0.1:2525', '10.0.0.25:25'],
  );
  t.equal(fake.closed, 0, 'the old transport finishes the mail it is sending');
  a.notify('INSTANCE', 'VI_1', 'BACKUP');
  fake.releaseAll();
  await a.idle(2000);
  t.equal(fake.closed, 1, 'then it is closed');
  t.same(subjects(fake), ['[R1] VRRP Instance VI_1 - Entering MASTER state', '[R1] VRRP Instance VI_1 - Entering BACKUP state']);
  a.configure(configFromText(SYNC_CONF.replace('smtp_server 127.0.0.1 2525', 'smtp_server 10.0.0.25')));
  t.equal(fake.targets.length, 2, 'an unchanged server keeps its transport');
});
