/**
 * deltahub safetensors I/O: strict header validation, bounded-memory reads, streaming atomic
 * writes, sharded checkpoints and checkpoint digests. See README.md for the limits.
 *
 * Edge runtimes should import `./header.js`, `./header-writer.js`, `./dtypes.js` and
 * `./digest.js` directly: this barrel also pulls in the Node-only reader and writer.
 */
export {
  Checkpoint,
  INDEX_FILE,
  type ShardOptions,
  SINGLE_FILE,
  writeShardedCheckpoint,
} from './checkpoint.js';
export {
  type CheckpointHash,
  checkpointDigest,
  hashCheckpoint,
  type TensorDigestEntry,
  tensorSha256,
} from './digest.js';
export {
  DTYPES,
  type Dtype,
  decodeToFloat32,
  dtypeByteSize,
  encodeFromFloat32,
  float16BitsToFloat32,
  float16BitsToFloat32Array,
  float32ArrayToFloat16Bits,
  float32ToFloat16Bits,
  isDtype,
} from './dtypes.js';
export { DEFAULT_CHUNK_BYTES, SafetensorsFile } from './file-reader.js';
export { type TensorEntry, type WrittenFile, writeSafetensorsFile } from './file-writer.js';
export {
  MAX_HEADER_BYTES,
  MAX_NAME_BYTES,
  MAX_RANK,
  parseSafetensorsBuffer,
  parseSafetensorsHeader,
  parseSafetensorsPrefix,
  readHeaderLength,
  type SafetensorsHeader,
  type TensorInfo,
  tensorView,
} from './header.js';
export { type BuiltHeader, buildSafetensorsHeader, type TensorDecl } from './header-writer.js';
