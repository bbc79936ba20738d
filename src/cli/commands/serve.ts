// `vmlab serve`: the lab app in web mode (the same as `npm run web`).

import { InvalidArgumentError, type Command } from 'commander';

/** Registers `vmlab serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('open the lab app in web mode on 127.0.0.1 (prints the URL with its access token)')
    .argument('[workspace]', 'workspace folder (default ./workspace, created with the bundled labs)')
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: a free one)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port takes 0..65535, got '${v}'`);
      return n;
    })
    .option('--no-open', 'do not try to open a browser')
    .action(async (workspace: string | undefined, opts: { port?: number; open: boolean }) => {
      // Loaded here: the web server and its schemas (zod) cost `vmlab --help` 60 ms otherwise.
      const { runWebMode } = await import('../../server/web-mode');
      await runWebMode({ workspace, port: opts.port, open: opts.open });
      // Keep running until SIGINT/SIGTERM (web-mode installs the handlers).
      await new Promise(() => {});
    });
}
