// Proof of knowledge of the network key, bound to one Noise session.
//
// Each end sends BLAKE2b(key = handshakeHash, [direction, networkKey]) in the
// RPC channel's open handshake (the hypercore pattern, platform.md §2.6). It
// cannot be replayed on another connection (the handshake hash is unique per
// session), cannot be reflected back (the direction namespaces differ), and
// reveals nothing about the key.

import sodium from 'sodium-native'
import { blake2b, namespace } from '../crypto/hash'

const NS_TOPIC = namespace('net/topic')
const NS_INITIATOR = namespace('net/capability/initiator')
const NS_RESPONDER = namespace('net/capability/responder')

export const NETWORK_KEY_BYTES = 32

/** The discovery topic of a network: public, and never the key itself. */
export function topicFor(networkKey: Buffer): Buffer {
  assertNetworkKey(networkKey)
  return blake2b([NS_TOPIC, networkKey])
}

/** The proof that the end which is (or is not) the initiator sends on this connection. */
export function capability(isInitiator: boolean, networkKey: Buffer, handshakeHash: Buffer): Buffer {
  assertNetworkKey(networkKey)
  // The Noise hash is BLAKE2b-512 here: 64 bytes (platform.md §2.6 says 32; measured 64). Any length
  // BLAKE2b accepts as a key (16–64 bytes) works, and both ends see the same bytes.
  if (!handshakeHash || handshakeHash.byteLength < 16 || handshakeHash.byteLength > 64) {
    throw new Error('connection has no usable handshake hash')
  }
  return blake2b([isInitiator ? NS_INITIATOR : NS_RESPONDER, networkKey], handshakeHash)
}

/** Checks the remote's proof in constant time. The remote is the initiator iff we are not. */
export function verifyCapability(
  remoteProof: unknown,
  weAreInitiator: boolean,
  networkKey: Buffer,
  handshakeHash: Buffer
): boolean {
  if (!Buffer.isBuffer(remoteProof) || remoteProof.byteLength !== 32) return false
  const expected = capability(!weAreInitiator, networkKey, handshakeHash)
  return sodium.sodium_memcmp(expected, remoteProof)
}

function assertNetworkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.byteLength !== NETWORK_KEY_BYTES) {
    throw new Error(`network key must be a ${NETWORK_KEY_BYTES}-byte Buffer`)
  }
}
