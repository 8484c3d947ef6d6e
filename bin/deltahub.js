#!/usr/bin/env node
// The CLI ships compiled: `npm run build` (run by `npm test` and `npm start`) writes dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/sdk/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('deltahub: not built yet — run `npm run build` in the deltahub checkout\n');
  process.exit(70);
}
await import(entry.href);
