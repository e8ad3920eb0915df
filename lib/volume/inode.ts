// What one inode record holds once decrypted, and its wire form. The whole
// value is encrypted (names included), under a key derived for this inode,
// with the inode id as associated data so a value cannot be moved to another
// inode's record.

import { decrypt, encrypt } from '../crypto/aead'
import type { FileContent } from './file-data'

/**
 * What an inode is. Fifos, device nodes and sockets ("special files") are
 * metadata only: opening one is the kernel's business (a fifo's pipe, a
 * device's driver, a socket's listener on this machine), so they have no
 * content, only a type, a mode and, for devices, the device number.
 */
export type InodeType = 'file' | 'dir' | 'symlink' | SpecialType

export type SpecialType = 'fifo' | 'chardev' | 'blockdev' | 'socket'

/** The file-type bits of st_mode. */
export const TYPE_BITS: Record<InodeType, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  chardev: 0o020000,
  blockdev: 0o060000,
  socket: 0o140000
}

const S_IFMT = 0o170000

export function isSpecialType(t: InodeType): t is SpecialType {
  return t === 'fifo' || t === 'chardev' || t === 'blockdev' || t === 'socket'
}

/** The type st_mode's file-type bits name; null for bits no type has. */
export function typeOfMode(mode: number): InodeType | null {
  const bits = mode & S_IFMT
  for (const [type, b] of Object.entries(TYPE_BITS)) if (b === bits) return type as InodeType
  return null
}

/** What getattr reports. */
export interface Stat {
  mode: number
  uid: number
  gid: number
  size: number
  nlink: number
  atime: number
  mtime: number
  ctime: number
  /** Nanoseconds past each time's millisecond (see InodeAttrs). */
  atimeNs?: number
  mtimeNs?: number
  ctimeNs?: number
  blocks: number
  blksize: number
  /** The inode number (inodeNumber()); absent where the caller has none to give. */
  ino?: number
  /** A device node's device number, as the kernel encodes dev_t in 32 bits; 0 or absent for other types. */
  rdev?: number
}

/** The root's inode number, as on most file systems' mount points. */
export const ROOT_INO = 1

/**
 * A file's inode number, the same for its whole life and on every computer of
 * the user: taken from its inode id, so `ls -i`, vim's "file changed" check
 * and rsync see one file as one number. 48 bits of the id (the patched
 * binding passes st_ino on in 64 bits, scripts/fuse-native-nanos.js; numbers
 * stay below 2^53 so they are exact as JS numbers). 0, 1 (the root) and
 * 0xffffffff (libfuse's "unknown") are never given. Two files share a number
 * only by chance: about 0.2% for some pair in a tree of a million files.
 * That matters because cp, mv and diff take two paths with one (dev, ino) for
 * one file whatever their link counts, and tar, cp -a, rsync -H and du
 * (hard links, docs/hard-links.md) do so for files with more than one name;
 * with 32-bit numbers, as fuse-native passed them, a tree of 10,000 files
 * had such a pair with a chance of about 1%.
 */
export function inodeNumber(id: Buffer): number {
  const n = 2 + (id.readUIntBE(0, 6) % (2 ** 48 - 3))
  return n >= 0xffffffff ? n + 1 : n
}

/**
 * The stat of an inode's state: a directory's nlink counts its
 * subdirectories, as POSIX tools expect. `owner` and `modeMask` let a view
 * (other users' shares) show the inode as this machine should see it.
 */
export function statOf(
  s: InodeState,
  size: number,
  opts: { owner?: { uid: number; gid: number }; modeMask?: number } = {}
): Stat {
  let nlink = linkCount(s)
  if (s.entries) {
    nlink = 2
    for (const e of s.entries.values()) if (e.type === 'dir') nlink++
  }
  return {
    mode: TYPE_BITS[s.type] | (s.mode & (opts.modeMask ?? 0o7777)),
    uid: opts.owner?.uid ?? s.uid,
    gid: opts.owner?.gid ?? s.gid,
    size,
    nlink,
    atime: s.atime,
    mtime: s.mtime,
    ctime: s.ctime,
    atimeNs: s.atimeNs,
    mtimeNs: s.mtimeNs,
    ctimeNs: s.ctimeNs,
    blocks: Math.ceil(size / 512),
    blksize: 4096,
    rdev: s.rdev ?? 0
  }
}

export interface DirEntry {
  id: Buffer
  type: InodeType
  /**
   * The child's inode key, as read from a stored record (absent in records
   * written before sharing existed). A reader holding only this directory's
   * key (a share recipient) reaches the children through it: a capability
   * tree, like Tahoe-LAFS dircaps. The owner derives keys and ignores it.
   */
  key?: Buffer
}

/** Gives a child's inode key for the record being written; none: entries are stored without keys. */
export type EntryKeyOf = (childId: Buffer) => Buffer

export interface InodeAttrs {
  mode: number
  uid: number
  gid: number
  /** Milliseconds since the epoch (set them through times.ts, which keeps the *Ns fields in step). */
  atime: number
  mtime: number
  ctime: number
  /**
   * Nanoseconds past atime's, mtime's and ctime's millisecond, 0–999,999;
   * absent when 0 and in records written before nanosecond times (which
   * therefore read as whole milliseconds).
   */
  atimeNs?: number
  mtimeNs?: number
  ctimeNs?: number
  /** user.* extended attributes. */
  xattrs: Map<string, Buffer>
}

export interface InodeState extends InodeAttrs {
  type: InodeType
  file?: FileContent
  entries?: Map<string, DirEntry>
  target?: string
  /** A device node's device number (dev_t as the kernel passes it to FUSE); absent for other types. */
  rdev?: number
  /**
   * How many directory entries name this file or symlink (hard links,
   * docs/hard-links.md); absent means 1, as in every record written before
   * hard links. A directory's link count is derived (statOf), never stored.
   */
  nlink?: number
}

/** The names a file or symlink has: its stored link count (1 when none is stored). */
export function linkCount(s: InodeState): number {
  return s.nlink ?? 1
}

/** Sets a file's link count, leaving 1 unstored (records stay as before hard links). */
export function setLinkCount(s: InodeState, n: number): void {
  if (n === 1) delete s.nlink
  else s.nlink = n
}

/** An inode type's code in records and journal entries: the letter `ls -l` shows, `f` for a file. */
export const TYPE_CODE: Record<InodeType, string> = {
  file: 'f',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  chardev: 'c',
  blockdev: 'b',
  socket: 's'
}
const CODE_TYPE: Record<string, InodeType> = Object.fromEntries(
  Object.entries(TYPE_CODE).map(([type, code]) => [code, type as InodeType])
)

/** The type a code names; undefined for a code this build does not know. */
export function typeOfCode(code: string): InodeType | undefined {
  return CODE_TYPE[code]
}
const ZERO_KEY = Buffer.alloc(32)

interface WireState {
  t: string
  m: number
  u: number
  g: number
  at: number
  mt: number
  ct: number
  /** InodeAttrs.atimeNs, mtimeNs, ctimeNs: only when not 0. */
  an?: number
  mn?: number
  cn?: number
  x?: Record<string, string>
  s?: number
  fid?: string
  fk?: string
  cs?: number
  ch?: string
  in?: string
  /** FileContent.shared */
  sh?: 1
  /** name → [inode id hex, type code, inode key base64 (since sharing)] */
  e?: Record<string, [string, string, string?]>
  l?: string
  /** InodeState.nlink, written only when it is not 1 (older readers ignore it). */
  nl?: number
  /** InodeState.rdev (since special files), for device nodes only */
  r?: number
}

/** Plain JSON form; `withEntries: false` leaves a directory's entries out (the journal logs them as deltas). */
export function stateToWire(s: InodeState, withEntries = true, entryKey?: EntryKeyOf): WireState {
  const w: WireState = { t: TYPE_CODE[s.type], m: s.mode, u: s.uid, g: s.gid, at: s.atime, mt: s.mtime, ct: s.ctime }
  if (s.atimeNs) w.an = s.atimeNs
  if (s.mtimeNs) w.mn = s.mtimeNs
  if (s.ctimeNs) w.cn = s.ctimeNs
  if (s.xattrs.size > 0) w.x = Object.fromEntries([...s.xattrs].map(([k, v]) => [k, v.toString('base64')]))
  if (s.file) {
    w.s = s.file.size
    w.fid = s.file.fileId.toString('hex')
    w.fk = s.file.fileKey.toString('base64')
    w.cs = s.file.chunkSize
    w.ch = Buffer.concat(s.file.chunks.map((k) => k ?? ZERO_KEY)).toString('base64')
    if (s.file.inline) w.in = s.file.inline.toString('base64')
    if (s.file.shared) w.sh = 1
  }
  if (s.entries && withEntries) {
    const e: Record<string, [string, string, string?]> = {}
    for (const [name, d] of s.entries) {
      // Unlinked-but-open files live under these names until release: never publish them.
      if (name.startsWith('.fuse_hidden')) continue
      e[name] = entryKey
        ? [d.id.toString('hex'), TYPE_CODE[d.type], entryKey(d.id).toString('base64')]
        : [d.id.toString('hex'), TYPE_CODE[d.type]]
    }
    w.e = e
  }
  if (s.target !== undefined) w.l = s.target
  if (s.type !== 'dir' && s.nlink !== undefined && s.nlink !== 1) w.nl = s.nlink
  if (s.rdev) w.r = s.rdev
  return w
}

export function stateFromWire(w: WireState): InodeState {
  const type = CODE_TYPE[w.t]
  if (!type) throw new Error(`unknown inode type ${w.t}`)
  const s: InodeState = {
    type,
    mode: w.m,
    uid: w.u,
    gid: w.g,
    atime: w.at,
    mtime: w.mt,
    ctime: w.ct,
    xattrs: new Map(Object.entries(w.x ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
  }
  const an = subMillisecond(w.an)
  const mn = subMillisecond(w.mn)
  const cn = subMillisecond(w.cn)
  if (an) s.atimeNs = an
  if (mn) s.mtimeNs = mn
  if (cn) s.ctimeNs = cn
  if (type === 'file') {
    const raw = Buffer.from(w.ch ?? '', 'base64')
    const chunks: (Buffer | null)[] = []
    for (let i = 0; i + 32 <= raw.byteLength; i += 32) {
      const k = raw.subarray(i, i + 32)
      chunks.push(k.equals(ZERO_KEY) ? null : Buffer.from(k))
    }
    s.file = {
      size: w.s ?? 0,
      fileId: Buffer.from(w.fid ?? '', 'hex'),
      fileKey: Buffer.from(w.fk ?? '', 'base64'),
      chunkSize: w.cs ?? 0,
      chunks,
      inline: w.in ? Buffer.from(w.in, 'base64') : null,
      shared: w.sh === 1
    }
  }
  if (type === 'dir' && w.e) {
    s.entries = new Map(
      Object.entries(w.e).map(([name, [id, t, k]]) => {
        const entry: DirEntry = { id: Buffer.from(id, 'hex'), type: CODE_TYPE[t] }
        if (k) entry.key = Buffer.from(k, 'base64')
        return [name, entry]
      })
    )
  }
  if (w.l !== undefined) s.target = w.l
  if (type !== 'dir' && typeof w.nl === 'number' && Number.isInteger(w.nl) && w.nl > 1) s.nlink = w.nl
  if (w.r !== undefined && (type === 'chardev' || type === 'blockdev')) s.rdev = w.r
  return s
}

/** A wire nanosecond remainder, if it is one (a record from a newer or broken writer may hold anything). */
function subMillisecond(v: unknown): number | undefined {
  return Number.isInteger(v) && (v as number) > 0 && (v as number) < 1_000_000 ? (v as number) : undefined
}

/** `entryKey`: a directory's entries carry their children's keys (see DirEntry.key). */
export function encryptState(s: InodeState, inodeId: Buffer, key: Buffer, entryKey?: EntryKeyOf): Buffer {
  return encrypt(Buffer.from(JSON.stringify(stateToWire(s, true, entryKey))), key, inodeId)
}

export function decryptState(value: Buffer, inodeId: Buffer, key: Buffer): InodeState {
  const s = stateFromWire(JSON.parse(decrypt(value, key, inodeId).toString()))
  if (s.type === 'dir' && !s.entries) s.entries = new Map()
  return s
}
