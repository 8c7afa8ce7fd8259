#!/usr/bin/env bash
# Run tests with the wall clock moved to fixed dates by libfaketime (Debian's `faketime`), to prove
# that no test depends on today's date: a one-digit day (the 2nd) and a two-digit one (the 25th).
#   scripts/test-dates.sh                 # the tests that format dates (fast, no root needed)
#   scripts/test-dates.sh test/...ts      # these files
# The clock starts at the date and runs on ('@'), so timeouts behave; the monotonic clock is real.
# Not the whole suite: the namespaced tests compare the test's clock with the kernel's packet
# timestamps (tcpdump) and run keepalived and systemd tools, which a preloaded fake clock would
# set apart from each other (eleven of them failed under it, on either date).
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$(ls /usr/lib/*-linux-gnu/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "libfaketime not found: apt-get install faketime" >&2; exit 2; }
if [ $# -gt 0 ]; then files=("$@"); else
  files=(test/runtime/dates.test.ts test/runtime/units.test.ts test/control/logs.test.ts test/control/units.test.ts test/notify/units.test.ts)
fi
for d in '2026-12-02 04:48:56' '2026-11-25 23:05:09'; do
  echo "=== wall clock from $d"
  FAKETIME="@$d" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$lib" npx tap "${files[@]}"
done
