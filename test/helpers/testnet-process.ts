// A small DHT of its own, as a process: the "internet" side of the NAT tests
// (test/node/nat.test.ts), started inside the public network namespace with
// nsenter. One bootstrapper alone is too small for holepunching (a firewalled
// node needs several unfirewalled nodes to learn its NAT's behaviour and to
// relay the punch), so it runs `--nodes` non-ephemeral nodes, the first on
// HOST:PORT, which is the bootstrap address given to everyone else.
//
//   node dist/test/helpers/testnet-process.js --host 10.77.0.1 --port 49737 [--nodes 5]
//
// Prints "testnet listening on HOST:PORT" when every node is bootstrapped,
// and exits on SIGTERM/SIGINT.

import createTestnet from '@hyperswarm/testnet'
import minimist from 'minimist'

async function main(): Promise<void> {
  const argv = minimist(process.argv.slice(2), { string: ['host'], default: { nodes: 5 } })
  const host = String(argv.host)
  const port = Number(argv.port)
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || !Number.isInteger(port)) {
    throw new Error('usage: testnet-process --host IPV4 --port PORT [--nodes N]')
  }
  // The namespace has this one address, so nodes bound to 0.0.0.0 (what the
  // testnet does for a non-loopback host) are reachable only there.
  const testnet = await createTestnet(Number(argv.nodes), { host, port })
  process.stdout.write(`testnet listening on ${host}:${port} (${testnet.nodes.length} nodes)\n`)
  const stop = async () => {
    await testnet.destroy()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err) => {
  process.stderr.write(`testnet-process: ${(err as Error).stack}\n`)
  process.exit(1)
})
