import { compressCheckpoint } from '../../compress/compress-checkpoint.js';
import { parseRatio } from '../../compress/ratio.js';
import { InvalidInputError } from '../../errors/errors.js';
import { type DeltaMethod, METHODS } from '../../format/manifest.js';
import { fmt, humanBytes } from '../format-table.js';
import { phaseProgress } from '../progress.js';
import { inspectSummary } from './inspect.js';

export interface CompressCliOptions {
  base: string;
  finetuned: string;
  out: string;
  method: string;
  ratio?: string;
  blockSize: string;
  matrices?: string[];
  threads?: string;
  seed: string;
  json?: boolean;
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidInputError(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

export async function compressCommand(o: CompressCliOptions): Promise<void> {
  if (!(METHODS as readonly string[]).includes(o.method)) {
    throw new InvalidInputError(`--method must be one of ${METHODS.join(', ')}, got "${o.method}"`);
  }
  const bar = phaseProgress(!o.json);
  const started = performance.now();
  try {
    const result = await compressCheckpoint({
      baseDir: o.base,
      finetunedDir: o.finetuned,
      outPath: o.out,
      method: o.method as DeltaMethod,
      ...(o.ratio !== undefined ? { ratio: parseRatio(o.ratio) } : {}),
      blockSize: positiveInt('block-size', o.blockSize),
      ...(o.matrices ? { matrixPatterns: o.matrices } : {}),
      ...(o.threads ? { threads: positiveInt('threads', o.threads) } : {}),
      svd: { seed: positiveInt('seed', o.seed) },
      onProgress: bar.update,
    });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({ out: result.outPath, sha256: result.sha256, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, ...inspectSummary(result.manifest, result.bytes) }, null, 2)}\n`,
      );
    } else {
      const t = result.manifest.totals;
      process.stdout.write(
        `wrote ${result.outPath} (${humanBytes(result.bytes)}, sha256 ${result.sha256.slice(0, 16)}…) in ${seconds.toFixed(1)} s\n` +
          `${result.manifest.method}: ${result.manifest.matrices.length} matrices, alpha=${fmt(t.alpha)}, relFro=${fmt(t.relFroError)}, relOutput=${fmt(t.relOutputError)}; ${result.manifest.raw.length} raw tensors\n`,
      );
    }
  } finally {
    bar.stop();
  }
}
