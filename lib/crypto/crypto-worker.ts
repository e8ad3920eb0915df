// The thread side of CryptoPool (crypto-pool.ts): seals (encrypt, then sha256
// of the ciphertext) and opens (optional sha256 check, then decrypt) chunks,
// so that the JS thread serving FUSE, LMDB and the ring overlaps with crypto.
// Results go back by transfer (each output a fresh ArrayBuffer of its own),
// or are written into shared memory the pool passed along.

import { parentPort } from 'node:worker_threads'
import { hasCode } from '../common/errors'
import { type CryptoError, type CryptoJob, type CryptoResult, openHere, ownsWholeBuffer, sealHere } from './crypto-jobs'

/** A Buffer over a whole ArrayBuffer, so that transferring it moves nothing else. */
function own(b: Buffer): Buffer {
  if (ownsWholeBuffer(b)) return b
  const copy = Buffer.allocUnsafeSlow(b.byteLength)
  b.copy(copy)
  return copy
}

function run(job: CryptoJob): CryptoResult {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength)
  // The output goes where the pool wants it: shared memory stays, a moved buffer moves back.
  const into = job.into ? Buffer.from(job.into.buffer, job.into.byteOffset, job.into.byteLength) : null
  try {
    if (job.op === 'seal') {
      const sealed = sealHere(data, job.key, job.ad, into)
      return { id: job.id, ok: true, out: into ? sealed.ciphertext : own(sealed.ciphertext), hash: sealed.hash }
    }
    const plaintext = openHere(data, job.key, job.ad, job.hash ?? null, into)
    return { id: job.id, ok: true, out: into ? plaintext : own(plaintext) }
  } catch (err) {
    if (hasCode(err, 'EBADMSG', 'EHASH')) {
      const e = err as CryptoError & { code: 'EBADMSG' | 'EHASH' }
      return { id: job.id, ok: false, code: e.code, message: e.message }
    }
    throw err
  }
}

parentPort!.on('message', (job: CryptoJob) => {
  const res = run(job)
  const movable = res.ok && !(res.out.buffer instanceof SharedArrayBuffer)
  parentPort!.postMessage(res, movable ? [res.out.buffer as ArrayBuffer] : [])
})
