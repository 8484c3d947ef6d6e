import { Command, CommanderError } from 'commander';
import { DeltahubError } from '../errors/errors.js';
import { VERSION } from '../version.js';
import { applyCommand } from './commands/apply.js';
import { compressCommand } from './commands/compress.js';
import { inspectCommand } from './commands/inspect.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

const program = new Command()
  .name('deltahub')
  .description('Compress, inspect and apply fine-tune deltas (Delta-CoMe)')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

program
  .command('compress')
  .description('compress finetuned − base into a delta file')
  .requiredOption('--base <dir>', 'base checkpoint directory (safetensors, sharded or not)')
  .requiredOption('--finetuned <dir>', 'fine-tuned checkpoint directory')
  .requiredOption('--out <file>', 'delta file to write')
  .option('--method <method>', 'delta-come | low-rank | bitdelta', 'delta-come')
  .option('--ratio <ratio>', 'size budget α, e.g. 1/16 (delta-come: budget solver; default: the paper split)')
  .option('--block-size <n>', 'quantization block size along the input dimension', '64')
  .option('--matrices <regex...>', 'regular expressions naming the matrices to compress')
  .option('--threads <n>', 'threads for matrix products (default: all cores)')
  .option('--seed <n>', 'seed of the randomized SVD and error probes', '1')
  .option('--json', 'print the result as JSON')
  .action(compressCommand);

program
  .command('inspect')
  .description('show a delta file: manifest, α, per-layer bits, errors, spectrum')
  .argument('<file>', 'delta file')
  .option('--json', 'print the manifest summary as JSON')
  .action(inspectCommand);

program
  .command('apply')
  .description('apply a delta to its base and write the fine-tuned checkpoint')
  .requiredOption('--base <dir>', 'base checkpoint directory')
  .requiredOption('--delta <file>', 'delta file')
  .requiredOption('--out <dir>', 'output directory (must not exist or be empty)')
  .option('--json', 'print the result as JSON')
  .action(applyCommand);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (error instanceof DeltahubError) {
    process.stderr.write(`deltahub: ${error.code}: ${error.message}\n`);
    process.exitCode = exitCodeFor(error);
  } else {
    const e = error as NodeJS.ErrnoException;
    const message =
      e?.code === 'ENOENT' ? `no such file or directory: ${e.path}` : (e?.message ?? String(error));
    process.stderr.write(`deltahub: ${message}\n`);
    process.exitCode = EXIT.failure;
  }
}
