// The process-wide runtime every entry's connect(), fetch() and serve() share: one module
// instance, one executor. No `node:` import: the module comes from setCompiledModule.
import { Runtime } from './runtime.js';
import { compiledModule } from './loader.js';

let shared: Runtime | undefined;

/**
 * The process-wide runtime. If its instance traps (a bug in the module), its connections
 * fail, one line says so, and the next call makes a fresh instance of the same compiled
 * module for new connections.
 */
export function runtime(): Runtime {
  if (shared && !shared.broken) return shared;
  const limits = shared?.limits;
  shared = new Runtime(compiledModule());
  if (limits) shared.setLimits(limits);
  shared.onTrap = (e, n) => {
    console.error(
      `h2wasm: the module instance trapped (${e.message}); its ${n} connection${n === 1 ? '' : 's'} failed; new connections get a fresh instance`,
    );
  };
  return shared;
}
