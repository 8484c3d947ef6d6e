import type { MatrixEntry } from './manifest.js';

/**
 * How a matrix's ranks are spent, e.g. `8b×2 3b×32 2b×934` (Delta-CoMe), `f16×128` (Low-Rank) or
 * `sign` (BitDelta). Shared by `deltahub inspect` and the registry's bits table.
 */
export function describeMatrixEncoding(entry: MatrixEntry): string {
  switch (entry.encoding) {
    case 'lowrank-quant':
      return entry.groups.length === 0
        ? 'dropped'
        : entry.groups.map((g) => `${g.bits}b×${g.ranks[1] - g.ranks[0]}`).join(' ');
    case 'lowrank-f16':
      return `f16×${entry.rank}`;
    case 'sign':
      return 'sign';
  }
}

/** Ranks kept by a matrix's encoding (BitDelta: full rank). */
export function keptRank(entry: MatrixEntry): number {
  switch (entry.encoding) {
    case 'lowrank-quant':
      return entry.groups.length === 0 ? 0 : entry.groups[entry.groups.length - 1].ranks[1];
    case 'lowrank-f16':
      return entry.rank;
    case 'sign':
      return Math.min(...entry.shape);
  }
}
