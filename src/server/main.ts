// `npm run web`: web mode from a source checkout. Options: --workspace DIR, --port N, --no-open.

import { parseArgs } from 'node:util';
import { setMachineV8Flags } from '../host/v8-flags';
import { parsePort, runWebMode } from './web-mode';

// Before the lab service starts any machine worker: they take V8's flags when created (host/v8-flags.ts).
setMachineV8Flags();

// Bad input (an unknown option, a bad port, a workspace that is a file, a port in use) is one line.
try {
  const { values } = parseArgs({
    options: { workspace: { type: 'string' }, port: { type: 'string' }, 'no-open': { type: 'boolean' } },
  });
  await runWebMode({
    workspace: values.workspace,
    port: values.port === undefined ? undefined : parsePort(values.port),
    open: !values['no-open'],
  });
} catch (err) {
  process.stderr.write(`vmlab: ${(err as Error).message}\n`);
  process.exit(2);
}
