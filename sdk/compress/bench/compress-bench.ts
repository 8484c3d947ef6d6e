/**
 * `npm run bench:compress` — compresses synthetic Llama-2-7B-shaped deltas (4096×4096 and
 * 4096×11008) end to end (read, hash, SVD, allocate, quantize, measure, write) and records wall
 * seconds and peak RSS of the compressing process, each beside a reference measured in the same
 * run: one fp32 GEMM `[m, n]·[n, 1024]` (machine speed) and the fp32 size of the matrix (memory).
 * Each case runs in a fresh child process so its peak RSS is its own.
 *
 * Targets (issue 2): ≤ 60 s per matrix and peak RSS ≤ 4× the fp32 matrix on 2 cores.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gemm } from '../../linalg/gemm.js';
import { encodeFromFloat32 } from '../../safetensors/dtypes.js';
import { writeSafetensorsFile } from '../../safetensors/file-writer.js';
import { SeededRandom } from '../../util/seeded-random.js';

const CASES = [
  {
    name: 'attention 4096×4096',
    tensor: 'model.layers.0.self_attn.o_proj.weight',
    shape: [4096, 4096] as const,
  },
  { name: 'mlp 4096×11008', tensor: 'model.layers.0.mlp.down_proj.weight', shape: [4096, 11008] as const },
];

/** A long-tail delta: Gaussian factors with decaying column weights, plus noise. */
async function syntheticPair(dir: string, tensor: string, m: number, n: number): Promise<void> {
  const rng = new SeededRandom(42);
  const r = 1024;
  const a = rng.gaussianArray(m * r);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) a[i * r + j] *= (j + 1) ** -0.7;
  const b = rng.gaussianArray(r * n);
  const gemm = await Gemm.create();
  const delta = await gemm.matmul(a, [m, r], b, [r, n]);
  await gemm.close();
  let ss = 0;
  for (const x of delta) ss += x * x;
  const scale = 0.001 / Math.sqrt(ss / delta.length);
  const base = rng.gaussianArray(m * n, 0.02);
  for (let i = 0; i < delta.length; i++) delta[i] = base[i] + delta[i] * scale + rng.gaussian() * 5e-5;
  for (const [sub, values] of [
    ['base', base],
    ['finetuned', delta],
  ] as const) {
    await mkdir(join(dir, sub), { recursive: true });
    await writeSafetensorsFile(join(dir, sub, 'model.safetensors'), [
      { name: tensor, dtype: 'F16', shape: [m, n], data: encodeFromFloat32(values, 'F16') },
    ]);
    await writeFile(join(dir, sub, 'config.json'), '{"architectures":["LlamaForCausalLM"]}\n');
  }
}

async function gemmReferenceSeconds(m: number, n: number): Promise<number> {
  const rng = new SeededRandom(1);
  const a = rng.gaussianArray(m * n);
  const b = rng.gaussianArray(n * 1024);
  const gemm = await Gemm.create();
  await gemm.matmul(a.subarray(0, 64 * n), [64, n], b, [n, 1024]);
  const t0 = performance.now();
  await gemm.matmul(a, [m, n], b, [n, 1024]);
  const seconds = (performance.now() - t0) / 1000;
  await gemm.close();
  return seconds;
}

async function child(mode: string, dir: string, tensor: string, m: number, n: number): Promise<void> {
  if (mode === 'make') {
    await syntheticPair(dir, tensor, m, n);
    return;
  }
  if (mode === 'gemm') {
    process.stdout.write(JSON.stringify({ gemmSeconds: await gemmReferenceSeconds(m, n) }));
    return;
  }
}

/** Runs the built CLI exactly as a user would, in its own process, and reads its --json report. */
function compressWithCli(dir: string, mode: string) {
  const bin = fileURLToPath(new URL('../../../bin/deltahub.js', import.meta.url));
  const args = ['compress', '--base', join(dir, 'base'), '--finetuned', join(dir, 'finetuned')];
  args.push(
    '--out',
    join(dir, 'delta.safetensors'),
    '--json',
    ...(mode === 'solver' ? ['--ratio', '1/16'] : []),
  );
  const r = JSON.parse(
    execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }),
  );
  const m0 = r.matrices[0];
  return {
    seconds: r.seconds as number,
    peakRssBytes: r.peakRssBytes as number,
    alpha: r.totals.alpha,
    relFroError: r.totals.relFroError,
    relOutputError: r.totals.relOutputError,
    groups:
      m0?.groups?.map((g: { bits: number; ranks: number[] }) => `${g.bits}b×${g.ranks[1] - g.ranks[0]}`) ??
      [],
  };
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const run = (args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', self, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
  const results = [];
  for (const c of CASES) {
    const [m, n] = c.shape;
    const dir = await mkdtemp(join(tmpdir(), 'deltahub-bench-'));
    try {
      process.stderr.write(`${c.name}: generating synthetic pair…\n`);
      run(['make', dir, c.tensor, String(m), String(n)]);
      const ref = JSON.parse(run(['gemm', dir, c.tensor, String(m), String(n)]));
      const out: Record<string, unknown> = { case: c.name, shape: [m, n], reference: ref };
      for (const mode of ['paper', 'solver']) {
        process.stderr.write(`${c.name}: compressing (${mode})…\n`);
        const r = compressWithCli(dir, mode);
        const fp32Bytes = m * n * 4;
        out[mode] = {
          ...r,
          rssOverFp32Matrix: r.peakRssBytes / fp32Bytes,
          secondsOverReferenceGemm: r.seconds / ref.gemmSeconds,
          meetsTargets: r.seconds <= 60 && r.peakRssBytes <= 4 * fp32Bytes,
        };
        process.stderr.write(`  ${JSON.stringify(out[mode])}\n`);
      }
      results.push(out);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const report = {
    bench: 'compress',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryBytes: totalmem(),
      node: process.version,
    },
    targets: { secondsPerMatrix: 60, peakRssOverFp32Matrix: 4 },
    results,
  };
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/compress.json', `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

const [mode, dir, tensor, m, n] = process.argv.slice(2);
if (mode) await child(mode, dir, tensor, Number(m), Number(n));
else await main();
