// The list of commands, in the order `peerstore --help` shows them.
// Each lives in its own file in this folder.

import type { Command } from '../command'
import { initCommand } from './init'
import { inviteCommand } from './invite'
import { joinCommand } from './join'
import { mountCommand } from './mount'
import { simCommand } from './sim'
import { unmountCommand } from './unmount'

export const commands: Command[] = [initCommand, inviteCommand, joinCommand, mountCommand, unmountCommand, simCommand]
