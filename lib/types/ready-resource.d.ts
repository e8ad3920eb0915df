// ready-resource 1.x: the open/close lifecycle shared by the Holepunch modules.
declare module 'ready-resource' {
  import { EventEmitter } from 'node:events'

  export default class ReadyResource extends EventEmitter {
    /** The first ready() call's promise; later calls return it. */
    readonly opening: Promise<void> | null
    /** The first close() call's promise; later calls return it. */
    readonly closing: Promise<void> | null
    readonly opened: boolean
    readonly closed: boolean
    /** Runs _open() once; if it throws, closes (in the background) and rethrows. */
    ready(): Promise<void>
    /** Waits for a running open, then runs _close() once (only if opened or never opened). */
    close(): Promise<void>
    protected _open(): Promise<void>
    protected _close(): Promise<void>
  }
}
