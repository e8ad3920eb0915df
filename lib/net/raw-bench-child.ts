// Child-process entry of spawnRawSink(): runs a raw sink on loopback, prints
// {"publicKey": hex} once listening, and exits when its stdin closes (so it
// never outlives the parent).
//
//   node dist/lib/net/raw-bench-child.js '[{"host":"127.0.0.1","port":PORT}]'

import type { HostPort } from './peer-network'
import { startRawSink } from './raw-bench'

async function main() {
  const bootstrap = JSON.parse(process.argv[2] ?? '[]') as HostPort[]
  const sink = await startRawSink({ bootstrap })
  process.stdout.write(`${JSON.stringify({ publicKey: sink.publicKey.toString('hex') })}\n`)
  process.stdin.resume()
  process.stdin.on('end', async () => {
    await sink.close()
    process.exit(0)
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
