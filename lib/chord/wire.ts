// Wire schemas for the Chord protocol messages (lib/chord/messages.ts). Ids
// are 32 bytes big-endian; a NodeRef's address is the hex public key of its
// machine (checked on decode; lib/chord checks that the id is one of that
// key's ids). A request or response is a type tag (uint) then its fields.

import c from 'compact-encoding'
import { type Id, idFromBuffer, idToBuffer } from './id'
import type { ChordRequest, ChordResponse, NodeRef } from './messages'

const MAX_LIST = 64
/** A machine's address is its 32-byte public key in lowercase hex, as NetChordTransport writes it. */
const ADDRESS = /^[0-9a-f]{64}$/

const idEncoding = {
  preencode(state: c.State, id: Id) {
    c.fixed32.preencode(state, idToBuffer(id))
  },
  encode(state: c.State, id: Id) {
    c.fixed32.encode(state, idToBuffer(id))
  },
  decode(state: c.State): Id {
    return idFromBuffer(c.fixed32.decode(state))
  }
}

const addressEncoding = {
  preencode(state: c.State, a: string) {
    c.string.preencode(state, a)
  },
  encode(state: c.State, a: string) {
    c.string.encode(state, a)
  },
  decode(state: c.State): string {
    const a = c.string.decode(state)
    // Anything else names no machine: refused here rather than dialled later.
    if (!ADDRESS.test(a)) throw new Error('an address is a 32-byte public key in hex')
    return a
  }
}

const nodeRefEncoding = {
  preencode(state: c.State, n: NodeRef) {
    idEncoding.preencode(state, n.id)
    addressEncoding.preencode(state, n.address)
  },
  encode(state: c.State, n: NodeRef) {
    idEncoding.encode(state, n.id)
    addressEncoding.encode(state, n.address)
  },
  decode(state: c.State): NodeRef {
    return { id: idEncoding.decode(state), address: addressEncoding.decode(state) }
  }
}

const optionalNodeRef = {
  preencode(state: c.State, n: NodeRef | null) {
    c.bool.preencode(state, n !== null)
    if (n) nodeRefEncoding.preencode(state, n)
  },
  encode(state: c.State, n: NodeRef | null) {
    c.bool.encode(state, n !== null)
    if (n) nodeRefEncoding.encode(state, n)
  },
  decode(state: c.State): NodeRef | null {
    return c.bool.decode(state) ? nodeRefEncoding.decode(state) : null
  }
}

function boundedArray<T>(item: {
  preencode(s: c.State, v: T): void
  encode(s: c.State, v: T): void
  decode(s: c.State): T
}) {
  const enc = c.array(item)
  return {
    preencode(state: c.State, list: T[]) {
      enc.preencode(state, list)
    },
    encode(state: c.State, list: T[]) {
      enc.encode(state, list)
    },
    decode(state: c.State): T[] {
      const list = enc.decode(state)
      if (list.length > MAX_LIST) throw new Error('list too long')
      return list
    }
  }
}

const nodeList = boundedArray(nodeRefEncoding)
const addressList = boundedArray(addressEncoding)

enum RequestTag {
  State = 0,
  Lookup = 1,
  Leave = 2,
  Hint = 3
}

enum ResponseTag {
  State = 0,
  Lookup = 1,
  Ack = 2
}

export const chordRequestEncoding = {
  preencode(state: c.State, req: ChordRequest) {
    c.uint.preencode(state, 0)
    switch (req.type) {
      case 'state':
        idEncoding.preencode(state, req.to)
        optionalNodeRef.preencode(state, req.notify)
        break
      case 'lookup':
        idEncoding.preencode(state, req.key)
        addressList.preencode(state, req.exclude)
        break
      case 'leave':
        idEncoding.preencode(state, req.to)
        nodeRefEncoding.preencode(state, req.leaving)
        optionalNodeRef.preencode(state, req.predecessor)
        nodeList.preencode(state, req.successors)
        break
      case 'hint':
        idEncoding.preencode(state, req.to)
        nodeRefEncoding.preencode(state, req.node)
        break
      default:
        throw new Error(`no wire encoding for chord request ${(req as { type: string }).type}`)
    }
  },
  encode(state: c.State, req: ChordRequest) {
    switch (req.type) {
      case 'state':
        c.uint.encode(state, RequestTag.State)
        idEncoding.encode(state, req.to)
        optionalNodeRef.encode(state, req.notify)
        break
      case 'lookup':
        c.uint.encode(state, RequestTag.Lookup)
        idEncoding.encode(state, req.key)
        addressList.encode(state, req.exclude)
        break
      case 'leave':
        c.uint.encode(state, RequestTag.Leave)
        idEncoding.encode(state, req.to)
        nodeRefEncoding.encode(state, req.leaving)
        optionalNodeRef.encode(state, req.predecessor)
        nodeList.encode(state, req.successors)
        break
      case 'hint':
        c.uint.encode(state, RequestTag.Hint)
        idEncoding.encode(state, req.to)
        nodeRefEncoding.encode(state, req.node)
        break
    }
  },
  decode(state: c.State): ChordRequest {
    const tag = c.uint.decode(state)
    switch (tag) {
      case RequestTag.State:
        return { type: 'state', to: idEncoding.decode(state), notify: optionalNodeRef.decode(state) }
      case RequestTag.Lookup:
        return { type: 'lookup', key: idEncoding.decode(state), exclude: addressList.decode(state) }
      case RequestTag.Leave:
        return {
          type: 'leave',
          to: idEncoding.decode(state),
          leaving: nodeRefEncoding.decode(state),
          predecessor: optionalNodeRef.decode(state),
          successors: nodeList.decode(state)
        }
      case RequestTag.Hint:
        return { type: 'hint', to: idEncoding.decode(state), node: nodeRefEncoding.decode(state) }
      default:
        throw new Error(`unknown chord request type ${tag}`)
    }
  }
}

export const chordResponseEncoding = {
  preencode(state: c.State, res: ChordResponse) {
    c.uint.preencode(state, 0)
    switch (res.type) {
      case 'state':
        optionalNodeRef.preencode(state, res.predecessor)
        nodeList.preencode(state, res.successors)
        break
      case 'lookup':
        c.bool.preencode(state, res.done)
        nodeList.preencode(state, res.nodes)
        break
      case 'ack':
        break
      default:
        throw new Error(`no wire encoding for chord response ${(res as { type: string }).type}`)
    }
  },
  encode(state: c.State, res: ChordResponse) {
    switch (res.type) {
      case 'state':
        c.uint.encode(state, ResponseTag.State)
        optionalNodeRef.encode(state, res.predecessor)
        nodeList.encode(state, res.successors)
        break
      case 'lookup':
        c.uint.encode(state, ResponseTag.Lookup)
        c.bool.encode(state, res.done)
        nodeList.encode(state, res.nodes)
        break
      case 'ack':
        c.uint.encode(state, ResponseTag.Ack)
        break
    }
  },
  decode(state: c.State): ChordResponse {
    const tag = c.uint.decode(state)
    switch (tag) {
      case ResponseTag.State:
        return { type: 'state', predecessor: optionalNodeRef.decode(state), successors: nodeList.decode(state) }
      case ResponseTag.Lookup:
        return { type: 'lookup', done: c.bool.decode(state), nodes: nodeList.decode(state) }
      case ResponseTag.Ack:
        return { type: 'ack' }
      default:
        throw new Error(`unknown chord response type ${tag}`)
    }
  }
}
