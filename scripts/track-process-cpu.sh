#!/bin/sh
# Idle CPU of a vrrpd tracking one process (vrrp_track_process, weight 0) for 60 s, after 10 s of
# start-up, from /proc/PID/stat utime+stime; also the forks the host made meanwhile (/proc/stat
# "processes"), since the process events cost grows with them. Root; sends no traffic: the instance's
# interface does not exist (dynamic_interfaces), so it stays in FAULT and opens no VRRP socket.
#   scripts/track-process-cpu.sh           the kernel's process events (initial network namespace)
#   scripts/track-process-cpu.sh NETNS     the 1 s /proc scan (the subscription is refused in NETNS)
#   scripts/track-process-cpu.sh - notrack the same daemon without track_process (the baseline)
set -e
VRRPD="$(cd "$(dirname "$0")/.." && pwd)/bin/vrrpd"
D=$(mktemp -d /tmp/vr-pcm.XXXXXX)
cp /bin/sleep "$D/vpcmeasure"
"$D/vpcmeasure" 1000 &
SLEEPER=$!
cat > "$D/m.conf" <<CONF
global_defs {
    dynamic_interfaces
}
vrrp_track_process tp {
    process vpcmeasure
    weight 0
}
vrrp_instance VI_1 {
    interface vpcnone0
    virtual_router_id 51
    priority 100
    track_process {
        tp
    }
    virtual_ipaddress {
        192.0.2.200/32
    }
}
CONF
RUN=""
if [ -n "$1" ] && [ "$1" != - ]; then RUN="ip netns exec $1"; fi
if [ "$2" = notrack ]; then sed -i "/^    track_process {/,/^    }/d" "$D/m.conf"; fi
$RUN node "$VRRPD" run -f "$D/m.conf" -l --pid-file "$D/pid" --control-socket "$D/ctl" --state-dir "$D/st" --no-state-files >"$D/log" 2>&1 &
DAEMON=$!
sleep 10
PID=$(cat "$D/pid")
ticks() { awk '{print $14+$15}' "/proc/$PID/stat"; }
forks() { awk '/^processes/{print $2}' /proc/stat; }
T0=$(ticks); F0=$(forks)
sleep 60
T1=$(ticks); F1=$(forks)
HZ=$(getconf CLK_TCK)
echo "source: $(grep -o 'track_process: [a-z]* [^(;]*' "$D/log" | head -1)"
echo "cpu_ms_60s: $(((T1 - T0) * 1000 / HZ))  forks_on_host_60s: $((F1 - F0))"
kill "$DAEMON" "$SLEEPER"
wait 2>/dev/null || true
rm -rf "$D"
