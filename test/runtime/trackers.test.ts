/**
 * Trackers (trackers.ts): one scheduler per vrrp_script and one watcher per track_file the
 * instances use, results fed as `track` events to the instances tracking them, kept in step with
 * a reload. Shipped Instances on a recording env, fake runner and files; no root.
 */
import t from 'tap';
import { instanceSpecs } from '../../src/runtime/params.js';
import { configFromText } from '../support/config-host.js';
import { instanceIn } from './fake-env.js';
import { trackersSetup } from './trackers-setup.js';

const conf = (scripts: string, track: string): string => `${scripts}track_file tf {
  file /run/w
  weight 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_interface {
    eth3
  }
${track}  track_file {
    tf
  }
  virtual_ipaddress {
    10.0.0.100
  }
}
`;
const SCRIPT = 'vrrp_script chk {\n  script /bin/chk\n  interval 2\n  weight 10\n}\n';
const TRACK = '  track_script {\n    chk\n  }\n';

function setup(text: string) {
  const s = trackersSetup(text, { state: 'BACKUP', isUp: (n) => n !== 'eth3' });
  const { io } = s;
  io.fileData.set('/run/w', '5\n');
  /** Advance the fake clock by `ms`, letting the fake runner's results come in. */
  const run = async (ms: number): Promise<void> => {
    io.fake.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  return Object.assign(s, { run });
}

t.test('initial tracking is recorded before start: a down interface, the file value', async (t) => {
  const s = setup(conf('', ''));
  s.trackers.sync();
  const inst = s.insts[0]!;
  s.trackers.prepare(inst);
  t.equal(inst.snapshot.tracking.interfaces.eth3, false, 'eth3 is down');
  t.equal(inst.snapshot.tracking.files.tf, 5, 'track_file value read at start');
  t.same(s.f.sent, [], 'nothing performed: the instance has not started');
});

t.test('script results reach the instances tracking the script, on the queue', async (t) => {
  const s = setup(conf(SCRIPT, TRACK));
  s.io.exitCodes.set('/bin/chk', 0);
  s.trackers.sync();
  await s.run(0);
  t.same(
    s.io.runs.map((r) => r.argv),
    [['/bin/chk']],
    'started at once',
  );
  await s.drain();
  t.match(s.insts[0]!.snapshot.tracking.scripts.chk, { status: 'ok' }, 'the instance heard the result (rise 1)');
  s.trackers.stop();
  await s.run(10_000);
  t.equal(s.io.runs.length, 1, 'stopped: no more runs');
});

t.test('a reload keeps a script (with its state, logged), stops one no longer used', async (t) => {
  const s = setup(conf(SCRIPT, TRACK));
  s.trackers.sync();
  await s.run(0);
  await s.drain();
  s.trackers.sync();
  t.ok(s.log.messages('info').includes('VRRP_Script(chk) considered successful on reload'));
  s.set(instanceSpecs(configFromText(conf('', ''))).map((x) => instanceIn(x, s.f, 'BACKUP')));
  s.trackers.sync();
  await s.run(10_000);
  t.equal(s.io.runs.length, 1, 'the script no instance tracks any more is stopped');
});
