/**
 * keepalived keywords that vrrpd reads but does not run, in one table (issue 13 item 4): each says
 * whether a config using it is refused (running without it would change who holds the VIP or what
 * goes on the wire: a split brain, a VIP that does not follow a dead process, the wrong namespace)
 * or runs with a warning (it is about another keepalived process, mail, SNMP, tuning), and what to
 * do instead. The loader records every use with its file and line (load.ts); `vrrpd check` prints
 * them, `vrrpd check --strict` fails on them, `vrrpd run` logs them once (or refuses to start).
 * When vrrpd runs a keyword, delete its row. Pure.
 */

/** The block a keyword is read in ('' = the top level of the file). */
export type SupportBlock = '' | 'global_defs' | 'vrrp_instance' | 'authentication' | 'vrrp_sync_group';

/**
 * - `refused`: the config is refused (vrrpd run does not start it, a reload keeps the running one);
 * - `ignored`: it runs without the keyword, with a warning;
 * - `partial`: part of what the keyword does runs (said in `instead`), the rest does not: a warning.
 */
export type SupportClass = 'refused' | 'ignored' | 'partial';

export interface NotRunKeyword {
  readonly block: SupportBlock;
  readonly keyword: string;
  readonly cls: SupportClass;
  /** What the keyword does in keepalived and what to do with vrrpd instead. */
  readonly instead: string;
  /** Only when this holds of the statement's words (e.g. `auth_type AH`, `smtp_alert` not false). */
  readonly when?: (words: readonly string[]) => boolean;
  /** How the row is named in the docs, when not by its keyword alone (`auth_type AH`). */
  readonly label?: string;
}

/** The first words of every such diagnostic. */
export const NOT_SUPPORTED = 'not supported by vrrpd';

const LVS = "load balancing (LVS) is keepalived's checker process: run `keepalived --check` beside vrrpd for it";
const CHECKER = "a setting of keepalived's checker or BFD process, which vrrpd does not replace: no effect";
const SNMP = 'SNMP and D-Bus are not served: read `vrrpd status --json` or the state files instead';
const SCHED = 'process scheduling: set it in the systemd unit (Nice=, CPUSchedulingPolicy=, CPUAffinity=, LimitRTTIME=)';
const NO_EFFECT = 'a tuning or process setting of keepalived with no counterpart in vrrpd: no effect';
const PATHS = 'vrrpd has one process and names its files with --pid-file and --state-dir: no effect';
const DUMPS = "vrrpd writes its SIGUSR1/SIGUSR2/SIGJSON dumps to keepalived's default paths (/tmp/keepalived.data, .stats, .json)";
const IPVLAN =
  'not implemented: vrrpd runs `use_vmac` and `use_vmac_addr` (macvlans with MAC 00:00:5e:00:01:<VRID>, docs/vmac.md) but not an ipvlan; remove it (cloud SDNs such as HAVIP/HaVip drop frames from unknown MACs anyway)';
const VMAC_TUNING =
  'a tuning of virtual MAC interfaces that vrrpd does not apply: no effect (GARPs follow vrrp_garp_interval and the garp_* keywords)';
const BFD = 'BFD is not implemented: track the peer or the path with a vrrp_script instead';
const FIREWALL = "keepalived's firewall rules (iptables/nftables/ipsets) are not installed by vrrpd: no effect";

const STRICT =
  "strict mode's configuration rules are applied as keepalived applies them; the firewall rules keepalived adds with it (dropping traffic to the VIPs unless `accept`) are not: add them yourself if you rely on them";

const notFalse = (w: readonly string[]): boolean => !/^(false|no|off|0)$/i.test(w[1] ?? '');

const rows = (block: SupportBlock, cls: SupportClass, instead: string, keywords: readonly string[]): NotRunKeyword[] =>
  keywords.map((keyword) => ({ block, keyword, cls, instead }));

/** Every keyword vrrpd reads and does not run. */
export const NOT_RUN: readonly NotRunKeyword[] = [
  // the top level
  ...rows('', 'ignored', LVS, ['virtual_server', 'virtual_server_group', 'SSL', 'net_namespace_ipvs']),
  ...rows('', 'ignored', BFD, ['bfd_instance']),
  {
    block: '',
    keyword: 'garp_group',
    cls: 'ignored',
    instead:
      'GARP/NA timing per group of interfaces is not applied: vrrpd uses vrrp_garp_interval, vrrp_gna_interval and the garp_* keywords',
  },
  ...rows('', 'ignored', 'vrrpd follows links through netlink: no effect', [
    'linkbeat_interfaces',
    'linkbeat_use_polling',
    'interface_up_down_delays',
  ]),
  {
    block: '',
    keyword: 'track_group',
    cls: 'ignored',
    instead:
      "a static track group (static addresses and routes that follow a group of instances) is not applied: put such addresses in the instances' virtual_ipaddress / virtual_routes",
  },
  ...rows('', 'ignored', FIREWALL, ['namespace_with_ipsets']),
  ...rows('', 'ignored', PATHS, ['use_pid_dir', 'instance', 'child_wait_time']),
  {
    block: '',
    keyword: 'net_namespace',
    cls: 'refused',
    instead:
      'vrrpd runs in the network namespace it is started in: start it there (`ip netns exec NAME vrrpd run ...`, or NetworkNamespacePath= in the unit)',
  },
  // global_defs
  {
    block: 'global_defs',
    keyword: 'net_namespace',
    cls: 'refused',
    instead:
      'vrrpd runs in the network namespace it is started in: start it there (`ip netns exec NAME vrrpd run ...`, or NetworkNamespacePath= in the unit)',
  },
  ...rows('global_defs', 'ignored', 'not run by vrrpd: run it from the systemd unit (ExecStartPre=, ExecStopPost=)', [
    'startup_script',
    'shutdown_script',
    'startup_script_timeout',
    'shutdown_script_timeout',
  ]),
  ...rows('global_defs', 'ignored', SNMP, [
    'snmp_socket',
    'enable_traps',
    'enable_snmp_vrrp',
    'enable_snmp_keepalived',
    'enable_snmp_rfc',
    'enable_snmp_rfcv2',
    'enable_snmp_rfcv3',
    'enable_snmp_checker',
    'enable_dbus',
    'dbus_service_name',
  ]),
  ...rows('global_defs', 'ignored', FIREWALL, [
    'vrrp_iptables',
    'vrrp_ipsets',
    'nftables',
    'nftables_priority',
    'nftables_ifindex',
    'nftables_counters',
    'namespace_with_ipsets',
  ]),
  ...rows('global_defs', 'ignored', LVS, [
    'lvs_flush',
    'lvs_flush_on_stop',
    'lvs_sync_daemon',
    'lvs_timeouts',
    'lvs_netlink_cmd_rcv_bufs',
    'lvs_netlink_cmd_rcv_bufs_force',
    'lvs_netlink_monitor_rcv_bufs',
    'lvs_netlink_monitor_rcv_bufs_force',
    'lvs_notify_fifo',
    'lvs_notify_fifo_script',
    'nftables_ipvs',
    'network_namespace_ipvs',
  ]),
  ...rows('global_defs', 'ignored', CHECKER, [
    'checker_process_name',
    'checker_priority',
    'checker_no_swap',
    'checker_rt_priority',
    'checker_cpu_affinity',
    'checker_rlimit_rttime',
    'checker_log_all_failures',
    'checker_netlink_cmd_rcv_bufs',
    'checker_netlink_cmd_rcv_bufs_force',
    'checker_netlink_monitor_rcv_bufs',
    'checker_netlink_monitor_rcv_bufs_force',
    'bfd_process_name',
    'bfd_priority',
    'bfd_no_swap',
    'bfd_rt_priority',
    'bfd_cpu_affinity',
    'bfd_rlimit_rttime',
    'smtp_alert_checker',
    'no_checker_emails',
    'rs_init_notifies',
  ]),
  ...rows('global_defs', 'ignored', SCHED, [
    'vrrp_priority',
    'vrrp_no_swap',
    'vrrp_rt_priority',
    'vrrp_cpu_affinity',
    'vrrp_rlimit_rttime',
  ]),
  {
    block: 'global_defs',
    keyword: 'vmac_prefix',
    cls: 'ignored',
    instead: 'a VMAC without a name in `use_vmac` is always `vrrp.<VRID>`: give the name in `use_vmac IFNAME`',
  },
  {
    block: 'global_defs',
    keyword: 'vmac_addr_prefix',
    cls: 'ignored',
    instead:
      'the VMAC of an address (`use_vmac_addr`, `use_vmac` on a VIP line) is always named `vrrp.<VRID>` or `vrrp<N>.<VRID>` (docs/vmac.md)',
  },
  ...rows('global_defs', 'ignored', VMAC_TUNING, ['vrrp_garp_extra_if', 'vrrp_vmac_garp_intvl']),
  ...rows('global_defs', 'ignored', DUMPS, ['state_dump_file', 'stats_dump_file', 'json_dump_file', 'json_version']),
  ...rows('global_defs', 'ignored', PATHS, ['instance', 'use_pid_dir', 'child_wait_time', 'data_use_instance']),
  ...rows('global_defs', 'ignored', NO_EFFECT, [
    'disable_local_igmp',
    'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_cmd_rcv_bufs_force',
    'vrrp_netlink_monitor_rcv_bufs',
    'vrrp_netlink_monitor_rcv_bufs_force',
    'vrrp_rx_bufs_policy',
    'vrrp_rx_bufs_multiplier',
    'process_monitor_rcv_bufs',
    'process_monitor_rcv_bufs_force',
    'max_auto_priority',
    'min_auto_priority_delay',
    'process_names',
    'process_name',
    'vrrp_process_name',
    'reload_time_file',
    'reload_repeat',
    'reload_file',
    'include_check',
    'config_save_dir',
    'tmp_config_directory',
    'linkbeat_use_polling',
  ]),
  { block: 'global_defs', keyword: 'vrrp_strict', cls: 'partial', instead: STRICT },
  {
    block: 'global_defs',
    keyword: 'fifo_write_vrrp_states_on_reload',
    cls: 'ignored',
    instead: 'the states are not written to the notify FIFO again at a reload (vrrpd keeps the FIFO open across reloads instead)',
  },
  // vrrp_instance
  { block: 'vrrp_instance', keyword: 'strict_mode', cls: 'partial', instead: STRICT, when: notFalse },
  {
    block: 'vrrp_instance',
    keyword: 'promote_secondaries',
    cls: 'ignored',
    instead: 'the interface setting is not changed: set it with sysctl (net.ipv4.conf.IFACE.promote_secondaries=1)',
  },
  ...rows('vrrp_instance', 'refused', IPVLAN, ['use_ipvlan']),
  {
    block: 'vrrp_instance',
    keyword: 'use_vmac',
    label: 'use_vmac MAC',
    cls: 'refused',
    instead: 'a virtual MAC address of your own is not implemented: write `use_vmac [IFNAME]` and vrrpd uses 00:00:5e:00:01:<VRID>',
    when: (w) => w.slice(1).some((x) => x.includes(':')),
  },
  ...rows('vrrp_instance', 'ignored', VMAC_TUNING, ['garp_extra_if', 'vmac_garp_intvl']),
  {
    block: 'vrrp_instance',
    keyword: 'vrf',
    cls: 'refused',
    instead: 'VRF binding is not implemented: without it the adverts and the VIP would use the main routing table',
  },
  ...rows('vrrp_instance', 'refused', BFD, ['track_bfd']),
  {
    block: 'authentication',
    keyword: 'auth_type',
    label: 'auth_type AH',
    cls: 'refused',
    instead:
      'IPsec-AH authentication is not implemented, and a keepalived peer would drop adverts without it (both nodes MASTER): use auth_type PASS, or no authentication, on every node',
    when: (w) => w[1] === 'AH',
  },
  ...rows('vrrp_instance', 'ignored', LVS, ['lvs_sync_daemon_interface']),
  ...rows('vrrp_instance', 'ignored', NO_EFFECT, ['debug', 'kernel_rx_buf_size', 'linkbeat_use_polling']),
  // vrrp_sync_group
  ...rows('vrrp_sync_group', 'refused', BFD, ['track_bfd']),
];

/** Instance keywords the parser reads and keeps in `unsupported`, nothing else (each has a row above). */
export const INSTANCE_NOT_RUN: readonly string[] = [
  'use_ipvlan',
  'garp_extra_if',
  'vmac_garp_intvl',
  'debug',
  'kernel_rx_buf_size',
  'linkbeat_use_polling',
  'vrf',
  'track_bfd',
];

const BY_KEY = new Map<string, NotRunKeyword>(NOT_RUN.map((r) => [`${r.block}\0${r.keyword}`, r]));

/** The row for `keyword` read in `block`, if vrrpd does not run it (with these words). */
export function notRunKeyword(block: string, words: readonly string[]): NotRunKeyword | undefined {
  const r = BY_KEY.get(`${block}\0${words[0] ?? ''}`);
  return r !== undefined && (r.when === undefined || r.when(words)) ? r : undefined;
}

/** The first use of such a keyword in a config, and how many more uses it has. */
export interface NotRunUse {
  readonly row: NotRunKeyword;
  readonly file: string;
  readonly line: number;
  more: number;
}

/** The diagnostic's text for a use (and `more` uses elsewhere). */
export function notRunMessage(row: NotRunKeyword, more = 0): string {
  const where =
    row.block === '' ? 'at the top level' : row.block === 'authentication' ? 'in vrrp_instance authentication' : `in ${row.block}`;
  const what = `${row.label ?? row.keyword} (${where}${more > 0 ? `; ${more} more use${more === 1 ? '' : 's'} after this one` : ''})`;
  const verdict = row.cls === 'refused' ? 'configuration refused' : row.cls === 'partial' ? 'run in part' : 'ignored';
  return `${NOT_SUPPORTED}: ${what} - ${verdict}: ${row.instead}`;
}
