import type { Command } from '../command'

// Placeholder wiring: replaced by the Chord simulation (issue 2).
export const simCommand: Command = {
  name: 'sim',
  summary: 'simulate a Chord ring of N nodes and print lookup figures',
  flags: [],
  async run(_args, ctx) {
    ctx.stderr.write('sim: not built yet\n')
    return 1
  }
}
