// The peers this machine has seen, kept in its home so that the next start
// dials them directly (their DHT sockets) before any lookup: a node then finds
// its ring again with every bootstrap down or freshly restarted (issue 15).
// Public keys and addresses only, never a secret; bounded to the most recently
// seen; written atomically a moment after a change, so a burst of arrivals is
// one write and a crash leaves the old list or the new one.

import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../crypto'
import type { DhtAddress } from '../net'

export const KNOWN_PEERS_FILE = 'known-peers.json'
export const MAX_KNOWN_PEERS = 32
const SAVE_DELAY_MS = 1_000

export interface KnownPeer {
  /** Node public key, hex. */
  key: string
  host: string
  port: number
  /** When this machine last learnt the address (ms since the epoch). */
  seenAt: number
}

export class KnownPeers {
  private readonly file: string
  private readonly peers = new Map<string, KnownPeer>()
  private saveTimer: NodeJS.Timeout | null = null

  constructor(home: string) {
    this.file = path.join(home, KNOWN_PEERS_FILE)
    for (const peer of readKnownPeers(this.file)) this.peers.set(peer.key, peer)
  }

  /** Most recently seen first. */
  list(): KnownPeer[] {
    return [...this.peers.values()].sort((a, b) => b.seenAt - a.seenAt)
  }

  note(key: string, at: DhtAddress, now = Date.now()): void {
    this.peers.delete(key)
    this.peers.set(key, { key, host: at.host, port: at.port, seenAt: now })
    for (const old of this.list().slice(MAX_KNOWN_PEERS)) this.peers.delete(old.key)
    this.saveTimer ??= setTimeout(() => this.save(), SAVE_DELAY_MS)
  }

  /** Writes a pending change now (on close). */
  save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    try {
      const json = { version: 1, peers: this.list() }
      writeFileAtomic(this.file, Buffer.from(`${JSON.stringify(json, null, 2)}\n`), 0o600)
    } catch {
      // Only a hint for the next start (a full disk, a home removed under us): the lookup still works.
    }
  }

  close(): void {
    if (this.saveTimer) this.save()
  }
}

/** The entries of a known-peers file that make sense; a missing or damaged file is an empty list. */
function readKnownPeers(file: string): KnownPeer[] {
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return []
  }
  const peers = (json as { peers?: unknown })?.peers
  if (!Array.isArray(peers)) return []
  return peers.filter(isKnownPeer).slice(0, MAX_KNOWN_PEERS)
}

function isKnownPeer(p: unknown): p is KnownPeer {
  const v = p as KnownPeer
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.key === 'string' &&
    /^[0-9a-f]{64}$/.test(v.key) &&
    typeof v.host === 'string' &&
    v.host.length > 0 &&
    v.host.length <= 255 &&
    Number.isInteger(v.port) &&
    v.port > 0 &&
    v.port < 65536 &&
    typeof v.seenAt === 'number'
  )
}
