// The subset of rocksdb-native 3 that scripts/bench-storage.ts measures.
// Only the benchmark uses it (the node store runs on LMDB, docs/storage.md).
declare module 'rocksdb-native' {
  interface RocksDBOptions {
    bytesPerSync?: number
  }
  interface WalFile {
    /** Path of the current WAL file, relative to the database directory (with a leading '/'). */
    path: string
    number: number
    size: number
  }
  class RocksDB {
    constructor(path: string, opts?: RocksDBOptions)
    ready(): Promise<void>
    close(): Promise<void>
    get(key: Buffer): Promise<Buffer | null>
    /** Resolves once the write is in the WAL through write(2): page cache, not fsynced (WriteOptions.sync is never set). */
    put(key: Buffer, value: Buffer): Promise<void>
    delete(key: Buffer): Promise<void>
    /** Flushes the memtable to an SST file. */
    flush(): Promise<void>
    currentWalFile(): Promise<WalFile>
    iterator(
      range: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer },
      opts?: { values?: boolean; limit?: number; capacity?: number }
    ): AsyncIterable<{ key: Buffer; value: Buffer | null }>
  }
  export = RocksDB
}
