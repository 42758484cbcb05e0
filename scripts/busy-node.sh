#!/bin/bash
# Turns THIS host into a lookalike of a busy Kubernetes node, and back, for running the test suite
# against what such a node has that a fresh VM does not:
#   - IP forwarding on: net.ipv4.ip_forward=1, net.ipv6.conf.all.forwarding=1
#     (with --inherit also net.core.devconf_inherit_init_net=1: new namespaces copy IPv6 settings too)
#   - a foreign bridge cni0 (down, no addresses, no ports: it sends nothing)
#   - foreign iptables chains (IPv4 and IPv6): CNI-FORWARD with a rule and a jump from FORWARD in
#     filter, CNI-FOREIGN-FILTER in filter, CNI-FOREIGN-NAT with a rule and a jump from POSTROUTING
#     in nat; their rules match only 10.255.254.0/24 and fd00:ffff:254::/64, which nothing uses
#   - a foreign nftables table inet foreign_cni (a chain with a rule that matches nothing)
#   - a busy /var/lib/cni: an allocation of a foreign network in /var/lib/cni/networks/foreign-net
#
#   bash scripts/busy-node.sh prepare [--inherit]
#   bash scripts/busy-node.sh undo
#   bash scripts/busy-node.sh status
#
# prepare records what it changed in /run/tscni-busy-node.state (previous sysctl values, what it
# created); undo restores exactly those values and removes exactly what prepare created, nothing
# else, then deletes the state file. Anything that already existed (a cni0, a CNI-FORWARD chain...)
# is left alone and not recorded. No address or route is added to the host and no packet is sent.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

STATE=/run/tscni-busy-node.state
NET4=10.255.254.0/24
NET6=fd00:ffff:254::/64
COMMENT='tscni busy-node: foreign'

die() { echo "busy-node: $*" >&2; exit 1; }
record() { printf '%s\n' "$*" >>"$STATE"; }
[ "$(id -u)" = 0 ] || die "run as root"

# sysctl <path under /proc/sys> <value>: records the old value (once per path), then writes.
set_sysctl() {
  local path=/proc/sys/$1 value=$2 old
  [ -w "$path" ] || die "no $path"
  old=$(cat "$path")
  grep -q "^sysctl $1 " "$STATE" || record "sysctl $1 $old"
  echo "$value" >"$path"
}

# The per-interface sysctls that forwarding changes as a side effect (recorded, restored on undo).
side_effects() {
  local f
  for f in /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/accept_redirects /proc/sys/net/ipv6/conf/*/forwarding; do
    [ -r "$f" ] && record "sysctl ${f#/proc/sys/} $(cat "$f")"
  done
}

ipt_chain_exists() { "$1" -t "$2" -S "$3" >/dev/null 2>&1; }

# foreign_chain <iptables|ip6tables> <table> <chain> <from chain> <net>: the chain with one rule and
# one jump to it, unless the chain exists already.
foreign_chain() {
  local ipt=$1 table=$2 chain=$3 from=$4 net=$5
  if ipt_chain_exists "$ipt" "$table" "$chain"; then
    echo "busy-node: $ipt -t $table $chain exists already: left alone"
    return
  fi
  "$ipt" -w -t "$table" -N "$chain"
  record "chain $ipt $table $chain"
  "$ipt" -w -t "$table" -A "$chain" -s "$net" -m comment --comment "$COMMENT" -j RETURN
  if [ -n "$from" ]; then
    "$ipt" -w -t "$table" -A "$from" -s "$net" -m comment --comment "$COMMENT" -j "$chain"
    record "jump $ipt $table $from $net $chain"
  fi
}

prepare() {
  [ -e "$STATE" ] && die "already prepared ($STATE exists): run undo first"
  : >"$STATE"
  side_effects
  set_sysctl net/ipv4/ip_forward 1
  set_sysctl net/ipv6/conf/all/forwarding 1
  if [ "${1:-}" = --inherit ]; then set_sysctl net/core/devconf_inherit_init_net 1; fi

  if ip link show cni0 >/dev/null 2>&1; then
    echo "busy-node: a cni0 exists already: left alone"
  else
    # Down, and no IPv6 link-local address even if someone sets it up.
    ip link add cni0 type bridge
    record "link cni0"
    echo 1 >/proc/sys/net/ipv6/conf/cni0/disable_ipv6
  fi

  # iptables-nft makes its tables (and base chains) on first use and never removes them: note the
  # ones that do not exist yet, so undo can remove them again if they hold no rule by then.
  local fam tbl
  for fam in ip ip6; do
    for tbl in filter nat; do
      nft list table "$fam" "$tbl" >/dev/null 2>&1 || record "table $fam $tbl"
    done
  done
  for ipt in iptables ip6tables; do
    net=$NET4
    [ "$ipt" = ip6tables ] && net=$NET6
    foreign_chain "$ipt" filter CNI-FORWARD FORWARD "$net"
    foreign_chain "$ipt" filter CNI-FOREIGN-FILTER "" "$net"
    foreign_chain "$ipt" nat CNI-FOREIGN-NAT POSTROUTING "$net"
  done

  if nft list table inet foreign_cni >/dev/null 2>&1; then
    echo "busy-node: nft table inet foreign_cni exists already: left alone"
  else
    nft -f - <<EOF
table inet foreign_cni {
  chain foreign {
    ip saddr $NET4 counter return comment "$COMMENT"
    ip6 saddr $NET6 counter return comment "$COMMENT"
  }
  chain forward {
    type filter hook forward priority 10; policy accept;
    ip saddr $NET4 jump foreign
  }
}
EOF
    record "nft inet foreign_cni"
  fi

  # A busy /var/lib/cni: a foreign network's allocation (created only where nothing is).
  local d=/var/lib/cni/networks/foreign-net
  if [ -e "$d" ]; then
    echo "busy-node: $d exists already: left alone"
  else
    local p missing=()
    for p in /var/lib/cni /var/lib/cni/networks "$d"; do [ -e "$p" ] || missing+=("$p"); done
    local mtime
    mtime=$(stat -c %.9Y "$(dirname "${missing[0]}")")
    mkdir -p -m 0755 "$d"
    printf 'foreign-ctr\r\neth0' >"$d/10.255.254.2"
    printf '10.255.254.2' >"$d/last_reserved_ip.0"
    : >"$d/lock"
    record "dir ${missing[0]} $mtime"
  fi
  echo "busy-node: prepared (state in $STATE)"
}

undo() {
  [ -e "$STATE" ] || { echo "busy-node: nothing to undo (no $STATE)"; return; }
  local kind a b c d e
  # Created things, newest first.
  tac "$STATE" | while read -r kind a b c d e; do
    case $kind in
      dir) rm -rf -- "$a"; touch -m -d "@$b" "$(dirname "$a")" ;;
      table)
        # Only an empty table (base chains without rules) that prepare's iptables calls made.
        if nft list table "$a" "$b" >/dev/null 2>&1 && ! nft list table "$a" "$b" | grep -vqE '^\s*(table|chain|type|policy|\}|$)'; then
          nft delete table "$a" "$b"
        fi ;;
      nft) nft delete table "$a" "$b" 2>/dev/null || true ;;
      jump) "$a" -w -t "$b" -D "$c" -s "$d" -m comment --comment "$COMMENT" -j "$e" 2>/dev/null || true ;;
      chain) "$a" -w -t "$b" -F "$c" 2>/dev/null || true; "$a" -w -t "$b" -X "$c" 2>/dev/null || true ;;
      link) ip link del "$a" 2>/dev/null || true ;;
    esac
  done
  # Sysctls: the global switches first (they reset the per-interface values), then every recorded
  # value, so each ends as it was before prepare.
  local first
  for first in net/core/devconf_inherit_init_net net/ipv6/conf/all/forwarding net/ipv4/ip_forward; do
    a=$(awk -v k="$first" '$1 == "sysctl" && $2 == k { print $3; exit }' "$STATE")
    [ -n "$a" ] && echo "$a" >"/proc/sys/$first"
  done
  grep '^sysctl ' "$STATE" | while read -r kind a b; do
    [ -w "/proc/sys/$a" ] || continue # an interface gone since
    [ "$(cat "/proc/sys/$a")" = "$b" ] || echo "$b" >"/proc/sys/$a"
  done
  rm -f "$STATE"
  echo "busy-node: undone"
}

status() {
  if [ -e "$STATE" ]; then echo "prepared:"; cat "$STATE"; else echo "not prepared"; fi
}

case "${1:-}" in
  prepare) prepare "${2:-}" ;;
  undo) undo ;;
  status) status ;;
  *) echo "usage: $0 prepare [--inherit] | undo | status" >&2; exit 2 ;;
esac
