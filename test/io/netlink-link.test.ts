/**
 * The macvlan request's nested attributes (io/netlink-link.ts), byte for byte as keepalived 2.2.7's
 * netlink_link_add_vmac() builds them (docs/vmac.md), and IFLA_INFO_KIND read back. No root: the
 * kernel's side is test/interop/vmac.test.ts.
 */
import t from 'tap';
import { linkKind, macvlanLinkInfo, nlattr } from '../../src/io/netlink-link.js';

t.test('IFLA_LINKINFO for a private macvlan', async (t) => {
  t.equal(
    macvlanLinkInfo().toString('hex'),
    [
      '0b000100', // IFLA_INFO_KIND, 4 + 7 bytes
      '6d6163766c616e00', // "macvlan" + 1 byte of padding (no NUL in the length, as keepalived)
      '0c000200', // IFLA_INFO_DATA, 12 bytes
      '08000100', // IFLA_MACVLAN_MODE
      '01000000', // MACVLAN_MODE_PRIVATE
    ].join(''),
  );
  t.equal(nlattr(8, Buffer.from([1])).toString('hex'), '0500080001000000', 'a u8 attribute is padded to 4 bytes');
});

t.test('IFLA_INFO_KIND read back', async (t) => {
  t.equal(linkKind(macvlanLinkInfo()), 'macvlan');
  t.equal(
    linkKind(Buffer.concat([nlattr(2, Buffer.alloc(4)), nlattr(1, Buffer.from('veth\0'))])),
    'veth',
    'after another attribute, NUL stripped',
  );
  t.equal(linkKind(undefined), undefined);
  t.equal(linkKind(Buffer.from([0xff, 0, 1, 0])), undefined, 'a bad length is no kind');
});
