// The list of commands, in the order `peerstore --help` shows them.
// Each lives in its own file in this folder.

import type { Command } from '../command'
import { acceptCommand } from './accept'
import { backupCommand } from './backup'
import { blockCommand } from './block'
import { bootstrapCommand } from './bootstrap'
import { checkCommand } from './check'
import { devicesCommand } from './devices'
import { getCommand } from './get'
import { initCommand } from './init'
import { inviteCommand } from './invite'
import { joinCommand } from './join'
import { lsCommand } from './ls'
import { mountCommand } from './mount'
import { recoveryCommand } from './recovery'
import { serveCommand } from './serve'
import { shareCommand, sharesCommand, unshareCommand } from './share'
import { simCommand } from './sim'
import { statusCommand } from './status'
import { unmountCommand } from './unmount'
import { whoamiCommand } from './whoami'

export const commands: Command[] = [
  mountCommand,
  unmountCommand,
  backupCommand,
  getCommand,
  lsCommand,
  checkCommand,
  whoamiCommand,
  recoveryCommand,
  devicesCommand,
  shareCommand,
  acceptCommand,
  unshareCommand,
  sharesCommand,
  serveCommand,
  statusCommand,
  blockCommand,
  initCommand,
  inviteCommand,
  joinCommand,
  bootstrapCommand,
  simCommand
]
