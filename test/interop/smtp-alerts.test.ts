/**
 * SMTP alerts, vrrpd against the running keepalived 2.2.7 (the oracle): one keepalived.conf with a
 * standalone instance and a two-member sync group, run by keepalived, then by vrrpd, in host `n`;
 * a real SMTP server (test/notify/smtp-sink.ts) in host `m` records what each sends while its
 * instances go BACKUP then MASTER, and after its stop. The same eight mails must arrive (envelope,
 * HELO name, every header but the Date, bodies), in any order (keepalived opens one connection per
 * mail at once, vrrpd sends them one after the other), and none at stop. The one difference on the
 * wire: nodemailer opens with EHLO where keepalived says HELO. Root; lab vk-smtp-, 10.239.24.0/24.
 */
import t, { type Test } from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { requireBuild } from '../support/build-check.js';
import { keepalivedUnavailable, startNode, type Impl } from '../support/vrrp-harness.js';
import { startSmtpSink, subjectOf, type SinkMail } from '../notify/smtp-sink.js';

const SUBNET = '10.239.24';

const instance = (name: string, vrid: number): string =>
  `vrrp_instance ${name} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n  advert_int 1\n` +
  `  virtual_ipaddress {\n    ${SUBNET}.${100 + vrid}/24\n  }\n}\n`;

function conf(server: string): string {
  return (
    `global_defs {\n  router_id R1\n  notification_email {\n    ops@x.test\n    oncall@y.test\n  }\n` +
    `  notification_email_from vrrpd@x.test\n  smtp_server ${server}\n  smtp_helo_name helo.test\n  smtp_alert\n}\n` +
    `vrrp_sync_group VG {\n  group {\n    VI_2\n    VI_3\n  }\n}\n` +
    instance('VI_1', 1) +
    instance('VI_2', 2) +
    instance('VI_3', 3)
  );
}

/** What must be equal between the implementations: all but the Date header and the opening command. */
const comparable = (m: SinkMail) => ({ helo: m.helo, from: m.from, to: m.to, data: m.data.replace(/^Date: [^\r]*\r\n/, '') });

async function mailsOf(t: Test, lab: Lab, impl: Impl, port: number) {
  const sink = await startSmtpSink(lab, 'm', { port });
  const node = startNode(lab, { impl, host: 'n', conf: conf(`${lab.host('m').ip} ${port}`) });
  await pollUntil(() => sink.mails().length >= 8, 20_000, `${impl}: eight mails`);
  await sleep(1000); // anything more would show up now
  const running = sink.mails();
  await node.stop(5000);
  await sleep(1500);
  const afterStop = sink.mails().slice(running.length);
  await sink.proc.kill('SIGTERM', 2000);
  t.comment(`${impl}: ${running.map((m) => `${m.opening} ${subjectOf(m)}`).join(' | ')}`);
  return { running, afterStop };
}

t.test(
  'SMTP alerts: vrrpd sends what keepalived 2.2.7 sends',
  { skip: netnsSkip() || keepalivedUnavailable() || requireBuild(), timeout: 120_000 },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vk-smtp-', subnet: SUBNET, hosts: ['n', 'm'] });
    const ka = await mailsOf(t, lab, 'keepalived', 2525);
    const vr = await mailsOf(t, lab, 'vrrpd', 2526);
    const sorted = (ms: SinkMail[]) => ms.map(comparable).sort((a, b) => a.data.localeCompare(b.data));
    t.equal(ka.running.length, 8, 'keepalived: 8 mails (VG, VI_1..3 BACKUP at start-up; the same in MASTER)');
    t.same(sorted(vr.running), sorted(ka.running), 'vrrpd: the same mails');
    t.same(
      ka.running.map(subjectOf).filter((s) => s.includes('Group')),
      ['[R1] VRRP Group VG - Entering BACKUP state', '[R1] VRRP Group VG - Entering MASTER state'],
      "the group's own mails",
    );
    t.same(ka.afterStop, [], 'keepalived: no mail at stop');
    t.same(vr.afterStop, [], 'vrrpd: no mail at stop');
    t.ok(
      ka.running.every((m) => m.opening === 'HELO'),
      'keepalived opens with HELO',
    );
    t.ok(
      vr.running.every((m) => m.opening === 'EHLO'),
      'vrrpd (nodemailer) opens with EHLO',
    );
  },
);
