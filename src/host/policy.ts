// App-wide policies shared by the Electron main process and web mode: the Content-Security-Policy
// and seeding a new workspace with the bundled labs.

import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './worker-build';

/** The app's Content-Security-Policy; `connect` lists where the renderer may connect. */
export function contentSecurityPolicy(connect: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Monaco and xterm set element styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Creates `folder` with the bundled labs copied in, when it does not exist yet. */
export function seedWorkspace(folder: string, root = projectRoot()): void {
  if (existsSync(folder)) return;
  cpSync(join(root, 'labs'), folder, { recursive: true });
}
