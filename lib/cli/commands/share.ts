// `peerstore share PATH USERID` and `peerstore unshare PATH USERID`: grant or
// revoke READ access to a file or folder of your tree (docs/volume.md,
// "Sharing"). They work on the running mount of this home when there is one.

import type { ShareResult, UnshareResult } from '../../volume/sharing/share'
import { readAccepted } from '../../volume/sharing/accepted'
import { onOwnVolume } from '../../app/share-control'
import { SHARED_DIR_NAME } from '../../volume/sharing/names'
import { decodeUserId, encodeUserId } from '../../volume/sharing/token'
import { type Command, requirePositionals } from '../command'
import { announceSlow } from '../waiting'

export const shareCommand: Command = {
  name: 'share',
  summary: "let another user read a file or folder of yours (prints a token for 'peerstore accept')",
  positionals: 'PATH USERID',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 2, 'PATH USERID')
    const [p, user] = args.positionals
    const to = decodeUserId(user)
    const res = await onOwnVolume<ShareResult>(ctx.home, 'share', { path: p, to: to.toString('hex') }, (w) =>
      announceSlow(ctx, 'share', w)
    )
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify(res)}\n`)
      return 0
    }
    ctx.stdout.write(`${res.token}\n`)
    ctx.stderr.write(
      `peerstore share: ${p} (${res.type === 'dir' ? 'folder' : res.type}) can now be read by ${res.to}.\n` +
        `Send them the token above; after 'peerstore accept TOKEN' they find it in their mount under ${SHARED_DIR_NAME}/.\n`
    )
    return 0
  }
}

export const unshareCommand: Command = {
  name: 'unshare',
  summary: 'revoke a share: re-keys the file or folder so that user cannot read what is written from now on',
  positionals: 'PATH USERID',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 2, 'PATH USERID')
    const [p, user] = args.positionals
    const to = decodeUserId(user)
    const res = await onOwnVolume<UnshareResult>(ctx.home, 'unshare', { path: p, to: to.toString('hex') }, (w) =>
      announceSlow(ctx, 'unshare', w)
    )
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify(res)}\n`)
      return 0
    }
    const kept = res.kept.length > 0 ? `; still shared with ${res.kept.join(', ')}` : ''
    ctx.stdout.write(`unshared ${p}: re-keyed ${res.rekeyed} files and folders${kept}\n`)
    return 0
  }
}

export const sharesCommand: Command = {
  name: 'shares',
  summary: 'list what you share with whom, and the shares you accepted',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(args, ctx) {
    requirePositionals(args, 0, '')
    const given = await onOwnVolume<{ to: string; name: string; type: string }[]>(ctx.home, 'grants', {}, (w) =>
      announceSlow(ctx, 'shares', w)
    )
    const accepted = [...readAccepted(ctx.home)].flatMap(([owner, caps]) =>
      caps.map((cap) => ({
        from: encodeUserId(Buffer.from(owner, 'hex')),
        name: cap.name,
        type: cap.type,
        path: `${SHARED_DIR_NAME}/user-${owner.slice(0, 12)}/${cap.name}`
      }))
    )
    if (args.flags.json) {
      ctx.stdout.write(`${JSON.stringify({ given, accepted })}\n`)
      return 0
    }
    for (const g of given) ctx.stdout.write(`shared   ${g.name} (${g.type}) with ${g.to}\n`)
    for (const a of accepted) ctx.stdout.write(`accepted ${a.name} (${a.type}) from ${a.from} at ${a.path}\n`)
    if (given.length + accepted.length === 0) ctx.stdout.write('no shares\n')
    return 0
  }
}
