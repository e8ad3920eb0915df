declare module 'brittle' {
  interface Assert {
    is(actual: unknown, expected: unknown, message?: string): void
    not(actual: unknown, expected: unknown, message?: string): void
    alike(actual: unknown, expected: unknown, message?: string): void
    unlike(actual: unknown, expected: unknown, message?: string): void
    ok(value: unknown, message?: string): void
    absent(value: unknown, message?: string): void
    pass(message?: string): void
    fail(message?: string): void
    exception: {
      (fn: (() => unknown) | Promise<unknown>, expected?: RegExp | Error, message?: string): Promise<void>
      /** Also accepts native errors (TypeError, RangeError, …), which plain exception() rethrows. */
      all(fn: (() => unknown) | Promise<unknown>, expected?: RegExp | Error, message?: string): Promise<void>
    }
    execution(fn: (() => unknown) | Promise<unknown>, message?: string): Promise<void>
    comment(message: string): void
    plan(n: number): void
    timeout(ms: number): void
    teardown(fn: () => unknown, opts?: { order?: number }): void
    test(name: string, fn: (t: Assert) => unknown): Promise<void>
    end(): void
  }
  interface TestFn {
    (name: string, fn: (t: Assert) => unknown): Promise<void>
    (name: string, opts: { timeout?: number; skip?: boolean }, fn: (t: Assert) => unknown): Promise<void>
    skip(name: string, fn: (t: Assert) => unknown): Promise<void>
    todo(name: string, fn: (t: Assert) => unknown): Promise<void>
    solo(name: string, fn: (t: Assert) => unknown): Promise<void>
    configure(opts: { timeout?: number; serial?: boolean; bail?: boolean }): void
  }
  const test: TestFn
  export = test
  export type { Assert as Test }
}
