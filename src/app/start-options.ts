/**
 * Command-line options of `storeflow start`: `--role <roles>` (or `--role=<roles>`), a
 * comma-separated list of web, realtime, worker, overrides STOREFLOW_ROLES for this process
 * (`npm start -- --role worker`). Answers the environment to load the configuration from;
 * the roles themselves are checked there, with the other settings.
 */
export function startEnvironment(args: readonly string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let roles: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--role' || arg === '--roles') {
      roles = args[++i];
      if (roles === undefined || roles.startsWith('--')) throw new Error(`${arg} needs a value: web, realtime, worker or a comma-separated list`);
    } else if (/^--roles?=/.test(arg)) {
      roles = arg.slice(arg.indexOf('=') + 1);
    } else {
      throw new Error(`unknown option ${arg} (start takes --role web,realtime,worker)`);
    }
  }
  return roles === undefined ? env : { ...env, STOREFLOW_ROLES: roles };
}
