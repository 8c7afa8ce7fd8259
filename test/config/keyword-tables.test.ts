// The keyword tables, one file per block (src/config/keywords/): the dispatcher looks a keyword up in
// a Map built from its table, so a name given twice in one table would silently replace the first
// handler. These tests walk every table the root reaches.
import t from 'tap';
import type { Keyword } from '../../src/config/dispatch.js';
import { Diagnostics } from '../../src/config/diagnostics.js';
import { newParseState } from '../../src/config/keywords/parse-state.js';
import { otherPassRootKeywords, rootKeywords } from '../../src/config/keywords/root.js';
import { memoryHost } from '../support/config-host.js';

function walk(path: string, table: readonly Keyword[], visit: (path: string, table: readonly Keyword[]) => void): void {
  visit(path, table);
  for (const k of table) if (k.sub) walk(`${path} ${k.name}`, k.sub, visit);
}

const root = rootKeywords(newParseState(memoryHost({}), new Diagnostics(), 'keepalived.conf'));

t.test('no table has a keyword twice', async (t) => {
  let tables = 0;
  walk('root', root, (path, table) => {
    tables++;
    const names = table.map((k) => k.name);
    t.same(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
      path,
    );
  });
  walk('other-pass root', otherPassRootKeywords(), (path, table) => {
    const names = table.map((k) => k.name);
    t.same(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
      path,
    );
  });
  t.ok(tables >= 8, `root, global_defs, vrrp_instance, authentication, vrrp_script, vrrp_sync_group, two track_file tables (${tables})`);
});

t.test('every VRRP block is read by this pass and skipped by the others', async (t) => {
  const blocks = ['global_defs', 'vrrp_instance', 'vrrp_script', 'vrrp_sync_group', 'track_file', 'vrrp_track_file'];
  for (const name of blocks) {
    const k = root.find((x) => x.name === name);
    t.ok(k?.sub !== undefined && k.sub.length > 0 && k.inactive !== true, `${name} opens a block of keywords here`);
    t.equal(otherPassRootKeywords().find((x) => x.name === name)?.inactive, true, `${name} is inactive in the other passes`);
  }
  for (const name of ['static_ipaddress', 'static_routes', 'static_rules']) {
    t.ok(root.find((x) => x.name === name)?.handler, `${name} is read as a value block`);
  }
  t.equal(root.find((x) => x.name === 'virtual_server')?.inactive, true, 'LVS blocks are skipped silently');
});

t.test('the instance table has every area', async (t) => {
  const inst = root.find((x) => x.name === 'vrrp_instance')?.sub ?? [];
  const names = new Set(inst.map((k) => k.name));
  // one keyword from each part of the table (identity, timers, addresses, unicast, tracking, notify, unsupported)
  for (const n of [
    'virtual_router_id',
    'preempt_delay',
    'virtual_ipaddress',
    'unicast_peer',
    'track_script',
    'notify_master',
    'use_vmac',
  ]) {
    t.ok(names.has(n), n);
  }
  t.equal(names.size, 64);
});
