#!/usr/bin/env bash
# Installs the Debian packages tscni's build, tests and demo need, only those that are missing:
# iproute2 (namespaces for tests and the demo), a C compiler (the N-API addon), iptables/nftables
# (masquerade), ping (traffic between test namespaces), nsenter, the Go reference plugins
# (/usr/lib/cni) that the side-by-side tests compare against, strace (the test that proves a
# plugin run touches nothing in /tmp), firewalld with dbus-daemon (the firewall plugin's firewalld
# backend is tested against a real firewalld on a private bus inside a test namespace), podman
# (4.3.1, CNI backend) with runc (crun does not start containers on this kernel) and
# busybox-static (the podman test's rootfs), and etcd (etcd-server, etcd-client: the etcd-ipam
# tests start their own members on 127.0.0.1). Needs root and apt-get.
#
# No service of these packages may start on this host: firewalld would take over the host's
# firewall, etcd would bind the host's etcd ports. The tests start their own, confined.
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
[ -x /usr/bin/etcd ] || need+=(etcd-server)
[ -x /usr/bin/etcdctl ] || need+=(etcd-client)
# node_api.h for the addon: next to the running node (official builds), else Debian's headers
# (N-API is ABI-stable: any version's headers build an addon every Node 20+ loads).
node_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_dir/include/node/node_api.h" ] || [ -f /usr/include/node/node_api.h ] || need+=(libnode-dev)
[ ${#need[@]} -eq 0 ] && exit 0
echo "== apt-get install ${need[*]}"
# Maintainer scripts start services through invoke-rc.d: a temporary policy-rc.d (when none is
# there) denies every start during this install. Under systemd, firewalld is also masked before
# the install and etcd disabled after it, so neither starts at the next boot either.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
if [[ " ${need[*]} " == *" firewalld "* ]] && [ -d /run/systemd/system ] && ! systemctl is-enabled -q firewalld 2>/dev/null; then
  systemctl mask firewalld.service >/dev/null
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
rc=$?
if [[ " ${need[*]} " == *" etcd-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
exit $rc
