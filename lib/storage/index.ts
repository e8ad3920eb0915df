export * from './errors'
export * from './index-entry'
export * from './node-store'
export * from './ring-interval'
