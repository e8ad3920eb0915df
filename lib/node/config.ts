// A node's or client's configuration under its home directory:
//   config.json   network key, how the node finds the others (discovery mode
//                 and a private network's bootstrap addresses), replication factor
//   node.seed     the node's Ed25519 seed (its hyperswarm identity), mode 0600
// Flags given on the command line override what is stored; the DHT's own
// bootstrap list (--dht-bootstrap / PEERSTORE_DHT_BOOTSTRAP) is never stored.

import fs from 'node:fs'
import path from 'node:path'
import { randomBytes, writeFileAtomic } from '../crypto'
import { codedError, type PeerStoreError } from '../common/errors'

export interface HostPort {
  host: string
  port: number
}

/**
 * How a node finds the other machines of its network (docs/architecture.md, "Discovery"):
 * - `alone`: nowhere: a ring of one that opens no socket (a fresh home);
 * - `private`: through the network's own bootstrap nodes (`bootstrap`, carried in invite tokens);
 * - `dht`: on hyperswarm's public DHT, or the one `dhtBootstrap` names for this process.
 */
export type DiscoveryMode = 'alone' | 'private' | 'dht'

export interface NodeConfig {
  networkKey: Buffer
  /** Omitted (configs written before DHT discovery): `private` with bootstrap addresses, else `alone`. */
  discovery?: DiscoveryMode
  /** The private network's bootstrap nodes; empty in the other modes. */
  bootstrap: HostPort[]
  replicas: number
  /** DHT mode: bootstrap nodes replacing the public DHT's, for this process only (never stored). */
  dhtBootstrap?: HostPort[]
}

export const DEFAULT_REPLICAS = 3
const CONFIG_FILE = 'config.json'
/** Replaces the public DHT's bootstrap list for one process; `--dht-bootstrap` wins over it. */
export const DHT_BOOTSTRAP_ENV = 'PEERSTORE_DHT_BOOTSTRAP'
const MODES: readonly DiscoveryMode[] = ['alone', 'private', 'dht']

/** A configuration or token the user gave is wrong: the CLI prints the message and exits 1. */
export function configError(message: string): PeerStoreError {
  return codedError('ECONFIG', message)
}

export function configPath(home: string): string {
  return path.join(home, CONFIG_FILE)
}

export function parseHostPort(text: string): HostPort {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || port < 1 || port > 65535) throw configError(`'${text}' is not HOST:PORT`)
  return { host: m[1], port }
}

export function parseBootstrapList(text: string): HostPort[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseHostPort)
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`
}

export function parseNetworkKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw configError('a network key is 64 hex characters (32 bytes)')
  return Buffer.from(hex, 'hex')
}

/** The most copies of each value a network may ask for. */
export const MAX_REPLICAS = 16

export function parseReplicas(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
    throw configError(`--replicas must be a whole number from 1 to ${MAX_REPLICAS}`)
  }
  return n
}

export function readConfig(home: string): NodeConfig | null {
  let text: string
  try {
    text = fs.readFileSync(configPath(home), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  let raw: { networkKey?: string; discovery?: string; bootstrap?: string[]; replicas?: number }
  try {
    raw = JSON.parse(text)
  } catch {
    throw configError(`${configPath(home)} is not valid JSON`)
  }
  const bootstrap = (raw.bootstrap ?? []).map(parseHostPort)
  if (raw.discovery !== undefined && !MODES.includes(raw.discovery as DiscoveryMode)) {
    throw configError(`${configPath(home)}: discovery is one of ${MODES.join(', ')}, not '${raw.discovery}'`)
  }
  const discovery = (raw.discovery as DiscoveryMode | undefined) ?? discoveryOf({ bootstrap })
  if (discovery === 'private' && bootstrap.length === 0) {
    throw configError(`${configPath(home)}: a private network needs bootstrap addresses`)
  }
  return {
    networkKey: parseNetworkKey(String(raw.networkKey ?? '')),
    discovery,
    bootstrap: discovery === 'private' ? bootstrap : [],
    replicas: parseReplicas(raw.replicas ?? DEFAULT_REPLICAS)
  }
}

/** The discovery mode of a config; one without it (older homes, tests) is private with bootstrap addresses, else alone. */
export function discoveryOf(config: Pick<NodeConfig, 'discovery' | 'bootstrap'>): DiscoveryMode {
  return config.discovery ?? (config.bootstrap.length > 0 ? 'private' : 'alone')
}

/** True when the node looks for other machines (private or DHT discovery), false for a ring of one. */
export function isNetworked(config: Pick<NodeConfig, 'discovery' | 'bootstrap'>): boolean {
  return discoveryOf(config) !== 'alone'
}

/** The `bootstrap` option of the node's PeerNetwork: `[]` opens no socket, undefined is the public DHT. */
export function networkBootstrap(config: NodeConfig): HostPort[] | undefined {
  const mode = discoveryOf(config)
  if (mode === 'alone') return []
  if (mode === 'private') return config.bootstrap
  return config.dhtBootstrap
}

/** Where the node looks for the others, for messages: 'bootstrap A, B', 'the DHT via A' or 'the public DHT'. */
export function discoveryWhere(config: NodeConfig): string {
  const mode = discoveryOf(config)
  if (mode === 'alone') return 'alone: no discovery'
  if (mode === 'private') return `bootstrap ${config.bootstrap.map(formatHostPort).join(', ')}`
  return config.dhtBootstrap ? `the DHT via ${config.dhtBootstrap.map(formatHostPort).join(', ')}` : 'the public DHT'
}

export function writeConfig(home: string, config: NodeConfig): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 })
  const discovery = discoveryOf(config)
  // `discovery` is new: a build before it ignores the field and reads a DHT home's empty list as alone.
  const json = {
    networkKey: config.networkKey.toString('hex'),
    discovery,
    bootstrap: discovery === 'private' ? config.bootstrap.map(formatHostPort) : [],
    replicas: config.replicas
  }
  writeFileAtomic(configPath(home), Buffer.from(`${JSON.stringify(json, null, 2)}\n`), 0o600)
}

/** Reads the stored config, creating a new network of one on first use. */
export function loadOrInitConfig(home: string): NodeConfig {
  const existing = readConfig(home)
  if (existing) return existing
  const fresh: NodeConfig = {
    networkKey: randomBytes(32),
    discovery: 'alone',
    bootstrap: [],
    replicas: DEFAULT_REPLICAS
  }
  writeConfig(home, fresh)
  return fresh
}

export interface ConfigOverrides {
  network?: string
  /** A private network's bootstrap nodes for this process (an empty list: alone). */
  bootstrap?: string
  /** The DHT's bootstrap nodes for this process; else PEERSTORE_DHT_BOOTSTRAP, else the public DHT's. */
  dhtBootstrap?: string
  replicas?: number
}

/**
 * The stored config with command-line flags and PEERSTORE_DHT_BOOTSTRAP
 * applied on top (not written back).
 */
export function effectiveConfig(home: string, flags: ConfigOverrides, env = process.env): NodeConfig {
  const base = loadOrInitConfig(home)
  const bootstrap = flags.bootstrap !== undefined ? parseBootstrapList(flags.bootstrap) : base.bootstrap
  return {
    networkKey: flags.network ? parseNetworkKey(flags.network) : base.networkKey,
    discovery: flags.bootstrap !== undefined ? discoveryOf({ bootstrap }) : discoveryOf(base),
    bootstrap,
    replicas: flags.replicas !== undefined ? parseReplicas(flags.replicas) : base.replicas,
    dhtBootstrap: dhtBootstrapOf(flags.dhtBootstrap, env[DHT_BOOTSTRAP_ENV])
  }
}

/** The flag's list, else the environment's (an empty variable counts as unset), else undefined: the public DHT. */
function dhtBootstrapOf(flag: string | undefined, env: string | undefined): HostPort[] | undefined {
  const [text, source] = flag !== undefined ? [flag, '--dht-bootstrap'] : [env, DHT_BOOTSTRAP_ENV]
  if (text === undefined || (source === DHT_BOOTSTRAP_ENV && text.trim() === '')) return undefined
  let list: HostPort[]
  try {
    list = parseBootstrapList(text)
  } catch (err) {
    throw configError(`${source}: ${(err as Error).message}`)
  }
  // An empty list would be a node that opens no socket, not a DHT: say so rather than go silently alone.
  if (list.length === 0) throw configError(`${source} needs at least one HOST:PORT`)
  return list
}
