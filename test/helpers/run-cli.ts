import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/deltahub.js', import.meta.url));
const built = fileURLToPath(new URL('../../dist/sdk/cli/main.js', import.meta.url));

/** Runs the real `deltahub` bin (the built CLI, as users get it). `npm test` builds first. */
export function runCli(args: string[]): { status: number; stdout: string; stderr: string } {
  if (!existsSync(built))
    throw new Error('dist/ is missing: run `npm run build` (npm test does) before the CLI tests');
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
