import { defineConfig } from 'vitest/config';

// The gateway serves the built app from its wwwroot (docs/web.md): `dotnet build` copies it to the output, so
// `./qt run` and the browser tests serve exactly what `npm run build` produced. Hashed file names under assets/
// let the gateway cache them for a year while index.html is never cached.
export default defineConfig({
  build: {
    outDir: '../gateway/QuantTrader.Gateway/wwwroot',
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline script or style may end up in index.html: the Content-Security-Policy forbids both.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    proxy: { '/api': { target: 'http://localhost:8080', ws: true } },
  },
  test: {
    include: ['test/**/*.test.ts'],
  },
});
