import { defineConfig } from 'vite';

// The SPA is served by `kubelantern serve` at any client-side path (history routing), so assets
// use absolute URLs; the server rewrites them when it runs under --base-url.
export default defineConfig({
  base: '/',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  experimental: {
    // Lazy chunks (CodeMirror, xterm.js) and their CSS are found relative to the script that
    // asks for them, so they load under --base-url too (the server rewrites index.html only).
    renderBuiltUrl(_filename: string, { hostType }: { hostType: 'js' | 'css' | 'html' }) {
      return hostType === 'html' ? undefined : { relative: true };
    },
  },
  build: {
    outDir: '../src/kubelantern/web/static',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // No inline scripts or data: URLs for modules — the server's CSP is `default-src 'self'`.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:4477',
      '/clusters': { target: 'http://127.0.0.1:4477', ws: true },
    },
  },
});
