/**
 * deltahub linear algebra: GEMM on onnxruntime (MLAS), randomized truncated SVD, symmetric eigen,
 * CholeskyQR orthonormalisation and an exact reference SVD. See README.md for the numeric path.
 */
export {
  choleskyInverse,
  gramColumns,
  gramRows,
  NotPositiveDefiniteError,
  orthonormalizeColumns,
} from './cholesky-qr.js';
export { type DenseSvdResult, denseSvd } from './dense-svd.js';
export { Gemm, type GemmOptions, gemmModel } from './gemm.js';
export { gaussianMatrix, seededUniform } from './random.js';
export {
  frobeniusNorm,
  lowRankResidual,
  type PhaseTimer,
  type RandomizedSvdOptions,
  randomizedSvd,
  type SvdResult,
} from './randomized-svd.js';
export { type SymmetricEigenResult, symmetricEigen, symmetricEigenRows } from './symmetric-eigen.js';
