// Wire-level constants of the PeerStore RPC protocol. Changing any of them in
// an incompatible way means a new protocol name (…/v2), never a silent change.

/** The protomux protocol name; both ends must open exactly this channel. */
export const PROTOCOL = 'peerstore/rpc/v1'

/**
 * Largest encoded request or response body we send or accept. A secret-stream
 * message is capped at 16 MiB - 1 and a bigger one destroys the whole
 * connection (platform.md §3), so we stay far below it. A stored value is at
 * most 4 MiB (lib/storage MAX_VALUE_BYTES) and a PostFile carries one whole,
 * so the cap is that plus room for the key and headers.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000

/** Handlers running at once for one peer; the rest wait in a bounded queue. */
export const MAX_CONCURRENT_HANDLERS_PER_PEER = 32
export const MAX_QUEUED_HANDLERS_PER_PEER = 256
