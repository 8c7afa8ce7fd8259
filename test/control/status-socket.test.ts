/**
 * The read-only status socket, as another user (issue 10): a child running as uid 4242 / gid 4242
 * (no passwd entry needed) reads status on a status socket of group 4242 (mode 0660) and is
 * refused every change, on that socket (read-only) and on the control socket (mode 0600: the
 * kernel refuses the connection; opened to everyone, SO_PEERCRED still refuses the uid).
 *  1. the control plane on fake ports (root for the uid switch, no namespaces);
 *  2. the built daemon, `vrrpd run --status-socket PATH --status-group 4242`, in a namespace, with
 *     the built CLI run as uid 4242 (`vrrpd status --socket PATH`); and `--status-group` with an
 *     unknown name stops `vrrpd run` before anything starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { ControlPlane } from '../../src/control/plane.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { MemoryLog } from '../../src/log.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { memoryHost } from '../support/config-host.js';
import { Lab, netnsSkip } from '../support/netns.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';
import { VRRPD_BIN, requireBuild, confText, instanceConf, startVrrpd } from '../daemon/helpers.js';
import { waitVi1 } from './helpers.js';

const UID = 4242;
const rootSkip = process.getuid?.() === 0 ? false : 'needs root (runs a client as uid 4242)';
/**
 * node as uid 4242, through `env -u NODE_OPTIONS`: tap's process-info hook, which tap adds to every
 * child's NODE_OPTIONS, writes under the checkout, where uid 4242 may not.
 */
const NODE = ['env', '-u', 'NODE_OPTIONS', process.execPath] as const;
const AS_USER = { uid: UID, gid: UID } as const;

/**
 * One request line from a child running as uid/gid 4242 with no supplementary groups; resolves
 * with the reply line, or `ERR <code>` when the connection fails. Plain node, no repository files.
 */
function asUser(path: string, req: object): Promise<string> {
  const code = `const s=require('net').connect(${JSON.stringify(path)});let b='';s.setEncoding('utf8');
s.on('connect',()=>s.write(${JSON.stringify(`${JSON.stringify(req)}\n`)}));
s.on('data',(d)=>{b+=d;const i=b.indexOf('\\n');if(i>=0){process.stdout.write(b.slice(0,i));process.exit(0);}});
s.on('error',(e)=>{process.stdout.write('ERR '+e.code);process.exit(0);});`;
  return new Promise((resolve, reject) => {
    const c = spawn(NODE[0], [...NODE.slice(1), '-e', code], { ...AS_USER, stdio: ['ignore', 'pipe', 'inherit'], timeout: 10_000 });
    let out = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => (out += d));
    c.on('error', reject);
    c.on('exit', () => resolve(out));
  });
}

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc-statsock-'));
  chmodSync(dir, 0o711); // uid 4242 may pass through to the sockets, not list or write
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const CONF =
  'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n';

async function plane(t: Test, dir: string, socketMode?: number): Promise<{ control: string; status: string }> {
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': CONF }));
  if (!r.config) throw new Error('config');
  const io = new FakeIo();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const control = join(dir, `control-${socketMode ?? 'default'}.sock`);
  const status = join(dir, `status-${socketMode ?? 'default'}.sock`);
  const p = new ControlPlane({
    daemon: d,
    log,
    version: '9.9.9',
    socketPath: control,
    statusSocketPath: status,
    statusGid: UID,
    stateDir: dir,
    reload: () => undefined,
    sd: new SdNotify({ env: {} }),
    ...(socketMode !== undefined ? { socketMode } : {}),
  });
  const s = await d.start(r.config);
  if (!s.ok) throw new Error(s.error.message);
  await p.started();
  t.teardown(() => p.close());
  await advanceDaemon(d, io, 4000);
  return { control, status };
}

t.test('uid 4242 reads status on the status socket and changes nothing on either socket (fake ports)', { skip: rootSkip }, async (t) => {
  const dir = tmp(t);
  const { control, status } = await plane(t, dir);
  const st = lstatSync(status);
  t.equal(st.mode & 0o7777, 0o660, 'status socket mode 0660');
  t.equal(st.gid, UID, 'status socket group 4242');
  t.equal(lstatSync(control).mode & 0o7777, 0o600, 'control socket mode 0600');

  const reply = JSON.parse(await asUser(status, { cmd: 'status' }));
  t.match(reply, { ok: true, status: { instances: [{ name: 'VI_1', state: 'MASTER' }] } }, 'status as uid 4242');
  t.match(JSON.parse(await asUser(status, { cmd: 'ping' })), { ok: true, pong: true });
  for (const req of [{ cmd: 'promote', instance: 'VI_1' }, { cmd: 'maintenance', on: true }, { cmd: 'reload' }]) {
    t.match(
      JSON.parse(await asUser(status, req)),
      { ok: false, error: /is not served on the read-only status socket/ },
      `${req.cmd} on the status socket: refused`,
    );
  }
  t.equal(await asUser(control, { cmd: 'promote', instance: 'VI_1' }), 'ERR EACCES', 'the control socket (0600) refuses the connection');
  t.equal(await asUser(control, { cmd: 'status' }), 'ERR EACCES', '... for status too');

  // Even a control socket opened to everyone refuses changes by SO_PEERCRED.
  const open = await plane(t, dir, 0o666);
  t.match(
    JSON.parse(await asUser(open.control, { cmd: 'promote', instance: 'VI_1', user: 'root' })),
    { ok: false, error: "'promote' needs root" },
    'mode 0666: promote refused to uid 4242 although it claims root',
  );
  t.match(JSON.parse(await asUser(open.control, { cmd: 'status' })), { ok: true }, 'while status is answered');
});

const cliSkip = (): false | string => {
  if (rootSkip) return rootSkip;
  const r = spawnSync(NODE[0], [...NODE.slice(1), VRRPD_BIN, 'version'], { ...AS_USER, timeout: 10_000 });
  return r.status === 0 ? false : 'the checkout is not readable by uid 4242 (the built CLI cannot run as that user)';
};

t.test(
  'vrrpd run --status-socket --status-group: the built daemon and CLI, uid 4242',
  { skip: netnsSkip() || requireBuild() || cliSkip() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vc-ss-', subnet: '10.236.12', hosts: ['a'] });
    chmodSync(lab.tmpDir, 0o711);
    const statusPath = join(lab.tmpDir, 'status.sock');
    const conf = confText('a', instanceConf({ priority: 150, vips: ['10.236.12.100/24'] }));
    const a = await startVrrpd(lab, 'a', conf, ['--status-socket', statusPath, '--status-group', String(UID)]);
    chmodSync(a.stateDir, 0o711);
    await waitVi1(a.socket, 'MASTER', 8000);
    t.match(a.proc.output, /read-only status socket .*status\.sock \(mode 0660, group 4242\)/, 'logged at start');
    const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(NODE[0], [...NODE.slice(1), VRRPD_BIN, ...args], { ...AS_USER, timeout: 15_000, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const s = cli(['status', '--socket', statusPath, '--json']);
    t.equal(s.code, 0, `vrrpd status as uid 4242 on the status socket: ${s.stderr}`);
    t.match(JSON.parse(s.stdout), { instances: [{ name: 'VI_1', state: 'MASTER' }] });
    const table = cli(['status', '--control-socket', statusPath]);
    t.match(table.stdout, /VI_1\s+MASTER/, '--control-socket is accepted as the path too');
    const p1 = cli(['promote', 'VI_1', '--socket', statusPath]);
    t.equal(p1.code, 1);
    t.match(p1.stderr, /vrrpd promote: 'promote' is not served on the read-only status socket/);
    const p2 = cli(['promote', 'VI_1', '--socket', a.socket]);
    t.equal(p2.code, 1);
    t.match(p2.stderr, /permission denied on .*vrrpd\.sock/);
    const m = cli(['maintenance', 'on', '--socket', statusPath]);
    t.equal(m.code, 1, 'maintenance refused too');

    // An unknown group: a sentence and exit 2, nothing started.
    const bad = join(lab.tmpDir, 'bad.conf');
    writeFileSync(bad, conf);
    const r = spawnSync(
      process.execPath,
      [
        VRRPD_BIN,
        'run',
        '-f',
        bad,
        '--state-dir',
        join(lab.tmpDir, 'bad-state'),
        '--status-socket',
        join(lab.tmpDir, 's2.sock'),
        '--status-group',
        'no-such-group-vrrpd',
      ],
      { timeout: 15_000, encoding: 'utf8' },
    );
    t.equal(r.status, 2);
    t.match(r.stderr, /vrrpd run: --status-group: unknown group 'no-such-group-vrrpd'/);
  },
);
