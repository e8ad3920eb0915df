// `peerstore devices`: the computers of this user (name, first and last
// seen), from the user's device list in the ring, which each mount keeps
// current (docs/devices.md). It runs in the home's running mount when there
// is one (its control socket), else on the Volume opened here.

import { onOwnVolume } from '../../app/share-control'
import type { DeviceEntry } from '../../volume/devices/device-list'
import { type Command, type CommandContext, type ParsedArgs, usageError } from '../command'

type ListedDevice = DeviceEntry & { thisComputer: boolean }

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16)

export const devicesCommand: Command = {
  name: 'devices',
  summary: "list your computers (name, first and last seen); 'devices revoke NAME' cuts one off",
  positionals: '[revoke NAME]',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    if (args.positionals[0] === 'revoke') return revoke(args, ctx)
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

/** `peerstore devices revoke NAME`: storage nodes refuse what that computer signs from now on. */
async function revoke(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  if (args.positionals.length !== 2) throw usageError('usage: peerstore devices revoke NAME (or the start of its key)')
  ctx.stderr.write('revoking; waiting about 11 s for every storage node to learn it, then re-signing what it wrote…\n')
  const device = await onOwnVolume<DeviceEntry & { resigned: number; resignedOther: number }>(
    ctx.home,
    'revoke-device',
    {
      device: args.positionals[1]
    }
  )
  if (args.flags.json) {
    ctx.stdout.write(`${JSON.stringify({ revoked: device })}\n`)
    return 0
  }
  ctx.stdout.write(
    `revoked '${device.name}' (${device.key.slice(0, 16)}): storage nodes refuse its writes.\n` +
      `${device.resigned} files and folders it wrote last (and ${device.resignedOther} other records) are now signed by this computer.\n` +
      'What it could read before stays readable to it: the files it had, and what was in the ring until now.\n'
  )
  return 0
}
