// `peerstore sim`: the Chord core on a simulated network of N machines, in
// virtual time, from one seed (lib/sim/simulation.ts). Prints figures for
// humans and, with --json, one JSON object on the last line.

import type { SimResult } from '../../sim/simulation'
import { runSimulationInWorker } from '../../sim/worker'
import { type Command, usageError } from '../command'

export const simCommand: Command = {
  name: 'sim',
  home: 'unused',
  summary: 'simulate a Chord ring of N nodes and print lookup figures',
  flags: [
    { name: 'nodes', type: 'number', value: 'N', description: 'machines in the ring', default: 1000 },
    {
      name: 'seed',
      type: 'number',
      value: 'S',
      description: 'seed of the simulation (same seed, same figures)',
      default: 1
    },
    {
      name: 'fail',
      type: 'number',
      value: 'F',
      description: 'fraction in [0,1) of machines crashing at once after stabilization',
      default: 0
    },
    {
      name: 'churn',
      type: 'number',
      value: 'R',
      description: 'joins and crashes (each) per stabilization interval during lookups',
      default: 0
    },
    { name: 'partition', type: 'boolean', description: 'split the network in two halves for a while, then heal' },
    { name: 'successors', type: 'number', value: 'R', description: 'successor list length r', default: 8 },
    { name: 'vnodes', type: 'number', value: 'V', description: 'virtual nodes per machine', default: 16 },
    { name: 'lookups', type: 'number', value: 'L', description: 'random lookups per measurement', default: 10000 },
    {
      name: 'keys',
      type: 'number',
      value: 'K',
      description: 'random keys for the load-balance figures',
      default: 100000
    },
    { name: 'loss', type: 'number', value: 'P', description: 'probability that a message is lost', default: 0.001 },
    {
      name: 'unconfirmed',
      type: 'boolean',
      description:
        'lookups skip contacting the owner: one hop less, but a dead owner is returned until its predecessor notices'
    },
    {
      name: 'early-lookups',
      type: 'boolean',
      description:
        'start the lookups once the ring is consistent, without waiting for every machine to refresh its fingers (about a quarter fewer messages, slightly more hops)'
    },
    { name: 'json', type: 'boolean', description: 'print the figures as one JSON object on the last line' }
  ],
  async run(args, ctx) {
    const f = args.flags
    const nodes = integer(f.nodes, 'nodes')
    if (nodes < 1) throw usageError('--nodes must be at least 1')
    const seed = integer(f.seed, 'seed')
    const fail = f.fail as number
    if (!(fail >= 0 && fail < 1)) throw usageError('--fail must be in [0, 1)')
    const churn = f.churn as number
    if (!(churn >= 0)) throw usageError('--churn must be ≥ 0')
    const successors = integer(f.successors, 'successors')
    if (successors < 1) throw usageError('--successors must be at least 1')
    const vnodes = integer(f.vnodes, 'vnodes')
    if (vnodes < 1) throw usageError('--vnodes must be at least 1')
    const lookups = integer(f.lookups, 'lookups')
    const keys = integer(f.keys, 'keys')
    if (lookups < 1 || keys < 1) throw usageError('--lookups and --keys must be at least 1')
    const loss = f.loss as number
    if (!(loss >= 0 && loss < 1)) throw usageError('--loss must be in [0, 1)')
    if ([fail > 0, churn > 0, f.partition === true].filter(Boolean).length > 1) {
      throw usageError('choose one of --fail, --churn, --partition')
    }
    const json = f.json === true
    const log = (line: string) => ctx.stdout.write(`${line}\n`)
    const result = await runSimulationInWorker(
      {
        nodes,
        seed,
        fail,
        churn,
        partition: f.partition === true,
        successors,
        vnodes,
        lookups,
        keys,
        confirm: f.unconfirmed !== true,
        freshFingers: f['early-lookups'] !== true,
        network: { lossRate: loss }
      },
      log
    )
    ctx.stdout.write(summary(result))
    if (json) ctx.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  }
}

function integer(value: unknown, name: string): number {
  const n = value as number
  if (!Number.isInteger(n)) throw usageError(`--${name} must be an integer`)
  return n
}

function summary(r: SimResult): string {
  const log2 = Math.log2(r.nodes)
  const lines = [
    '',
    `machines            ${r.nodes} (${r.vnodes} virtual nodes each, successor lists of ${r.successors})`,
    `lookups             ${r.lookups}, correct ${(100 * r.lookupSuccess).toFixed(2)}%`,
    `hops                mean ${r.meanHops} (½·log2 N = ${(log2 / 2).toFixed(2)}), p50 ${r.p50Hops}, p99 ${r.p99Hops}, max ${r.maxHops}`,
    `ring consistent     ${r.ringConsistent ? 'yes' : 'NO'} (after ${r.stabilizeRounds} stabilization rounds)`,
    `keys per machine    p99 ${r.p99KeysPerMachineRatio}× mean, max ${r.maxKeysPerMachineRatio}× mean`,
    `invariant breaches  ${r.invariantViolations}${r.firstViolation ? ` (first: ${r.firstViolation})` : ''}${
      r.invariantViolationsOutsideFaultModel
        ? `; ${r.invariantViolationsOutsideFaultModel} more while ${r.listsWipedOutByCrash} member(s) had every successor crash at once (outside Chord's fault model)`
        : ''
    }`
  ]
  if (r.lookupSuccessDuringRepair !== undefined) {
    lines.push(
      `during repair       ${(100 * (r.lookupSuccessDuringRepair as number)).toFixed(2)}% correct after ${r.failed} machines crashed; repaired in ${r.repairRounds} rounds`
    )
  }
  if (r.churnJoins !== undefined) {
    lines.push(
      `churn               ${r.churnPerRound} join(s) and crash(es) per stabilization interval: ${r.churnJoins} joins, ${r.churnCrashes} crashes while the lookups ran (figures above); ` +
        (r.consistentAfterChurn
          ? `consistent ${r.roundsToConsistentAfterChurn} rounds after it stopped`
          : 'NOT consistent after it stopped')
    )
  }
  if (r.healRounds !== undefined) {
    lines.push(
      `partition           ${r.ringsDuringPartition} rings after ${r.partitionRounds} rounds apart; ` +
        (r.oneRingAfterHeal
          ? `one consistent ring ${r.healRounds} rounds after healing`
          : 'NOT one consistent ring after healing')
    )
  }
  if ((r.lookupsLostWithOrigin as number) > 0) {
    lines.push(`lookups lost        ${r.lookupsLostWithOrigin} (their origin crashed first; not judged)`)
  }
  lines.push(
    `time                ${r.virtualSeconds} s simulated, ${r.messages} messages, ${(r.wallMs / 1000).toFixed(1)} s wall`
  )
  return `${lines.join('\n')}\n`
}
