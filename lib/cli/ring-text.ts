// The ring part of `peerstore status` in words: its size, a table of its
// machines, and replication measured against what that ring can hold.

import { ago } from '../volume/chunks/chunk-store'
import type { NodeStatus } from '../node/ring-node'

export function ringLines(status: NodeStatus): string[] {
  const r = status.replication
  if (!r || !status.machines) {
    // A node older than these fields: what it reported before.
    return [
      `replication  target ${status.replicas}; ${status.underReplicated} keys under target in the last repair round (${status.repairRounds} rounds)`
    ]
  }
  const plural = r.ringSize === 1 ? 'machine' : 'machines'
  const lines = [
    `ring         ${r.ringSize} ${plural}${r.ringSize < r.target ? ` (fewer than the ${r.target} copies wanted)` : ''}`
  ]
  lines.push(`machines     ${row(['id', 'address', 'role', 'keys', 'bytes', 'last seen'])}`)
  for (const m of status.machines) {
    const role = `${m.role === 'unknown' ? 'peer' : m.role}${m.self ? ' (this)' : m.connected ? '' : ', not connected'}`
    const seen = m.self ? '-' : m.lastSeen ? `${ago(m.lastSeen)} ago` : 'never'
    lines.push(`             ${row([m.short, m.address ?? '-', role, num(m.keys), num(m.bytes), seen])}`)
  }
  const under =
    r.underTarget > 0 || r.reason
      ? `${r.underTarget} keys held here under target${r.reason ? `: ${r.reason}` : ''}`
      : 'every key held here has its copies'
  lines.push(`replication  target ${r.target} copies; ${under}`)
  const last = r.lastRepairAt > 0 ? `last ${ago(r.lastRepairAt)} ago` : 'none yet'
  lines.push(
    `repair       ${r.repairRounds} rounds (${last}); ${r.missingCopies} keys missing a copy in the last round; ${r.repaired} values copied or handed off`
  )
  return lines
}

const WIDTHS = [8, 21, 24, 8, 12]

function row(cells: string[]): string {
  return cells.map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i]) : c)).join(' ')
}

function num(n: number | null): string {
  return n === null ? '?' : String(n)
}
