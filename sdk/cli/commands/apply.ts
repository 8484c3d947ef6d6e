import { applyDelta } from '../../apply/apply-delta.js';
import { phaseProgress } from '../progress.js';

export async function applyCommand(o: {
  base: string;
  delta: string;
  out: string;
  json?: boolean;
}): Promise<void> {
  const bar = phaseProgress(!o.json);
  const started = performance.now();
  try {
    const result = await applyDelta({
      baseDir: o.base,
      deltaPath: o.delta,
      outDir: o.out,
      onProgress: bar.update,
    });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      o.json
        ? `${JSON.stringify({ out: result.outDir, tensors: result.tensors, seconds })}\n`
        : `wrote ${result.outDir} (${result.tensors} tensors) in ${seconds.toFixed(1)} s\n`,
    );
  } finally {
    bar.stop();
  }
}
