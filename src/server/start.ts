// `npm start`: builds if needed, then opens the Electron app; where the Electron runtime is not
// installed (offline machines) it says so in one line and starts web mode instead.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { projectRoot } from '../host/worker-build';
import { electronRuntime, ensureAppBuilt } from './app-build';
import { runWebMode } from './web-mode';

const { values } = parseArgs({ options: { workspace: { type: 'string' }, port: { type: 'string' }, 'no-open': { type: 'boolean' } } });
const root = projectRoot();
await ensureAppBuilt(root);
const electron = electronRuntime(root);
if (electron) {
  const args = [root, ...(values.workspace ? ['--workspace', values.workspace] : [])];
  const child = spawn(electron, args, { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  process.stdout.write('vmlab: the Electron runtime is not installed here, so the app opens in web mode instead.\n');
  await runWebMode({ workspace: values.workspace, port: values.port === undefined ? undefined : Number(values.port), open: !values['no-open'] });
}
