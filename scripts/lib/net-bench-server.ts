// The server half of scripts/bench-net.ts, run as a child process so that each
// end has its own JS thread: a PeerNetwork with the benchmark's handlers and a
// raw sink (raw-bench.ts) for the baseline, in the same process.
// Prints {"peer": hex, "raw": hex} once both listen; exits when stdin closes.

import c from 'compact-encoding'
import { keyPairFromSeed, randomBytes } from '../../lib/crypto/keys'
import { PeerNetwork, type HostPort } from '../../lib/net/peer-network'
import { startRawSink } from './raw-bench'
import { respondStream } from './stream'

async function main() {
  const bootstrap = JSON.parse(process.argv[2]) as HostPort[]
  const networkKey = Buffer.from(process.argv[3], 'hex')
  const net = new PeerNetwork({ keyPair: keyPairFromSeed(randomBytes(32)), networkKey, bootstrap })
  const oneMiB = randomBytes(1024 * 1024)
  net.respond('echo', c.buffer, c.buffer, async (b) => b)
  net.respond('post', c.buffer, c.uint, async (b) => b?.byteLength ?? 0)
  net.respond('get', c.uint, c.buffer, async (n) => oneMiB.subarray(0, Math.min(n, oneMiB.byteLength)))
  respondStream(net, 'upload', c.uint, c.uint, async (_size, pieces) => {
    let n = 0
    for await (const p of pieces) n += p.byteLength
    return n
  })
  await net.ready()
  const sink = await startRawSink({ bootstrap })
  process.stdout.write(
    `${JSON.stringify({ peer: net.publicKey.toString('hex'), raw: sink.publicKey.toString('hex') })}\n`
  )
  process.stdin.resume()
  process.stdin.on('end', async () => {
    await Promise.allSettled([net.close(), sink.close()])
    process.exit(0)
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
