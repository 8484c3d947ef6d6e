// Writes the deterministic fixture pair: `npm run fixtures -- [DIR]` (default test/fixtures/generated).
import { makeLlamaFixturePair } from './fixtures/llama-fixture.js';

const dir = process.argv[2] ?? 'test/fixtures/generated';
const { baseDir, finetunedDir } = await makeLlamaFixturePair(dir);
process.stdout.write(`base: ${baseDir}\nfinetuned: ${finetunedDir}\n`);
