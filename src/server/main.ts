// `npm run web`: web mode from a source checkout. Options: --workspace DIR, --port N, --no-open.

import { parseArgs } from 'node:util';
import { runWebMode } from './web-mode';

const { values } = parseArgs({
  options: { workspace: { type: 'string' }, port: { type: 'string' }, 'no-open': { type: 'boolean' } },
});
await runWebMode({
  workspace: values.workspace,
  port: values.port === undefined ? undefined : Number(values.port),
  open: !values['no-open'],
});
