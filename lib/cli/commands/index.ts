// The list of commands, in the order `peerstore --help` shows them.
// Each lives in its own file in this folder.

import type { Command } from '../command'
import { simCommand } from './sim'

export const commands: Command[] = [simCommand]
