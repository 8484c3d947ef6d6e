import { DeltaFile } from '../../format/delta-file.js';
import type { DeltaManifest } from '../../format/manifest.js';
import { describeMatrixEncoding, keptRank } from '../../format/matrix-summary.js';
import { fmt, formatTable, humanBytes } from '../format-table.js';

/** What `deltahub inspect --json` prints: the manifest minus bulky per-tensor base digests. */
export function inspectSummary(manifest: DeltaManifest, fileBytes: number) {
  const { base, ...rest } = manifest;
  return {
    fileBytes,
    ...rest,
    base: {
      digest: base.digest,
      architecture: base.architecture,
      tensorCount: Object.keys(base.tensors).length,
    },
  };
}

export function renderInspect(manifest: DeltaManifest, fileBytes: number): string {
  const t = manifest.totals;
  const lines = [
    `format      ${manifest.formatVersion} (${manifest.createdBy})`,
    `method      ${manifest.method}  scheme=${manifest.compression.scheme}  ratio=${fmt(manifest.compression.ratio)}  block=${manifest.compression.blockSize}`,
    `base        ${manifest.base.digest}${manifest.base.architecture ? `  (${manifest.base.architecture})` : ''}`,
    `finetuned   ${manifest.finetuned.digest}`,
    `target      ${manifest.targetDtype}`,
    `size        ${humanBytes(fileBytes)} file; ${humanBytes(t.compressedBytes)} compressed of ${humanBytes(t.fp16DeltaBytes)} fp16 delta; raw ${humanBytes(t.rawBytes)}`,
    `alpha       ${fmt(t.alpha)}  (1/${fmt(1 / (t.alpha || Number.NaN), 3)})`,
    `error       relFro=${fmt(t.relFroError)}  relOutput=${fmt(t.relOutputError)}`,
    `tensors     ${manifest.matrices.length} compressed, ${manifest.raw.length} raw, ${manifest.removed.length} removed`,
    '',
  ];
  const rows = manifest.matrices.map((m) => {
    const s = m.spectrum;
    const sigma = (i: number) => {
      if (!s) return '-';
      const j = s.index.indexOf(i);
      return j >= 0 ? fmt(s.sigma[j], 3) : '-';
    };
    return [
      m.name,
      m.shape.join('×'),
      describeMatrixEncoding(m),
      String(keptRank(m)),
      fmt(m.stats.alpha),
      fmt(m.stats.relFroError),
      fmt(m.stats.relOutputError),
      `${sigma(0)} / ${sigma(s ? s.index[s.index.length - 1] : 0)}`,
    ];
  });
  lines.push(
    formatTable(['matrix', 'shape', 'bits', 'rank', 'alpha', 'relFro', 'relOut', 'σ first / last'], rows),
  );
  if (manifest.raw.length > 0) {
    lines.push(
      '',
      formatTable(
        ['raw tensor', 'dtype', 'shape'],
        manifest.raw.map((r) => [r.name, r.dtype, r.shape.join('×')]),
      ),
    );
  }
  return lines.join('\n');
}

export async function inspectCommand(file: string, options: { json?: boolean }): Promise<void> {
  const delta = await DeltaFile.open(file);
  try {
    const out = options.json
      ? JSON.stringify(inspectSummary(delta.manifest, delta.size), null, 2)
      : renderInspect(delta.manifest, delta.size);
    process.stdout.write(`${out}\n`);
  } finally {
    await delta.close();
  }
}
