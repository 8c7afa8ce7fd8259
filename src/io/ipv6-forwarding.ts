/**
 * Whether IPv6 forwarding is on for an interface: the Router flag of the unsolicited neighbour
 * advertisements (protocol/na-frame.ts). keepalived reads `net/ipv6/conf/IF/forwarding` for it
 * (`set_ipv6_forwarding()` in vrrp_if_config.c) and reads it again when the last check is over 5 s
 * old (the runtime's cache: IPV6_FORWARDING_RECHECK_MS in runtime/garp.ts); watched in
 * test/fixtures/ipv6-na/ (eth1, forwarding 1: Router set; eth0: clear).
 *
 * The file is read from /proc/sys/net, which shows the network namespace of the thread that opens it:
 * read it where the interfaces are, as the sockets are opened.
 */
import { readFileSync } from 'node:fs';
import type { Ipv6ForwardingReader } from '../runtime/ports/net.js';
import { fail, ok, toIoError } from './io-error.js';

/** An interface name the kernel could have: 1..15 bytes, no `/`, not `.` or `..`. */
function validIfname(ifname: string): boolean {
  return (
    ifname.length > 0 &&
    Buffer.byteLength(ifname) <= 15 &&
    !ifname.includes('/') &&
    ifname !== '.' &&
    ifname !== '..' &&
    !ifname.includes('\0')
  );
}

/**
 * `net.ipv6.conf.IFNAME.forwarding` as a boolean (any value but 0 is on, as keepalived's `!!`).
 * Errors as values: EINVAL for a name no interface can have, ENOENT when there is no such interface
 * or IPv6 is off for it.
 */
export const readIpv6Forwarding: Ipv6ForwardingReader = (ifname) => {
  const syscall = 'open(/proc/sys/net/ipv6/conf/IF/forwarding)';
  if (!validIfname(ifname))
    return fail({
      kind: 'IoError',
      syscall,
      errno: 22,
      code: 'EINVAL',
      message: `not an interface name: ${JSON.stringify(ifname)}`,
      ifname,
    });
  try {
    const text = readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim();
    return ok(text !== '0' && text !== '');
  } catch (err) {
    return fail(toIoError(syscall, err, ifname));
  }
};
