// Wire schemas of the record watch (push of changes, protocol
// 'peerstore/rpc/v1'): a client asks a machine responsible for a record key
// to tell it when a new version of that record is stored there
// (docs/ring-node.md, "Watch"). The event carries only the key and the
// version, never the value: the watcher reads the record itself, from
// whichever replica, and verifies it as for any read. Each message starts
// with a flags uint, so a later version can add fields without ambiguity; a
// node that predates these methods answers EUNKNOWNMETHOD and the watcher
// falls back to polling.

import c from 'compact-encoding'
import { RingKeyEncoding as key } from './file-messages'

export const WATCH_METHODS = {
  /** Subscribe: request, answered with the version held there now. */
  Watch: 'Watch',
  /** Unsubscribe: request, answered with ok. */
  Unwatch: 'Unwatch',
  /** One-way event, holder → watcher, on every accepted write of a watched key. */
  WatchEvent: 'WatchEvent'
} as const

export interface WatchRequest {
  key: Buffer
}

export interface WatchResponse {
  /** The version of the record this machine holds now (0: none), so a re-subscribing watcher sees what it missed. */
  version: number
}

export interface UnwatchRequest {
  key: Buffer
}

export interface UnwatchResponse {
  ok: boolean
}

export interface WatchEvent {
  key: Buffer
  version: number
}

/** A flags uint no version defines bits of yet; read and ignored, so later bits stay compatible. */
export const reservedFlags = {
  preencode(state: c.State) {
    c.uint.preencode(state, 0)
  },
  encode(state: c.State) {
    c.uint.encode(state, 0)
  },
  decode(state: c.State): number {
    return c.uint.decode(state)
  }
}

const keyOnly = {
  preencode(state: c.State, m: { key: Buffer }) {
    reservedFlags.preencode(state)
    key.preencode(state, m.key)
  },
  encode(state: c.State, m: { key: Buffer }) {
    reservedFlags.encode(state)
    key.encode(state, m.key)
  },
  decode(state: c.State): { key: Buffer } {
    reservedFlags.decode(state)
    return { key: key.decode(state) }
  }
}

export const WatchRequest = keyOnly
export const UnwatchRequest = keyOnly

export const WatchResponse = {
  preencode(state: c.State, m: WatchResponse) {
    reservedFlags.preencode(state)
    c.uint.preencode(state, m.version)
  },
  encode(state: c.State, m: WatchResponse) {
    reservedFlags.encode(state)
    c.uint.encode(state, m.version)
  },
  decode(state: c.State): WatchResponse {
    reservedFlags.decode(state)
    return { version: c.uint.decode(state) }
  }
}

export const UnwatchResponse = {
  preencode(state: c.State, m: UnwatchResponse) {
    reservedFlags.preencode(state)
    c.bool.preencode(state, m.ok)
  },
  encode(state: c.State, m: UnwatchResponse) {
    reservedFlags.encode(state)
    c.bool.encode(state, m.ok)
  },
  decode(state: c.State): UnwatchResponse {
    reservedFlags.decode(state)
    return { ok: c.bool.decode(state) }
  }
}

export const WatchEvent = {
  preencode(state: c.State, m: WatchEvent) {
    reservedFlags.preencode(state)
    key.preencode(state, m.key)
    c.uint.preencode(state, m.version)
  },
  encode(state: c.State, m: WatchEvent) {
    reservedFlags.encode(state)
    key.encode(state, m.key)
    c.uint.encode(state, m.version)
  },
  decode(state: c.State): WatchEvent {
    reservedFlags.decode(state)
    return { key: key.decode(state), version: c.uint.decode(state) }
  }
}
