// What lib/chord needs from the world: a way to send a request to a machine
// and get its answer (Transport), and time (Timers). The simulator provides
// both in virtual time; the real network provides them over hyperswarm and
// the system clock. Nothing else in lib/chord touches sockets or timers.

import type { ChordRequest, ChordResponse } from './messages'
import { codedError, type PeerStoreError } from '../common/errors'

/**
 * Handles a request from the machine at `from`; the node's `handleRequest`.
 * `from` is the authenticated sender (the real network: the Noise
 * connection's remote public key), never an address read from the message:
 * Chord believes what a message says about a machine only from that machine.
 */
export type RequestHandler = (from: string, req: ChordRequest) => Promise<ChordResponse>

export interface Transport {
  /** This machine's own address (opaque; the hex public key in the real network). */
  readonly address: string
  /**
   * Sends `req` to the machine at `to` and resolves with its response.
   * Rejects with an rpcError() (or any Error with a `code`) when the peer does
   * not answer within `timeoutMs` ('ETIMEDOUT'), cannot be reached
   * ('EPEERUNREACHABLE'), or answers with an error ('ENOTMEMBER', ...).
   */
  request(to: string, req: ChordRequest, timeoutMs: number): Promise<ChordResponse>
  /** Installs the handler incoming requests are passed to (one per transport). */
  setRequestHandler(handler: RequestHandler): void
  /**
   * The public key of the machine at `address`, from which its ring ids
   * derive (id.ts virtualNodeId), or null if `address` names no machine. Chord
   * refuses a NodeRef whose id is not one of its address's ids.
   */
  publicKeyOf(address: string): Uint8Array | null
}

export type TimerHandle = unknown

export interface Timers {
  /** Milliseconds, monotonic. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export type RpcErrorCode = 'ETIMEDOUT' | 'EPEERUNREACHABLE' | 'ENOTMEMBER' | 'ECLOSED' | 'EBADMESSAGE'

/** A failed call between nodes; callers switch on the code. */
export function rpcError(code: RpcErrorCode, message: string = code): PeerStoreError {
  return codedError(code, message)
}

/** Real time, for running over a real network. Timers do not keep the process alive. */
export const systemTimers: Timers = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  }
}
