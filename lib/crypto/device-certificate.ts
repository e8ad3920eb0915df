// A device certificate: the user key U says "this device key D writes for
// me" (docs/devices.md, "Device certificate"). Records carry it when a
// device signs them, so any storage node checks the chain U → D → record
// with nothing but the record itself; a revoked D is refused by the nodes
// (lib/node/device-revocations.ts).

import c from 'compact-encoding'
import { namespace, sha256 } from './hash'
import { type KeyPair, SIGNATURE_BYTES, sign, VerifiedSignatures } from './keys'

const NS_DEVICE_CERTIFICATE = namespace('device-certificate')
export const MAX_DEVICE_NAME_BYTES = 64

export interface DeviceCertificate {
  /** The user key U that vouches for the device. */
  user: Buffer
  /** The device key D. */
  device: Buffer
  name: string
  /** ms since the epoch. */
  createdAt: number
  /** By U, over everything above. */
  signature: Buffer
}

/** A device key pair with the certificate that lets it sign for its user. */
export interface DeviceSigner {
  keyPair: KeyPair
  certificate: DeviceCertificate
}

export const deviceCertificateEncoding = {
  preencode(state: c.State, d: DeviceCertificate) {
    c.fixed32.preencode(state, d.user)
    c.fixed32.preencode(state, d.device)
    c.string.preencode(state, d.name)
    c.uint.preencode(state, d.createdAt)
    c.fixed64.preencode(state, d.signature)
  },
  encode(state: c.State, d: DeviceCertificate) {
    c.fixed32.encode(state, d.user)
    c.fixed32.encode(state, d.device)
    c.string.encode(state, d.name)
    c.uint.encode(state, d.createdAt)
    c.fixed64.encode(state, d.signature)
  },
  decode(state: c.State): DeviceCertificate {
    return {
      user: c.fixed32.decode(state) as Buffer,
      device: c.fixed32.decode(state) as Buffer,
      name: c.string.decode(state),
      createdAt: c.uint.decode(state),
      signature: c.fixed64.decode(state) as Buffer
    }
  }
}

function signable(d: Omit<DeviceCertificate, 'signature'>): Buffer {
  const when = Buffer.alloc(8)
  when.writeBigUInt64BE(BigInt(d.createdAt))
  return sha256(NS_DEVICE_CERTIFICATE, d.user, d.device, sha256(Buffer.from(d.name)), when)
}

export function createDeviceCertificate(
  user: KeyPair,
  device: Buffer,
  name: string,
  createdAt: number
): DeviceCertificate {
  if (Buffer.byteLength(name) > MAX_DEVICE_NAME_BYTES) throw new Error('device name too long')
  const unsigned = { user: user.publicKey, device, name, createdAt }
  return { ...unsigned, signature: sign(signable(unsigned), user.secretKey) }
}

/** Certificates found valid lately: one per device, carried on every record it signs. */
const verified = new VerifiedSignatures(1024)

/** True when the user key in the certificate signed it. */
export function verifyDeviceCertificate(d: DeviceCertificate): boolean {
  if (d.signature.byteLength !== SIGNATURE_BYTES || Buffer.byteLength(d.name) > MAX_DEVICE_NAME_BYTES) return false
  return verified.verify(d.signature, signable(d), d.user)
}
