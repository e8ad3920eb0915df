// The thread side of CryptoPool (crypto-pool.ts): seals (encrypt, then sha256
// of the ciphertext) and opens (optional sha256 check, then decrypt) chunks,
// so that the JS thread serving FUSE, LMDB and the ring overlaps with crypto.
// Results go back by transfer: each output is a fresh ArrayBuffer of its own.

import { parentPort } from 'node:worker_threads'
import { decrypt, encrypt } from './aead'
import { sha256 } from './hash'
import type { CryptoJob, CryptoResult } from './crypto-jobs'

/** A Buffer over a whole ArrayBuffer, so that transferring it moves nothing else. */
function own(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.byteLength && !(b.buffer instanceof SharedArrayBuffer)) return b
  const copy = Buffer.allocUnsafeSlow(b.byteLength)
  b.copy(copy)
  return copy
}

function run(job: CryptoJob): CryptoResult {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength)
  if (job.op === 'seal') {
    const out = own(encrypt(data, job.key, job.ad))
    return { id: job.id, ok: true, out, hash: sha256(out) }
  }
  if (job.hash && !sha256(data).equals(Buffer.from(job.hash))) {
    return { id: job.id, ok: false, code: 'EHASH', message: 'ciphertext does not match its key' }
  }
  try {
    return { id: job.id, ok: true, out: own(decrypt(data, job.key, job.ad)) }
  } catch (err) {
    return { id: job.id, ok: false, code: 'EBADMSG', message: (err as Error).message }
  }
}

parentPort!.on('message', (job: CryptoJob) => {
  const res = run(job)
  parentPort!.postMessage(res, res.ok ? [res.out.buffer as ArrayBuffer] : [])
})
