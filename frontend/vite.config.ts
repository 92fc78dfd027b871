import { defineConfig } from 'vite';

// The SPA is served by `kubelantern serve` at any client-side path (history routing), so assets
// use absolute URLs; the server rewrites them when it runs under --base-url.
export default defineConfig({
  base: '/',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
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
