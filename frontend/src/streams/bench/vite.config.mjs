// Builds the log viewer bench harness (bench/logviewer.py runs it in headless Chromium).
// Plain JS so the app's `tsc --noEmit` over src/ does not type-check a Node config.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.KL_BENCH_OUT ?? '../../../../artifacts/bench/logviewer-harness',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
});
