// `peerstore check [--repair]`: checks the tree invariant of your own tree
// (every file and folder listed once, in a folder reachable from the root,
// no folder inside itself; docs/volume.md, "Concurrent operations on two
// computers") and with --repair settles what it finds. It runs in the
// home's running mount when there is one (its control socket), else on the
// Volume opened here. Exit 0: the tree is sound (or was repaired); 1: problems
// remain.

import type { TreeReport } from '../../volume/volume'
import { onOwnVolume } from '../../app/share-control'
import { type Command, requirePositionals } from '../command'
import { announceSlow } from '../waiting'

export const checkCommand: Command = {
  name: 'check',
  summary: 'check your tree for folders listed twice, cycles and orphans; --repair fixes them',
  flags: [
    {
      name: 'repair',
      type: 'boolean',
      description: 'fix what is found (nothing is deleted: orphans go back into a folder)'
    },
    { name: 'json', type: 'boolean', description: 'print JSON' }
  ],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const repair = args.flags.repair === true
    const report = await onOwnVolume<TreeReport>(ctx.home, 'check', { repair }, (p) => announceSlow(ctx, 'check', p))
    const left = (report.remaining ?? report.problems).length
    if (args.flags.json) ctx.stdout.write(`${JSON.stringify(report)}\n`)
    else {
      for (const p of report.problems) ctx.stdout.write(`problem  ${p}\n`)
      for (const r of report.repaired) ctx.stdout.write(`repaired ${r}\n`)
      if (repair) for (const r of report.remaining ?? []) ctx.stdout.write(`left     ${r}\n`)
      const verdict =
        report.problems.length === 0
          ? 'the tree is sound'
          : repair
            ? `${report.repaired.length} repaired, ${left} left`
            : `${report.problems.length} problems; run 'peerstore check --repair' to fix them`
      ctx.stdout.write(`checked ${report.inodes} files and folders: ${verdict}\n`)
    }
    return left > 0 ? 1 : 0
  }
}
