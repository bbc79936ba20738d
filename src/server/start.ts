// `npm start`: builds if needed, then opens the Electron app; where the Electron runtime is not
// installed (offline machines) it says so in one line and starts web mode instead.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { projectRoot } from '../host/worker-build';
import { electronRuntime, ensureAppBuilt } from './app-build';
import { parsePort, runWebMode } from './web-mode';

// Bad input (an unknown option, a bad port, a workspace that is a file, a port in use) is one line.
try {
  const { values } = parseArgs({ options: { workspace: { type: 'string' }, port: { type: 'string' }, 'no-open': { type: 'boolean' } } });
  const port = values.port === undefined ? undefined : parsePort(values.port);
  const root = projectRoot();
  await ensureAppBuilt(root);
  const electron = electronRuntime(root);
  if (electron) {
    const args = [root, ...(values.workspace ? ['--workspace', values.workspace] : [])];
    const child = spawn(electron, args, { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 0));
  } else {
    process.stdout.write('vmlab: the Electron runtime is not installed here, so the app opens in web mode instead.\n');
    await runWebMode({ workspace: values.workspace, port, open: !values['no-open'] });
  }
} catch (err) {
  process.stderr.write(`vmlab: ${(err as Error).message}\n`);
  process.exit(2);
}
