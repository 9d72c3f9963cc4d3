// The module imports nothing but h2_host.*: AssemblyScript's runtime aborts (failed
// bounds checks inside the standard library, out of memory) end in a trap here instead
// of an `env.abort` import. The ABI validates every input before it reaches code that
// could abort, so reaching this is a bug in h2wasm, never a host mistake.
export function h2Abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}
