// electron-vite: the Electron main process, the sandboxed preload (CommonJS, as a sandboxed preload
// must be) and the Svelte renderer, all into out/. The bundler's timing report is off: on a busy
// machine it printed a dozen lines about plugin callbacks before `npm start`'s own messages.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve('src/main/index.ts') }, checks: { bundlerTimings: false } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        checks: { bundlerTimings: false },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    base: './',
    plugins: [svelte()],
    build: {
      outDir: resolve('out/renderer'),
      chunkSizeWarningLimit: 8192,
      rollupOptions: { input: { index: resolve('src/renderer/index.html') }, checks: { bundlerTimings: false } },
    },
  },
});
