#!/bin/sh
# CI (root): install the package built by `make deb`, run the installed command on the packaged
# examples, check the unit, remove the package, and check that nothing it installed is left.
#   scripts/deb-smoke.sh vrrpd_<version>_<arch>.deb
# Where systemd is PID 1 the unit is started too, inside a network namespace made for it (its
# adverts stay there), on the packaged multicast example; elsewhere `systemd-analyze verify` reads it.
set -eu
deb=$1
fail() { echo "deb-smoke: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
case "$(dpkg-query -W -f='${Status}' vrrpd 2>/dev/null || true)" in
  *" installed") fail "a vrrpd package is installed already: not touching it" ;;
esac

# no empty directory: `npm prune --omit=dev` leaves the scope folder of each dev-only package it
# removes (node_modules/@esbuild, ...), and `make install` must not ship them. In the sorted listing
# a directory is empty when the next path does not start with it.
empty=$(dpkg-deb -c "$deb" | sed -E 's/^([^ ]+ +){5}//; s/ -> .*//' | LC_ALL=C sort |
  awk 'p != "" && index($0, p) != 1 {print p} {p = ($0 ~ /\/$/) ? $0 : ""} END {if (p != "") print p}')
[ -z "$empty" ] || fail "empty directories in $deb:
$empty"

# every regular file and link the package holds
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|')
for f in $files; do [ ! -e "$f" ] || fail "$f exists before installation"; done

dpkg -i "$deb"
trap 'dpkg --purge vrrpd >/dev/null 2>&1 || true' EXIT

vrrpd --version
# the bundle bin/vrrpd runs (scripts/bundle.mjs), with the worker entry beside it
[ -s /usr/lib/vrrpd/dist/bundle/main.js ] && [ -s /usr/lib/vrrpd/dist/bundle/config-worker.cjs ] || fail "no bundle in dist/bundle"
[ "$(readlink -f "$(command -v vrrpd)")" = /usr/lib/vrrpd/bin/vrrpd ] || fail "vrrpd on PATH is not the package's"
for conf in /usr/share/doc/vrrpd/examples/*; do
  # the examples name interfaces and hook scripts of the hosts they are written for
  vrrpd check --no-host-checks -f "$conf" || fail "check $conf"
done
test -s /usr/share/man/man8/vrrpd.8.gz && test -s /usr/share/man/man5/vrrpd.conf.5.gz || fail "man pages"
grep -q '^complete -F _vrrpd vrrpd' /usr/share/bash-completion/completions/vrrpd || fail "bash completion"
unit=/lib/systemd/system/vrrpd.service
grep -q '^ExecStart=/usr/bin/node --max-semi-space-size=1 /usr/lib/vrrpd/bin/vrrpd run ' "$unit" || fail "ExecStart does not name Node by its path"

if [ -d /run/systemd/system ]; then
  ns=vrrpd-deb-smoke
  ip netns add "$ns"
  ip -n "$ns" link add eth0 type veth peer name eth1
  ip -n "$ns" link set eth0 up; ip -n "$ns" link set eth1 up; ip -n "$ns" link set lo up
  ip -n "$ns" addr add 10.237.99.1/24 dev eth0
  mkdir -p /run/systemd/system/vrrpd.service.d
  printf '[Unit]\nConditionFileNotEmpty=\n[Service]\nNetworkNamespacePath=/run/netns/%s\nExecStart=\nExecStart=/usr/bin/node /usr/lib/vrrpd/bin/vrrpd run -f /usr/share/doc/vrrpd/examples/keepalived.conf.multicast --state-dir /run/vrrpd-smoke\n' "$ns" \
    > /run/systemd/system/vrrpd.service.d/smoke.conf
  systemctl daemon-reload
  systemctl start vrrpd.service
  vrrpd status --control-socket /run/vrrpd-smoke/vrrpd.sock || { journalctl -u vrrpd --no-pager | tail -30; fail "the unit does not answer"; }
  systemctl stop vrrpd.service
  rm -rf /run/systemd/system/vrrpd.service.d /run/vrrpd-smoke
  systemctl daemon-reload
  ip netns del "$ns"
else
  systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
fi

dpkg -r vrrpd
trap - EXIT
# dpkg -r keeps the package's entry (state "config-files") because it has maintainer scripts: purge it
dpkg --purge vrrpd >/dev/null
dpkg-query -W vrrpd >/dev/null 2>&1 && fail "dpkg still lists vrrpd after --purge"
for f in $files; do [ ! -e "$f" ] || fail "$f left behind after dpkg -r"; done
[ ! -e /usr/lib/vrrpd ] || fail "/usr/lib/vrrpd left behind"
echo "deb-smoke: installed, ran and removed $deb"
