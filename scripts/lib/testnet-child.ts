// A testnet DHT (@hyperswarm/testnet) on 127.0.0.1 in a process of its own,
// standing in for the public DHT in benchmarks whose own process blocks
// (spawnSync) and so could not answer DHT queries in time. Prints
// {"bootstrap": "HOST:PORT"} once up; exits when its stdin closes.
//
//   node dist/scripts/lib/testnet-child.js SIZE PORT

import createTestnet from '@hyperswarm/testnet'
import { LineChild, serveLines } from './line-child'

export interface SpawnedTestnet {
  /** HOST:PORT of its bootstrap node, for PEERSTORE_DHT_BOOTSTRAP. */
  bootstrap: string
  close(): Promise<void>
}

/** Starts a testnet of `size` nodes whose bootstrap listens on 127.0.0.1:`port` (the same after a restart). */
export async function spawnTestnet(size: number, port: number): Promise<SpawnedTestnet> {
  const child = new LineChild(__filename, [String(size), String(port)], { label: 'testnet' })
  try {
    const { bootstrap } = JSON.parse(await child.next()) as { bootstrap: string }
    return { bootstrap, close: () => child.close(5_000) }
  } catch (err) {
    await child.close(5_000)
    throw err
  }
}

async function main(): Promise<void> {
  const testnet = await createTestnet(Number(process.argv[2]), { host: '127.0.0.1', port: Number(process.argv[3]) })
  const boot = testnet.bootstrap[0]
  process.stdout.write(`${JSON.stringify({ bootstrap: `${boot.host}:${boot.port}` })}\n`)
  await serveLines((line) => ({ error: `unknown command ${line}` }))
  await testnet.destroy()
  process.exit(0)
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
