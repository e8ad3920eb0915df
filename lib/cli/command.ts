// The shape every `peerstore <command>` module exports, and the argument
// parsing they share. Unknown commands and flags are usage errors (exit 2).

import minimist from 'minimist'
import { codedError, type PeerStoreError } from '../common/errors'

export type FlagType = 'string' | 'number' | 'boolean'

export interface FlagSpec {
  name: string
  type: FlagType
  description: string
  alias?: string
  default?: string | number | boolean
  /** Shown in help instead of the type, e.g. 'HOST:PORT,...'. */
  value?: string
  /** A number flag: whole numbers only, and its bounds (inclusive); anything else is a usage error. */
  integer?: boolean
  min?: number
  max?: number
  /** A string flag that may be given more than once: its values are in ParsedArgs.lists, in order. */
  repeatable?: boolean
}

export interface CommandContext {
  /** Where human-readable output goes; tests capture it by spawning the CLI. */
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Resolved home directory for this node/client (flag, PEERSTORE_HOME, ~/.peerstore). */
  home: string
}

export interface Command {
  name: string
  summary: string
  /** Positional arguments as shown in help, e.g. 'DIR' or 'FILE'. */
  positionals?: string
  flags: FlagSpec[]
  /**
   * 'creates': may make the home (init, join, mount); 'unused': needs none.
   * Absent: the home must exist (home.ts, homeExists), or the CLI refuses.
   */
  home?: 'creates' | 'unused'
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>
}

export interface ParsedArgs {
  positionals: string[]
  flags: Record<string, string | number | boolean | undefined>
  /** Every value of each repeatable flag (FlagSpec.repeatable), empty when not given. */
  lists?: Record<string, string[]>
}

/** A command line the command cannot run: the CLI prints the help and exits 2 (code EUSAGE). */
export function usageError(message: string): PeerStoreError {
  return codedError('EUSAGE', message)
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  {
    name: 'home',
    type: 'string',
    value: 'DIR',
    description: 'state directory (default $PEERSTORE_HOME or ~/.peerstore)'
  },
  { name: 'help', type: 'boolean', alias: 'h', description: 'show help for this command' }
]

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const all = [...GLOBAL_FLAGS, ...specs]
  const known = new Set<string>()
  for (const s of all) {
    known.add(s.name)
    if (s.alias) known.add(s.alias)
  }
  const unknown: string[] = []
  const parsed = minimist(argv, {
    string: all.filter((s) => s.type !== 'boolean').map((s) => s.name),
    boolean: all.filter((s) => s.type === 'boolean').map((s) => s.name),
    // minimist sets every declared boolean to false when absent: give it the defaults.
    default: Object.fromEntries(all.filter((s) => s.type === 'boolean').map((s) => [s.name, s.default === true])),
    alias: Object.fromEntries(all.filter((s) => s.alias).map((s) => [s.name, s.alias!])),
    unknown(arg) {
      if (arg.startsWith('-') && !known.has(arg.replace(/^-+/, '').replace(/=.*$/, '').replace(/^no-/, ''))) {
        unknown.push(arg)
        return false
      }
      return true
    }
  })
  if (unknown.length > 0) throw usageError(`unknown flag ${unknown[0]}`)

  const flags: ParsedArgs['flags'] = {}
  const lists: Record<string, string[]> = {}
  for (const spec of all) {
    const raw = parsed[spec.name]
    if (spec.repeatable) {
      const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String)
      if (values.includes('')) throw usageError(`--${spec.name} needs a value`)
      lists[spec.name] = values
      continue
    }
    if (raw === undefined || raw === '') {
      if (spec.type === 'boolean') flags[spec.name] = raw === true || (spec.default as boolean | undefined) === true
      else flags[spec.name] = spec.default
      if (raw === '' && spec.type !== 'boolean') throw usageError(`--${spec.name} needs a value`)
      continue
    }
    if (Array.isArray(raw)) throw usageError(`--${spec.name} given more than once`)
    if (spec.type === 'number') {
      flags[spec.name] = checkedNumber(spec, raw)
    } else if (spec.type === 'boolean') {
      flags[spec.name] = Boolean(raw)
    } else {
      flags[spec.name] = String(raw)
    }
  }
  return { positionals: parsed._.map(String), flags, lists }
}

function checkedNumber(spec: FlagSpec, raw: unknown): number {
  const text = String(raw).trim()
  // Number('') and Number(' ') are 0, Number('0x10') is 16: only plain decimal text is a number here.
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN
  const whole = spec.integer ? 'a whole number' : 'a number'
  const range =
    spec.min !== undefined && spec.max !== undefined
      ? ` from ${spec.min} to ${spec.max}`
      : spec.min !== undefined
        ? ` of at least ${spec.min}`
        : spec.max !== undefined
          ? ` of at most ${spec.max}`
          : ''
  const ok =
    Number.isFinite(n) &&
    (!spec.integer || Number.isInteger(n)) &&
    (spec.min === undefined || n >= spec.min) &&
    (spec.max === undefined || n <= spec.max)
  if (!ok) throw usageError(`--${spec.name} must be ${whole}${range}, got '${text}'`)
  return n
}

export function formatHelp(cmd: Command): string {
  const lines = [
    `Usage: peerstore ${cmd.name}${cmd.positionals ? ` ${cmd.positionals}` : ''} [flags]`,
    '',
    cmd.summary,
    ''
  ]
  const specs = [...cmd.flags, ...GLOBAL_FLAGS]
  if (specs.length > 0) lines.push('Flags:')
  const left = specs.map((s) => {
    const alias = s.alias ? `-${s.alias}, ` : ''
    const value = s.type === 'boolean' ? '' : ` ${s.value ?? s.type.toUpperCase()}`
    return `  ${alias}--${s.name}${value}`
  })
  const width = Math.max(...left.map((l) => l.length)) + 2
  specs.forEach((s, i) => {
    const def = s.default !== undefined && s.type !== 'boolean' ? ` (default ${s.default})` : ''
    lines.push(left[i].padEnd(width) + s.description + def)
  })
  return `${lines.join('\n')}\n`
}

export function requirePositionals(args: ParsedArgs, count: number, names: string): void {
  if (args.positionals.length < count) throw usageError(`missing ${names}`)
  if (args.positionals.length > count) throw usageError(`unexpected argument '${args.positionals[count]}'`)
}
