// `npm run demo`: two containers on a bridge network, talking, then torn down. It needs the bridge
// and host-local plugins and cnitool, which are not built yet; until then it says so.
console.error('The demo needs the bridge and host-local plugins and cnitool, which are not built yet.')
console.error('What works today: `npm test` (lib/skel, lib/ns, lib/netlink and the loopback plugin).')
process.exit(1)
