// A node's or client's configuration under its home directory:
//   config.json   network key, bootstrap addresses, replication factor
//   node.seed     the node's Ed25519 seed (its hyperswarm identity), mode 0600
// Flags given on the command line override what is stored.

import fs from 'node:fs'
import path from 'node:path'
import { randomBytes, writeFileAtomic } from '../crypto'
import { codedError, type PeerStoreError } from '../common/errors'

export interface HostPort {
  host: string
  port: number
}

export interface NodeConfig {
  networkKey: Buffer
  bootstrap: HostPort[]
  replicas: number
}

export const DEFAULT_REPLICAS = 3
const CONFIG_FILE = 'config.json'

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
  let raw: { networkKey?: string; bootstrap?: string[]; replicas?: number }
  try {
    raw = JSON.parse(text)
  } catch {
    throw configError(`${configPath(home)} is not valid JSON`)
  }
  return {
    networkKey: parseNetworkKey(String(raw.networkKey ?? '')),
    bootstrap: (raw.bootstrap ?? []).map(parseHostPort),
    replicas: parseReplicas(raw.replicas ?? DEFAULT_REPLICAS)
  }
}

export function writeConfig(home: string, config: NodeConfig): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 })
  const json = {
    networkKey: config.networkKey.toString('hex'),
    bootstrap: config.bootstrap.map(formatHostPort),
    replicas: config.replicas
  }
  writeFileAtomic(configPath(home), Buffer.from(`${JSON.stringify(json, null, 2)}\n`), 0o600)
}

/** Reads the stored config, creating a new network of one on first use. */
export function loadOrInitConfig(home: string): NodeConfig {
  const existing = readConfig(home)
  if (existing) return existing
  const fresh: NodeConfig = { networkKey: randomBytes(32), bootstrap: [], replicas: DEFAULT_REPLICAS }
  writeConfig(home, fresh)
  return fresh
}

export interface ConfigOverrides {
  network?: string
  bootstrap?: string
  replicas?: number
}

/** The stored config with command-line flags applied on top (not written back). */
export function effectiveConfig(home: string, flags: ConfigOverrides): NodeConfig {
  const base = loadOrInitConfig(home)
  return {
    networkKey: flags.network ? parseNetworkKey(flags.network) : base.networkKey,
    bootstrap: flags.bootstrap !== undefined ? parseBootstrapList(flags.bootstrap) : base.bootstrap,
    replicas: flags.replicas !== undefined ? parseReplicas(flags.replicas) : base.replicas
  }
}
