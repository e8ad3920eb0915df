// The size of libuv's thread pool in a mounting process. Chunk uploads,
// journal writes and FUSE-driven reads all go through it (node:fs, and the
// store's lmdb); the default 4 threads serialise them behind one another.
//
// libuv reads UV_THREADPOOL_SIZE once, when the pool is first used, and the
// pool never grows after that. Loading lib/cli already uses it (the store's
// lmdb binding starts it at import), so this runs in bin/peerstore.ts before
// anything else is loaded; set later (as it once was, when the mount command
// was imported) it has no effect.

/** Threads for a mount's libuv pool. */
export const MOUNT_THREADPOOL_SIZE = 16

/** Sizes the pool for a mount, unless the user set UV_THREADPOOL_SIZE. Call before anything uses the pool. */
export function sizeThreadpoolForMount(env: NodeJS.ProcessEnv = process.env): void {
  env.UV_THREADPOOL_SIZE ??= String(MOUNT_THREADPOOL_SIZE)
}
