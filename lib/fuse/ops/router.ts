// The path router in front of two op tables: a request whose path lies in
// the shares view (/@shared and below), or whose handle the view opened,
// goes to the view's handlers (shares.ts); everything else to the Volume's.
// Each op names the arguments that decide, so an op that touches two names
// (rename, link) is the view's when either name is in it.

import type { Handler } from '../wrap'
import type { OpHandlers, OpName } from './table'

/** Where an op's decisive arguments are: path positions, and the handle's position for fd ops. */
interface Route {
  paths?: readonly number[]
  handle?: number
}

const ROUTES = {
  getattr: { paths: [0] },
  // fuse-native passes the handle (tuned-fuse.ts); the path decides too.
  fgetattr: { paths: [0], handle: 1 },
  access: { paths: [0] },
  readdir: { paths: [0] },
  readlink: { paths: [0] },
  open: { paths: [0] },
  create: { paths: [0] },
  // Data ops go by handle alone: the two tables number their handles apart (SHARED_HANDLE_BASE).
  read: { handle: 1 },
  write: { handle: 1 },
  flush: { handle: 1 },
  release: { handle: 1 },
  fsync: { paths: [0], handle: 2 },
  fsyncdir: { paths: [0] },
  truncate: { paths: [0] },
  ftruncate: { paths: [0] },
  unlink: { paths: [0] },
  rmdir: { paths: [0] },
  mkdir: { paths: [0] },
  rename: { paths: [0, 1] },
  // symlink(target, path): the target is only text.
  symlink: { paths: [1] },
  link: { paths: [0, 1] },
  mknod: { paths: [0] },
  chmod: { paths: [0] },
  chown: { paths: [0] },
  utimens: { paths: [0] },
  getxattr: { paths: [0] },
  listxattr: { paths: [0] },
  setxattr: { paths: [0] },
  removexattr: { paths: [0] }
} satisfies { [op in OpName]?: Route }

/** The ops a view behind the router answers: all of those routed (statfs is the whole mount's: the Volume's). */
export type RoutedOps = { [op in keyof typeof ROUTES]: Handler }

export interface ViewRouting {
  /** True for a path inside the view. */
  ownsPath(path: string): boolean
  /** True for a handle the view opened. */
  ownsHandle(fh: number): boolean
}

/** One op table: each routed op goes to `view` or `volume` by its arguments; the rest to `volume`. */
export function routeView(volume: OpHandlers, view: RoutedOps, routing: ViewRouting): OpHandlers {
  const routed: OpHandlers = { ...volume }
  for (const op of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
    const own = volume[op]
    if (!own) continue
    const other = view[op]
    const inView = decides(ROUTES[op], routing)
    routed[op] = (...args: unknown[]) => (inView(args) ? other(...args) : own(...args))
  }
  return routed
}

function decides(route: Route, routing: ViewRouting): (args: unknown[]) => boolean {
  const { paths = [], handle } = route
  return (args) =>
    (handle !== undefined && typeof args[handle] === 'number' && routing.ownsHandle(args[handle])) ||
    paths.some((i) => typeof args[i] === 'string' && routing.ownsPath(args[i]))
}
