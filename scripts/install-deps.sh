#!/usr/bin/env bash
# Installs the Debian packages tscni's build, tests and demo need, only those that are missing:
# iproute2 (namespaces for tests and the demo), a C compiler (the N-API addon), iptables/nftables
# (masquerade), ping (traffic between test namespaces), nsenter, and the Go reference plugins
# (/usr/lib/cni) that the side-by-side tests compare against, and strace (the test that proves a
# plugin run touches nothing in /tmp), firewalld with dbus-daemon (the firewall plugin's firewalld
# backend is tested against a real firewalld on a private bus inside a test namespace), and for the
# podman test: podman (4.3.1, CNI backend), runc (crun does not start containers on this kernel)
# and busybox-static (the containers' rootfs). Needs root and apt-get.
set -uo pipefail
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v iptables >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
command -v ping >/dev/null || need+=(iputils-ping)
command -v nsenter >/dev/null || need+=(util-linux)
[ -x /usr/bin/strace ] || need+=(strace)
[ -x /usr/lib/cni/loopback ] || need+=(containernetworking-plugins)
[ -x /usr/bin/dbus-daemon ] || need+=(dbus-daemon)
[ -x /usr/sbin/firewalld ] || need+=(firewalld)
# runc before podman, so that apt settles podman's `crun | runc` with runc and brings no crun.
command -v runc >/dev/null || need+=(runc)
command -v podman >/dev/null || need+=(podman)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
# node_api.h for the addon: next to the running node (official builds), else Debian's headers
# (N-API is ABI-stable: any version's headers build an addon every Node 20+ loads).
node_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_dir/include/node/node_api.h" ] || [ -f /usr/include/node/node_api.h ] || need+=(libnode-dev)
[ ${#need[@]} -eq 0 ] && exit 0
echo "== apt-get install ${need[*]}"
# The tests run firewalld themselves, confined; the package must not start it on this host (it
# would take over the host's firewall). Under systemd the unit is masked before the install; in a
# container without systemd nothing starts it (the package has no init script).
if [[ " ${need[*]} " == *" firewalld "* ]] && [ -d /run/systemd/system ] && ! systemctl is-enabled -q firewalld 2>/dev/null; then
  systemctl mask firewalld.service >/dev/null
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
