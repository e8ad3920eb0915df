// `peerstore <command>`: finds the command, parses its flags, runs it and
// turns errors into messages and exit codes (2 for usage, 1 for failures).

import { hasCode } from '../common/errors'
import { type Command, type CommandContext, formatHelp, parseArgs } from './command'
import { commands } from './commands'
import { homeExists, resolveHome } from './home'
import { watchOutput } from './closed-output'

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  const lines = [
    'Usage: peerstore <command> [flags]',
    '',
    'A peer-to-peer, end-to-end encrypted file store.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'peerstore <command> --help' for a command's flags."
  ]
  return `${lines.join('\n')}\n`
}

export async function runCli(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp())
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    io.stdout.write(`${require('../../../package.json').version}\n`)
    return 0
  }
  const cmd: Command | undefined = commands.find((c) => c.name === name)
  if (!cmd) {
    io.stderr.write(`peerstore: unknown command '${name}'\n\n${mainHelp()}`)
    return 2
  }
  // Listened to for the whole run (the process ends after it): a reader that goes away never crashes a command.
  const output = watchOutput([io.stdout, io.stderr])
  try {
    const args = parseArgs(rest, cmd.flags)
    if (args.flags.help) {
      io.stdout.write(formatHelp(cmd))
      return 0
    }
    const ctx: CommandContext = { ...io, home: resolveHome(args.flags.home as string | undefined) }
    if (cmd.home === undefined && !homeExists(ctx.home)) {
      io.stderr.write(
        `peerstore ${cmd.name}: no PeerStore home at ${ctx.home}; run 'peerstore init' (or 'peerstore join TOKEN') first, or give the right --home\n`
      )
      return 1
    }
    return await cmd.run(args, ctx)
  } catch (err) {
    // The reader of our output went away (`| head`): what it wanted it had; nothing to say, and nowhere to say it.
    if (output.isClosedOutputError(err)) return 0
    if (hasCode(err, 'EUSAGE')) {
      io.stderr.write(`peerstore ${cmd.name}: ${(err as Error).message}\n\n${formatHelp(cmd)}`)
      return 2
    }
    const e = err as Error
    io.stderr.write(`peerstore ${cmd.name}: ${e.message}\n`)
    if (process.env.PEERSTORE_DEBUG) io.stderr.write(`${e.stack}\n`)
    return 1
  }
}
