import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The screens' build: web/ is the Vite root, output goes to dist/web (served by the web role,
 * src/http/routes/web-routes.ts). `npm run dev:web` serves web/ with hot reload and proxies
 * the API, Echo's auth endpoints and the WebSocket to a StoreFlow on 127.0.0.1:8080.
 */
const target = process.env.STOREFLOW_DEV_TARGET ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': target,
      '/broadcasting': target,
      '/app': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
});
