import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'brittle'
import { NodeStore } from '../../lib/storage'

/** A fresh temp directory, removed in teardown even when the test fails. */
export function tempDir(t: Test, prefix = 'peerstore-store-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: Number.POSITIVE_INFINITY })
  return dir
}

/** An opened store in `dir` (a fresh temp dir by default), closed in teardown. */
export async function openStore(t: Test, dir = tempDir(t)): Promise<NodeStore> {
  const store = new NodeStore(dir)
  t.teardown(() => store.close())
  await store.ready()
  return store
}

/** A 32-byte key whose first byte is `b` and the rest `fill`: handy for ordered-scan tests. */
export function keyOf(b: number, fill = 0): Buffer {
  const k = Buffer.alloc(32, fill)
  k[0] = b
  return k
}

/** Resolves to the `code` of the error the promise rejects with, or null when it resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${(err as Error).message}`
  }
}
