import fs from 'node:fs'
import { parseKey, withNode } from '../../app/node-api'
import { MAX_VALUE_BYTES } from '../../storage'
import { type Command, usageError } from '../command'
import { isNetworked } from '../../node/config'
import { configFromFlags, NETWORK_FLAGS } from '../node-flags'
import { announceSlow } from '../waiting'

export const blockCommand: Command = {
  name: 'block',
  // put signs the block with this home's user key and rm with the same key
  // (lib/app/node-api.ts): rm removes this user's claim, and a block
  // another user also stored stays; rm of a block this user never stored
  // is refused by the machines holding it.
  summary: 'raw immutable values: block put FILE (prints the key) | block get KEY | block rm KEY (your own blocks)',
  positionals: 'put FILE | get KEY | rm KEY',
  flags: [...NETWORK_FLAGS],
  async run(args, ctx) {
    const [verb, arg, extra] = args.positionals
    if (!verb || !['put', 'get', 'rm'].includes(verb)) throw usageError("expected 'put FILE', 'get KEY' or 'rm KEY'")
    if (!arg) throw usageError(`missing ${verb === 'put' ? 'FILE' : 'KEY'}`)
    if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`)
    let bytes: Buffer | null = null
    let key: Buffer | null = null
    if (verb === 'put') {
      const size = fs.statSync(arg).size
      if (size > MAX_VALUE_BYTES) {
        ctx.stderr.write(`peerstore block: ${arg} is ${size} bytes; a block is at most ${MAX_VALUE_BYTES} bytes\n`)
        return 1
      }
      bytes = fs.readFileSync(arg)
    } else {
      key = parseKey(arg)
    }
    const config = configFromFlags(ctx.home, args)
    const opts = {
      home: ctx.home,
      config,
      host: args.flags.host as string | undefined,
      opening: <V>(w: Promise<V>) => announceSlow(ctx, 'block', w, isNetworked(config))
    }
    return withNode(opts, async (api) => {
      if (bytes) {
        ctx.stdout.write(`${(await api.blockPut(bytes)).toString('hex')}\n`)
        return 0
      }
      if (verb === 'rm') {
        await api.blockRm(key!)
        return 0
      }
      const value = await api.blockGet(key!)
      if (!value) {
        ctx.stderr.write(`peerstore block: no block ${arg} in the ring\n`)
        return 1
      }
      await new Promise<void>((resolve, reject) => ctx.stdout.write(value, (err) => (err ? reject(err) : resolve())))
      return 0
    })
  }
}
