import { type PluginFuncs, type PluginInfo, dispatch } from './dispatch'
import { readStdinBriefly, readStdinSync, writeAllSync } from './stdio'

/** One invocation: real stdin/stdout/stderr, then exit with its code. */
export async function pluginMain(funcs: PluginFuncs, info: PluginInfo): Promise<void> {
  const outcome = await dispatch(funcs, info, {
    env: process.env,
    readStdin: readStdinSync,
    peekStdin: () => readStdinBriefly(100),
  })
  if (outcome.stderr) writeAllSync(2, outcome.stderr)
  if (outcome.stdout) writeAllSync(1, outcome.stdout)
  // Exit now: a plugin has nothing left to do, and a forgotten handle must not keep the runtime waiting.
  process.exit(outcome.exitCode)
}
