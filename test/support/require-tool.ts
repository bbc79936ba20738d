import { execFileSync } from 'node:child_process';

const found = new Map<string, boolean>();

/** Throws a clear error naming the Debian package when `command` is not on PATH. */
export function requireTool(command: string, debianPackage: string): void {
  if (!found.has(command)) {
    let ok = true;
    try {
      execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
    found.set(command, ok);
  }
  if (!found.get(command)) {
    throw new Error(`${command} is missing: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
  }
}
