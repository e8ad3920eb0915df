// `peerstore devices`: the computers of this user (name, first and last
// seen), from the user's device list in the ring, which each mount keeps
// current (docs/devices.md). It runs in the home's running mount when there
// is one (its control socket), else on the Volume opened here.

import { onOwnVolume } from '../../app/share-control'
import type { DeviceEntry } from '../../volume/devices/device-list'
import { type Command, usageError } from '../command'

type ListedDevice = DeviceEntry & { thisComputer: boolean }

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16)

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'list your computers (name, first and last seen)',
  positionals: '',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    if (args.positionals.length > 0) throw usageError(`unknown devices subcommand '${args.positionals[0]}'`)
    const devices = await onOwnVolume<ListedDevice[]>(ctx.home, 'devices', {})
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify(devices)}\n`)
      return 0
    }
    if (devices.length === 0) {
      ctx.stdout.write('no computers registered yet (a computer registers when it mounts)\n')
      return 0
    }
    const width = Math.max(4, ...devices.map((d) => d.name.length))
    ctx.stdout.write(`${'NAME'.padEnd(width)}  KEY               FIRST SEEN (UTC)  LAST SEEN (UTC)\n`)
    for (const d of devices) {
      ctx.stdout.write(
        `${d.name.padEnd(width)}  ${d.key.slice(0, 16)}  ${when(d.firstSeen)}  ${when(d.lastSeen)}${d.thisComputer ? '  (this computer)' : ''}\n`
      )
    }
    return 0
  }
}
