// Starts web mode the way a user does (`npm run web`) on a fresh workspace seeded with the labs,
// and hands its URL to the tests. A missing Chromium is a failure naming the Debian package.
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer } from './server';

const CHROMIUM = '/usr/bin/chromium';

export default async function globalSetup(): Promise<() => Promise<void>> {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${CHROMIUM}: install the Debian package chromium (apt-get install chromium)`);
  }
  const workspace = join(mkdtempSync(join(tmpdir(), 'vmlab-e2e-')), 'workspace');
  const { url, child } = await startServer(workspace);
  process.env.VMLAB_URL = url;
  process.env.VMLAB_WORKSPACE = workspace;
  return async () => {
    await stopServer(child);
  };
}
