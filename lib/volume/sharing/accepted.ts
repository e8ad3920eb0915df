// Sharing, the recipient's side on disk: `peerstore accept TOKEN` opens the
// token's sealed capability with this user's key and keeps it in
// <home>/shares.json (mode 0600: the capabilities are read keys). The
// mount lists every sharer found there; their inbox records, when present,
// are the current word (they follow unshare and re-keying), and the kept
// capabilities serve when a sharer never published one.

import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../../crypto/keys'
import { openSealed } from '../../crypto/share-keys'
import {
  type Capability,
  decodeCapability,
  decodeShareToken,
  encodeCapability,
  encodeUserId,
  shareError
} from './token'
import type { VolumeKeys } from '../volume-keys'

export const ACCEPTED_FILE = 'shares.json'

interface AcceptedFile {
  /** owner user key (hex) → capabilities (base64 of the compact encoding) */
  owners: Record<string, string[]>
}

export function acceptedPath(home: string): string {
  return path.join(home, ACCEPTED_FILE)
}

function readFile(home: string): AcceptedFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(acceptedPath(home), 'utf8')) as AcceptedFile
    return { owners: parsed.owners ?? {} }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { owners: {} }
    throw err
  }
}

/** Every sharer and the capabilities accepted from them. */
export function readAccepted(home: string): Map<string, Capability[]> {
  const out = new Map<string, Capability[]>()
  for (const [owner, caps] of Object.entries(readFile(home).owners)) {
    out.set(
      owner,
      caps.map((b) => decodeCapability(Buffer.from(b, 'base64')))
    )
  }
  return out
}

/**
 * Follows a sharer without a token: their inbox for us is read from now on,
 * so everything they share with us shows (a user id is public, a token not needed).
 */
export function followSharer(home: string, owner: Buffer): void {
  const file = readFile(home)
  const hex = owner.toString('hex')
  file.owners[hex] ??= []
  writeAccepted(home, file)
}

function writeAccepted(home: string, file: AcceptedFile): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 })
  writeFileAtomic(acceptedPath(home), Buffer.from(`${JSON.stringify(file, null, 2)}\n`), 0o600)
}

/** Opens a share token with this user's key and keeps its capability; refuses a token sealed to someone else. */
export function acceptToken(home: string, keys: VolumeKeys, token: string): Capability {
  const body = decodeShareToken(token)
  if (!body.recipient.equals(keys.publicKey)) {
    throw shareError(
      `this share token is for another user (${encodeUserId(body.recipient)}), not for you (${encodeUserId(keys.publicKey)})`,
      'EACCES'
    )
  }
  const plain = openSealed(body.sealed, keys.shareKeyPair)
  if (!plain) throw shareError('this share token does not open with your user key (damaged, or not for you)', 'EACCES')
  let cap: Capability
  try {
    cap = decodeCapability(plain)
  } catch {
    throw shareError('the share token is damaged (copy it again, whole)')
  }
  if (!cap.owner.equals(body.owner)) throw shareError('the share token is damaged (its owner does not match)')
  const file = readFile(home)
  const owner = cap.owner.toString('hex')
  const same = (b: string) => decodeCapability(Buffer.from(b, 'base64')).inodeId.equals(cap.inodeId)
  file.owners[owner] = [...(file.owners[owner] ?? []).filter((b) => !same(b)), encodeCapability(cap).toString('base64')]
  writeAccepted(home, file)
  return cap
}
