#!/usr/bin/env node
// Compiles lib/, native-defs/ and test/ to JavaScript for Wine's node.exe (tsx's esbuild cannot
// run under Wine 8.0) with TypeScript's own transpiler, one file at a time: types are checked by
// `npm test` (tsc --noEmit); this only strips them, in seconds even on a loaded machine.
// Usage: node test/wine/transpile.mjs <outDir>
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, '.cache/wine/app'));
const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true, verbatimModuleSyntax: false };

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'build' && name !== 'node_modules') yield* sources(full);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield full;
  }
}

let count = 0;
for (const top of ['lib', 'native-defs', 'test']) {
  for (const file of sources(path.join(root, top))) {
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: true });
    if (diagnostics?.length) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
    const out = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    count++;
  }
}
console.log(`transpiled ${count} files to ${outDir}`);
