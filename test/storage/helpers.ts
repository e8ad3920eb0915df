import type { Test } from 'brittle'
import { NodeStore } from '../../lib/storage'
import { tempDir } from '../helpers/temp-dir'

/** An opened store in `dir` (a fresh temp dir by default), closed in teardown. */
export async function openStore(t: Test, dir = tempDir(t, 'store')): Promise<NodeStore> {
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
