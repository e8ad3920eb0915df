// The home's tree for a one-shot verb (`ls`, `get`, `backup`): through the
// home's running mount when there is one, else on a Volume opened here. A
// node running for the home without a mount (`peerstore serve`, or a mount
// that is still starting) holds the store but no Volume: the verb is refused
// at once with a message that says so, never left waiting for that node.
// Opened here, the Volume needs the ring this home has been in: with none of
// its machines answering, the verb fails rather than report success from
// this machine's copies alone (open-value-store.ts, requireRing).

import { codedError } from '../common/errors'
import { ControlClient, controlSocketPath } from '../node/control'
import { openVolume } from './open-volume'
import { connectToMount } from './share-control'
import { controlTree, localTree, type TreeAccess } from './tree-access'

export interface OpenedTree {
  tree: TreeAccess
  /** 'mount': the home's running mount does the work; 'here': this process opened the Volume. */
  via: 'mount' | 'here'
  close(): Promise<void>
}

export async function openTree(home: string, opts: { notice?: (line: string) => void } = {}): Promise<OpenedTree> {
  const mount = await connectToMount(home)
  if (mount) {
    return {
      tree: controlTree(mount),
      via: 'mount',
      close: async () => mount.close()
    }
  }
  const node = await ControlClient.connect(controlSocketPath(home))
  if (node) {
    node.close()
    throw codedError(
      'EBUSY',
      `a peerstore node is running for ${home} without a mount ('peerstore serve', or a mount still starting), ` +
        'and it holds the store: stop it, or try again once the mount is up'
    )
  }
  const opened = await openVolume(home, {}, { notice: opts.notice, requireRing: true })
  return { tree: localTree(opened.volume), via: 'here', close: () => opened.close() }
}
