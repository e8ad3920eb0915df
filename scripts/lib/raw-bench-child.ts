// Child-process entry of spawnRawSink(): runs a raw sink on loopback, prints
// {"publicKey": hex} once listening, answers "cpu" with its process.cpuUsage(),
// and exits when its stdin closes (so it never outlives the parent).
//
//   node dist/scripts/lib/raw-bench-child.js '[{"host":"127.0.0.1","port":PORT}]'

import { serveLines } from './line-child'
import type { HostPort } from '../../lib/net/peer-network'
import { startRawSink } from './raw-bench'

async function main() {
  const bootstrap = JSON.parse(process.argv[2] ?? '[]') as HostPort[]
  const sink = await startRawSink({ bootstrap })
  process.stdout.write(`${JSON.stringify({ publicKey: sink.publicKey.toString('hex') })}\n`)
  await serveLines((line) => (line === 'cpu' ? process.cpuUsage() : { error: `unknown command ${line}` }))
  await sink.close()
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
