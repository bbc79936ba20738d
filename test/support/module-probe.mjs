// Loaded into a vmlab process with `NODE_OPTIONS=--import=<this file>` by test/cli/start-modules.test.ts:
// at exit, writes to stderr the packages (folders under node_modules) the process loaded, and node's
// own modules. The CLI's
// bundle is CommonJS (scripts/build-cli.mjs) and requires its packages, so node's require cache
// holds every one it loaded.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.on('exit', () => {
  const packages = new Set();
  for (const path of Object.keys(require.cache)) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(path);
    if (m !== null) packages.add(m[1]);
  }
  process.stderr.write(`module-probe: ${[...packages].sort().join(' ')}\n`);
  // And node's own modules it loaded (node's list of what it loaded, "NativeModule NAME").
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  process.stderr.write(`module-probe-builtins: ${builtins.join(' ')}\n`);
});
