// `peerstore recovery`: prints this home's recovery phrase again. It asks for
// --yes-show-secret so that running it to see what it does never puts the
// whole identity on a shared screen or in a terminal log (docs/devices.md).

import fs from 'node:fs'
import path from 'node:path'
import { seedToPhrase } from '../../crypto/recovery-phrase'
import { USER_SEED_FILE } from '../../volume/volume-keys'
import { type Command, requirePositionals } from '../command'
import { phraseBlock } from '../recovery-io'

export const recoveryCommand: Command = {
  name: 'recovery',
  summary: 'print the recovery phrase of your identity again (it gives full access to your files)',
  flags: [
    { name: 'yes-show-secret', type: 'boolean', description: 'really print it (required)' },
    { name: 'json', type: 'boolean', description: 'print JSON' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const seedFile = path.join(ctx.home, USER_SEED_FILE)
    if (!fs.existsSync(seedFile)) {
      ctx.stderr.write(
        `peerstore recovery: ${ctx.home} has no user identity yet ('peerstore init' makes one, 'init --recover' restores one)\n`
      )
      return 1
    }
    if (!args.flags['yes-show-secret']) {
      ctx.stderr.write(
        'peerstore recovery: the phrase gives whoever reads it all your files; run it again with\n' +
          "--yes-show-secret when nobody else can see this screen or this terminal's log.\n"
      )
      return 1
    }
    const phrase = seedToPhrase(fs.readFileSync(seedFile))
    if (args.flags.json) ctx.stdout.write(`${JSON.stringify({ recoveryPhrase: phrase })}\n`)
    else ctx.stdout.write(`${phraseBlock(phrase)}\n`)
    return 0
  }
}
