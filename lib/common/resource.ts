// The one lifecycle of PeerStore's long-lived objects (nodes, stores,
// services, volumes): ready() opens once, close() closes once, a second call
// of either returns the first call's promise, and close() during ready()
// waits for it. Holepunch's ready-resource implements exactly that, and the
// Holepunch modules we build on (hyperswarm, hyperdht) use it too.
//
// safetyCatch is for fire-and-forget promises: it swallows an expected
// rejection and rethrows programmer errors, so a bug does not vanish in a
// background task.

import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'

export { ReadyResource, safetyCatch }
