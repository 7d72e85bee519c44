/**
 * How the user started flf2v, so that a hint to run it again ("Resume with: …") can be pasted as is. A package
 * manager that runs a bin says so in the environment of the process it starts: `npm_config_user_agent` names
 * it (`pnpm/10.34.8 npm/? node/v20…`), `npm_command` says how (`exec` for `pnpm exec` and `npx`, `run-script`
 * for a package.json script, whose own command line is not the user's: `pnpm exec` repeats it just as well).
 */
export function invokedAs(env: NodeJS.ProcessEnv = process.env): string {
  const agent = env.npm_config_user_agent ?? '';
  const how = env.npm_command;
  if (how !== 'exec' && how !== 'run-script') return 'flf2v';
  if (agent.startsWith('pnpm/')) return 'pnpm exec flf2v';
  if (agent.startsWith('npm/')) return 'npx flf2v';
  if (agent.startsWith('yarn/')) return 'yarn flf2v';
  return 'flf2v';
}
