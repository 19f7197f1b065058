// Validates an AsyncAPI document with the official parser (@asyncapi/parser,
// installed by `make lint-asyncapi` into build/npm), resolving its $refs to
// the JSON Schema files beside it. Prints every diagnostic as
// file:line:col: severity: message (code) and exits 1 on any error or
// warning, 0 otherwise. Usage: node tests/lint/asyncapi.mjs FILE NODE_MODULES
import { createRequire } from 'node:module';
import path from 'node:path';

const [file, modules] = process.argv.slice(2);
if (!file || !modules) {
  console.error('usage: node asyncapi.mjs FILE NODE_MODULES');
  process.exit(2);
}
const require = createRequire(path.resolve(modules) + '/');
const { Parser, fromFile } = require('@asyncapi/parser');

const severities = ['error', 'warning', 'info', 'hint'];
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, file).parse();
let bad = 0;
for (const d of diagnostics) {
  const where = d.range ? `${d.range.start.line + 1}:${d.range.start.character + 1}` : '1:1';
  const src = d.source ? path.relative(process.cwd(), d.source) : file;
  const sev = severities[d.severity] ?? String(d.severity);
  console.log(`${src}:${where}: ${sev}: ${d.message} (${d.code}${d.path?.length ? ' at ' + d.path.join('.') : ''})`);
  if (d.severity <= 1) bad++;
}
if (!document) {
  console.log(`${file}: not a valid AsyncAPI document`);
  process.exit(1);
}
const n = (x) => x.all().length;
console.log(`${file}: AsyncAPI ${document.version()}, ${n(document.channels())} channels, ` +
            `${n(document.operations())} operations, ${n(document.messages())} messages, ` +
            `${bad} errors or warnings`);
process.exit(bad ? 1 : 0);
