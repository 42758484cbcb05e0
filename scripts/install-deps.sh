#!/usr/bin/env bash
# Installs the Debian packages tscni's build, tests and demo need, only those that are missing:
# iproute2 (namespaces for tests and the demo), a C compiler (the N-API addon), iptables/nftables
# (masquerade), ping (traffic between test namespaces), nsenter, and the Go reference plugins
# (/usr/lib/cni) that the side-by-side tests compare against, strace (the test that proves a
# plugin run touches nothing in /tmp), and etcd (etcd-server, etcd-client: the etcd-ipam tests
# start their own members on 127.0.0.1; the package's own service is kept from starting and
# left disabled, so nothing binds the host's etcd ports). Needs root and apt-get.
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
[ -x /usr/bin/etcd ] || need+=(etcd-server)
[ -x /usr/bin/etcdctl ] || need+=(etcd-client)
# node_api.h for the addon: next to the running node (official builds), else Debian's headers
# (N-API is ABI-stable: any version's headers build an addon every Node 20+ loads).
node_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_dir/include/node/node_api.h" ] || [ -f /usr/include/node/node_api.h ] || need+=(libnode-dev)
[ ${#need[@]} -eq 0 ] && exit 0
echo "== apt-get install ${need[*]}"
# etcd-server's maintainer script starts its service: a temporary policy-rc.d (when none is there)
# denies that, and the unit is disabled afterwards where systemd runs.
own_policy=
if [[ " ${need[*]} " == *" etcd-server "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
rc=$?
if [[ " ${need[*]} " == *" etcd-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
exit $rc
