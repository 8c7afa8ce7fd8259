/**
 * SMTP alerts from the built daemon (lab `vn-smtp-`, 10.239.25.0/24; host `a` runs `vrrpd run`,
 * host `m` a real SMTP server, test/notify/smtp-sink.ts):
 *  - a single node becomes MASTER: the server receives keepalived 2.2.7's two mails (BACKUP at
 *    start-up, then MASTER) with its envelope, HELO name, headers and bodies; none at stop;
 *  - a slow server (greeting after 1.5 s) and a dead one (an address nobody answers ARP for,
 *    smtp_connect_timeout 2): ten MASTER instances' adverts keep their cadence while their twenty
 *    mails wait, measured from a capture on `m` (bench/control-flood.ts advertJitter; the bound is
 *    control-flood.test.ts's); the dead server's failure is logged after the connect timeout.
 */
import t, { type Test } from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { requireBuild, confText, instanceConf, startVrrpd, waitState, type VrrpdNode } from './helpers.js';
import { startWireWatch } from '../support/vrrp-harness.js';
import { advertJitter } from '../../bench/control-flood.js';
import { startSmtpSink, subjectOf } from '../notify/smtp-sink.js';

const SUBNET = '10.239.25';
/** Advert jitter p99 bound under load (control-flood.test.ts: a quarter of the advert interval). */
const JITTER_P99_MAX_MS = 250;

function mailGlobals(server: string, timeoutS: number): string {
  return [
    '    notification_email {',
    '        ops@x.test',
    '        oncall@y.test',
    '    }',
    '    notification_email_from vrrpd@x.test',
    `    smtp_server ${server}`,
    '    smtp_helo_name helo.test',
    `    smtp_connect_timeout ${timeoutS}`,
    '    smtp_alert',
    '',
  ].join('\n');
}

const withoutDate = (data: string): string => data.replace(/^Date: [^\r]*\r\n/, '');

/** Ten instances on `a`, all MASTER, then the adverts on the wire for `windowMs`. */
async function cadenceUnderMail(
  t: Test,
  lab: Lab,
  o: { server: string; timeoutS: number; windowMs: number; started?: (node: VrrpdNode) => void },
) {
  const { server, timeoutS, windowMs } = o;
  const body = Array.from({ length: 10 }, (_, k) =>
    instanceConf({ name: `VI_${k + 1}`, vrid: k + 1, priority: 100, vips: [`${SUBNET}.${101 + k}/24`] }),
  ).join('\n');
  const wire = await startWireWatch(lab, 'm', 'eth0', 'proto 112');
  const node = await startVrrpd(lab, 'a', confText('R1', body, mailGlobals(server, timeoutS)));
  o.started?.(node);
  for (let k = 1; k <= 10; k++) await waitState(node, 'MASTER', 10_000, `VI_${k}`);
  await sleep(1500); // every instance past its first adverts
  const from = Date.now();
  await sleep(windowMs);
  const to = Date.now();
  const j = advertJitter(wire.view().adverts, lab.host('a').ip, [[from, to]]);
  await wire.stop();
  t.comment(
    `adverts over ${windowMs} ms: ${j.intervals} intervals, jitter p50 ${j.p50.toFixed(1)} p99 ${j.p99.toFixed(1)} max ${j.max.toFixed(1)} ms`,
  );
  t.equal(j.vrids, 10, 'every instance advertised');
  t.equal(j.missed, 0, 'no advert missing');
  t.ok(j.intervals >= 10 * (windowMs / 1000 - 2), `${j.intervals} advert intervals measured`);
  t.ok(j.p99 <= JITTER_P99_MAX_MS, `advert jitter p99 ${j.p99.toFixed(1)} ms <= ${JITTER_P99_MAX_MS} ms`);
  return node;
}

async function stop(node: VrrpdNode): Promise<void> {
  await node.proc.kill('SIGTERM', 5000);
}

t.test('SMTP alerts from vrrpd run', { skip: netnsSkip() || requireBuild(), timeout: 180_000 }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vn-smtp-', subnet: SUBNET, hosts: ['a', 'm'] });
  const mIp = lab.host('m').ip;

  await t.test('a node becoming MASTER mails keepalived 2.2.7 alerts to a real SMTP server', async (t) => {
    const sink = await startSmtpSink(lab, 'm', { port: 2525 });
    const conf = confText('R1', instanceConf({ priority: 100, vips: [`${SUBNET}.100/24`] }), mailGlobals(`${mIp} 2525`, 5));
    const node = await startVrrpd(lab, 'a', conf);
    await waitState(node, 'MASTER');
    await pollUntil(() => sink.mails().length >= 2, 10_000, 'two mails');
    const [backup, master] = sink.mails();
    for (const m of [backup!, master!]) {
      t.equal(m.from, 'vrrpd@x.test', 'MAIL FROM: notification_email_from');
      t.same(m.to, ['ops@x.test', 'oncall@y.test'], 'RCPT TO: every notification_email address');
      t.equal(m.helo, 'helo.test', 'the HELO name is smtp_helo_name');
      t.match(m.data, /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\n/, 'a Date header first');
    }
    t.equal(
      withoutDate(backup!.data),
      'From: vrrpd@x.test\r\nSubject: [R1] VRRP Instance VI_1 - Entering BACKUP state\r\nX-Mailer: Keepalived\r\n' +
        'To: ops@x.test, oncall@y.test\r\n\r\n=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n',
      'the BACKUP mail at start-up, as keepalived 2.2.7 sent it',
    );
    t.equal(
      withoutDate(master!.data),
      'From: vrrpd@x.test\r\nSubject: [R1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n' +
        'To: ops@x.test, oncall@y.test\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n',
      'the MASTER mail, as keepalived 2.2.7 sent it',
    );
    await stop(node);
    await sleep(1500);
    t.same(
      sink.mails().map(subjectOf),
      ['[R1] VRRP Instance VI_1 - Entering BACKUP state', '[R1] VRRP Instance VI_1 - Entering MASTER state'],
      'no mail at stop (as keepalived 2.2.7)',
    );
    await sink.proc.kill('SIGTERM', 2000);
  });

  await t.test('a slow SMTP server delays no advert', async (t) => {
    const sink = await startSmtpSink(lab, 'm', { port: 2526, delayMs: 1500 });
    const node = await cadenceUnderMail(t, lab, { server: `${mIp} 2526`, timeoutS: 5, windowMs: 10_000 });
    t.ok(sink.connections() >= 3, `the server was being talked to meanwhile (${sink.connections()} connections)`);
    t.ok(sink.mails().length >= 2, `mails arrived (${sink.mails().length})`);
    t.equal(sink.maxOpen(), 1, 'one connection at a time');
    await stop(node);
    await sink.proc.kill('SIGTERM', 2000);
  });

  await t.test('a dead SMTP server delays no advert, and its failure is logged after the connect timeout', async (t) => {
    const dead = `${SUBNET}.200`; // in the lab's /24, no host: nobody answers
    let failedAfterMs: Promise<number> = Promise.resolve(Number.NaN);
    const node = await cadenceUnderMail(t, lab, {
      server: dead,
      timeoutS: 2,
      windowMs: 10_000,
      started: (n) => {
        const t0 = Date.now();
        failedAfterMs = n.proc.waitFor(/SMTP alert to \S+ failed/, 15_000).then(() => Date.now() - t0);
      },
    });
    const after = await failedAfterMs;
    // The first mail (BACKUP at start-up) is queued just before "Startup complete".
    t.ok(after >= 1000 && after <= 4500, `the first failure came ${after} ms after start-up (smtp_connect_timeout 2)`);
    const line = /SMTP alert to \[10\.239\.25\.200\]:25 failed: ([^\n]*)/.exec(node.proc.output);
    t.ok(line, 'the failure is logged');
    t.match(line?.[1] ?? '', /timeout|ETIMEDOUT|EHOSTUNREACH/i, `the reason: ${line?.[1]}`);
    const failures = node.proc.output.split('\n').filter((l) => l.includes('SMTP alert to')).length;
    t.equal(failures, 1, 'one line for the failures (rate-limited)');
    await stop(node);
    t.equal(node.proc.exitCode, 0, 'the daemon stops cleanly with a mail in flight');
  });
});
