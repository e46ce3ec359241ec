/**
 * The node arguments that run a fixture under test/fixtures/: through tsx normally, and as the
 * compiled .js file when the tests themselves run compiled (npm run test:wine: no tsx under Wine).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = import.meta.url.endsWith('.js');

/** `[...args]` for `spawn(process.execPath, [...fixtureArgs('x.ts'), ...yours])`. */
export function fixtureArgs(name: string): string[] {
  const file = path.join(root, 'test/fixtures', name);
  return compiled ? [file.replace(/\.ts$/, '.js')] : ['--import', 'tsx', file];
}
