// The secrets of one user's volume, all derived from the Ed25519 seed in
// <home>/user.seed: the signing key pair (records), and a master key from
// which every encryption key is derived with keyed BLAKE2b and a namespace,
// so that no two purposes ever share a key.

import path from 'node:path'
import { blake2b, namespace } from '../crypto/hash'
import { createDeviceCertificate, type DeviceSigner } from '../crypto/device-certificate'
import { type KeyPair, keyPairFromSeed, loadOrCreateSeed } from '../crypto/keys'
import type { RecordSigner } from '../crypto/record'
import { curveKeyPair } from '../crypto/share-keys'

const NS_MASTER = namespace('volume/master-key')
const NS_INODE_KEY = namespace('volume/inode-key')
const NS_ROOT_POINTER = namespace('volume/root-pointer')
const NS_ROOT_POINTER_KEY = namespace('volume/root-pointer-key')
const NS_JOURNAL_KEY = namespace('volume/journal-key')
const NS_SYNC_BEACON = namespace('volume/sync-beacon')
const NS_SYNC_BEACON_KEY = namespace('volume/sync-beacon-key')
const NS_SHARE_OUTBOX = namespace('volume/share-outbox')
const NS_SHARE_OUTBOX_KEY = namespace('volume/share-outbox-key')
const NS_DEVICE_LIST = namespace('volume/device-list')
const NS_DEVICE_LIST_KEY = namespace('volume/device-list-key')

/** The user identity's seed in a home (mode 0600). */
export const USER_SEED_FILE = 'user.seed'

/**
 * Present in a home whose user.seed came from another computer (`join` of a
 * device token) until its first mount has found the tree: until then the
 * Volume waits for the existing root instead of creating one, which would
 * split the user's tree in two.
 */
export const ADOPTED_IDENTITY_FILE = 'user.adopted'

export class VolumeKeys {
  readonly keyPair: KeyPair
  private readonly master: Buffer
  private device: DeviceSigner | null = null

  constructor(seed: Buffer) {
    this.keyPair = keyPairFromSeed(seed)
    this.master = blake2b([NS_MASTER], seed)
  }

  static fromHome(home: string): VolumeKeys {
    return new VolumeKeys(loadOrCreateSeed(path.join(home, USER_SEED_FILE)))
  }

  get publicKey(): Buffer {
    return this.keyPair.publicKey
  }

  /**
   * Signs this home's records from now on with its own device key, under a
   * certificate the user key makes for it here (docs/devices.md), so that
   * storage nodes can refuse this computer alone once it is revoked.
   */
  useDevice(device: { keyPair: KeyPair; name: string; createdAt: number }): void {
    const certificate = createDeviceCertificate(this.keyPair, device.keyPair.publicKey, device.name, device.createdAt)
    this.device = { keyPair: device.keyPair, certificate }
  }

  /** What signs this home's records: its device key once useDevice() ran, else the user key. */
  get signer(): RecordSigner {
    return this.device ?? this.keyPair
  }

  /** Encrypts one inode record's value; one key per inode so a share can hand out exactly one. */
  inodeKey(inodeId: Buffer): Buffer {
    return blake2b([NS_INODE_KEY, inodeId], this.master)
  }

  /** The record name of the root pointer: fixed per user, unguessable without the seed. */
  get rootPointerName(): Buffer {
    return blake2b([NS_ROOT_POINTER], this.master)
  }

  get rootPointerKey(): Buffer {
    return blake2b([NS_ROOT_POINTER_KEY], this.master)
  }

  /** The record every device bumps after writing records, so the others know to re-read theirs. */
  get syncBeaconName(): Buffer {
    return blake2b([NS_SYNC_BEACON], this.master)
  }

  get syncBeaconKey(): Buffer {
    return blake2b([NS_SYNC_BEACON_KEY], this.master)
  }

  /** The X25519 key pair shares are sealed to (the same seed, through libsodium's Ed25519 → X25519 map). */
  get shareKeyPair(): KeyPair {
    return curveKeyPair(this.keyPair)
  }

  /** The record listing what this user shares with whom (share-outbox.ts). */
  get shareOutboxName(): Buffer {
    return blake2b([NS_SHARE_OUTBOX], this.master)
  }

  get shareOutboxKey(): Buffer {
    return blake2b([NS_SHARE_OUTBOX_KEY], this.master)
  }

  /** The record listing this user's computers (devices/device-list.ts, docs/devices.md). */
  get deviceListName(): Buffer {
    return blake2b([NS_DEVICE_LIST], this.master)
  }

  get deviceListKey(): Buffer {
    return blake2b([NS_DEVICE_LIST_KEY], this.master)
  }

  /** Encrypts the local metadata journal, so that the cache dir holds ciphertext only. */
  get journalKey(): Buffer {
    return blake2b([NS_JOURNAL_KEY], this.master)
  }
}
