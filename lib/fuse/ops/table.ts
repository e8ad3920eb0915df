// The shape every op family returns: handlers by fuse-native op name, before
// wrap.ts turns each into a fuse-native callback. Routing (router.ts) works
// on these, so a request is answered by exactly one handler, wrapped once.

import type { FuseOps } from 'fuse-native'
import type { Handler, makeWrap } from '../wrap'

export type OpName = keyof FuseOps

/** Part or all of an op table, as async handlers (wrap.ts's Handler). */
export type OpHandlers = { [op in OpName]?: Handler }

/** The fuse-native op table: each handler wrapped once, under its own op name (deadline, stats, errno). */
export function wrapHandlers(handlers: OpHandlers, wrap: ReturnType<typeof makeWrap>): FuseOps {
  const ops: Record<string, unknown> = {}
  for (const [op, handler] of Object.entries(handlers)) {
    if (handler) ops[op] = wrap(op, handler)
  }
  return ops as FuseOps
}
