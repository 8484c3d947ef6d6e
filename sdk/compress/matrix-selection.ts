/**
 * Which 2-D tensors are "linear matrices" to compress. Defaults cover Llama, Mistral and Qwen2
 * attention and MLP projections; embeddings and lm_head stay raw (their rows are looked up or
 * indexed per token, so a low-rank error there hits every step).
 */
export const DEFAULT_MATRIX_PATTERNS: readonly string[] = [
  String.raw`\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$`,
];

/** Compiles user patterns (regular expressions as strings) once; throws on an invalid one. */
export function compileMatrixPatterns(patterns: readonly string[] = DEFAULT_MATRIX_PATTERNS): RegExp[] {
  return patterns.map((p) => new RegExp(p));
}

export function isCompressibleMatrix(
  name: string,
  shape: readonly number[],
  patterns: readonly RegExp[],
): boolean {
  return shape.length === 2 && shape[0] > 0 && shape[1] > 0 && patterns.some((p) => p.test(name));
}
