// A small internet on this machine, built from Linux network namespaces
// (issue 15, "tested across NATs"): a "public" namespace whose bridge is the
// internet (10.77.0.0/24; its own address 10.77.0.1 hosts a DHT and a server),
// and homes, each a LAN namespace (192.168.(10+i).2) behind a router namespace
// that NATs it to one public address (10.77.0.(10+i)) the way a consumer
// router does. Every name starts with a prefix unique to this run; nothing
// outside the namespaces made here is touched, and teardown deletes them all
// (which also removes their veths and the bridge), also when the test fails.
//
// Commands run inside a namespace through `nsenter --net=` (cli.ts,
// nodeCommand), which changes only the network namespace: FUSE mounts made
// there stay visible to the test process.

import { spawnSync } from 'node:child_process'
import type { HasTeardown } from './temp-dir'

export const PUBLIC_SUBNET = '10.77.0'
/** Where the public namespace's DHT and server live. */
export const PUBLIC_ADDR = `${PUBLIC_SUBNET}.1`

export interface Router {
  ns: string
  /** The home's public address: what everyone outside sees. */
  wanAddr: string
  lanAddr: string
}

export interface Home {
  ns: string
  /** The home machine's own (private) address. */
  addr: string
  router: Router
}

export interface NatTopology {
  pub: { ns: string; addr: string }
  homes: Home[]
  /**
   * The home's NAT maps it anew: its router gets another public address
   * (as after an ISP's reassignment) and forgets every mapping, so each flow
   * out of the home leaves from a new address and every flow in to the old
   * one is dead. Returns the new public address.
   */
  changeMapping(home: Home): string
  /** The router's conntrack table (`conntrack -L`), for saying which flows cross it. */
  flows(home: Home): string
  down(): void
}

/** Runs `argv` in network namespace `ns` (null: here); throws with its stderr when it fails. */
export function runIn(ns: string | null, argv: string[]): string {
  const [file, args] = ns ? ['nsenter', [`--net=/run/netns/${ns}`, '--', ...argv]] : [argv[0], argv.slice(1)]
  const res = spawnSync(file, args, { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`${ns ?? ''}: '${argv.join(' ')}' exited ${res.status}: ${res.stderr}`)
  return res.stdout
}

function ip(...args: string[]): void {
  runIn(null, ['ip', ...args])
}

/**
 * What a consumer router does: source NAT of the LAN to its one public
 * address (MASQUERADE keeps the port when it is free: one mapping per inside
 * socket whoever it talks to), and a stateful firewall that drops what comes
 * in unasked. The firewall is not decoration: without it, a holepunch packet
 * from the other home that reaches the router first leaves a conntrack entry
 * for exactly the tuple the inside socket's reply will need, so MASQUERADE
 * picks another port for it, the peer's punches go to the old one, and
 * hyperdht gives up (HOLEPUNCH_ABORTED; measured). Dropped in INPUT, the
 * unasked packet's entry is never confirmed, so the mapping stays put.
 */
function configureRouter(ns: string, opts: { firewall: boolean }): void {
  runIn(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  runIn(ns, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE'])
  if (!opts.firewall) return
  for (const chain of ['INPUT', 'FORWARD']) {
    runIn(ns, ['iptables', '-A', chain, '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP'])
  }
}

const NS_PREFIX = 'pst'
const OWN_NAME = new RegExp(`^(${NS_PREFIX}(\\d+)-(pub|r\\d+|h\\d+))\\b`)

/**
 * Deletes namespaces this helper made in a run whose process is gone (the
 * test runner SIGKILLs a file that runs too long, and then no teardown or
 * exit handler runs). Only names of this helper's own shape whose pid is dead.
 */
function sweepStale(): void {
  const res = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  for (const line of (res.stdout ?? '').split('\n')) {
    const m = OWN_NAME.exec(line)
    if (!m || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue
    spawnSync('ip', ['netns', 'del', m[1]])
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Builds the public namespace and `homes` NATed homes, deleted in teardown
 * (order 100: after the processes running in them, which teardown kills at
 * order 0). `firewall: false` leaves routers with MASQUERADE alone.
 */
export function natTopology(t: HasTeardown, opts: { homes: number; firewall?: boolean }): NatTopology {
  sweepStale()
  const prefix = `${NS_PREFIX}${process.pid}`
  const made: string[] = []
  const addNs = (name: string): string => {
    const ns = `${prefix}-${name}`
    ip('netns', 'add', ns)
    made.push(ns)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    return ns
  }
  const down = () => {
    for (const ns of made.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns])
  }
  // Also when the test process ends without its teardown (a crash, a timeout).
  process.once('exit', down)
  t.teardown(down, { order: 100 })

  const pub = addNs('pub')
  ip('-n', pub, 'link', 'add', 'inet', 'type', 'bridge')
  ip('-n', pub, 'link', 'set', 'inet', 'up')
  ip('-n', pub, 'addr', 'add', `${PUBLIC_ADDR}/24`, 'dev', 'inet')

  const homes: Home[] = []
  for (let i = 1; i <= opts.homes; i++) {
    const router = addNs(`r${i}`)
    const home = addNs(`h${i}`)
    const wanAddr = `${PUBLIC_SUBNET}.${10 + i}`
    const lan = `192.168.${10 + i}`
    // Veths are made inside the namespaces, so no name is ever taken in this one.
    ip('-n', router, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', `port${i}`, 'netns', pub)
    ip('-n', pub, 'link', 'set', `port${i}`, 'master', 'inet')
    ip('-n', pub, 'link', 'set', `port${i}`, 'up')
    ip('-n', router, 'addr', 'add', `${wanAddr}/24`, 'dev', 'wan')
    ip('-n', router, 'link', 'set', 'wan', 'up')
    ip('-n', router, 'route', 'add', 'default', 'via', PUBLIC_ADDR)
    ip('-n', router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home)
    ip('-n', router, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan')
    ip('-n', router, 'link', 'set', 'lan', 'up')
    ip('-n', home, 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0')
    ip('-n', home, 'link', 'set', 'eth0', 'up')
    ip('-n', home, 'route', 'add', 'default', 'via', `${lan}.1`)
    configureRouter(router, { firewall: opts.firewall ?? true })
    homes.push({ ns: home, addr: `${lan}.2`, router: { ns: router, wanAddr, lanAddr: `${lan}.1` } })
  }

  let moves = 0
  return {
    pub: { ns: pub, addr: PUBLIC_ADDR },
    homes,
    changeMapping(home) {
      const { router } = home
      const next = `${PUBLIC_SUBNET}.${100 + ++moves}`
      // Deleted first: a second address in the subnet would be a secondary, deleted along with the primary.
      ip('-n', router.ns, 'addr', 'del', `${router.wanAddr}/24`, 'dev', 'wan')
      ip('-n', router.ns, 'addr', 'add', `${next}/24`, 'dev', 'wan')
      ip('-n', router.ns, 'route', 'replace', 'default', 'via', PUBLIC_ADDR)
      // Removing the address already drops MASQUERADE's entries for it; this forgets the rest.
      spawnSync('nsenter', [`--net=/run/netns/${router.ns}`, '--', 'conntrack', '-F'])
      router.wanAddr = next
      return next
    },
    flows(home) {
      return runIn(home.router.ns, ['conntrack', '-L'])
    },
    down
  }
}
