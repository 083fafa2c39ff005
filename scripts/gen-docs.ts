// Regenerates the generated documentation: docs/config.md (from the schema) and docs/keepalived.md (from the
// keepalived keyword tables). Run: npm run gen:docs. Tests fail when the committed files are out of date.
import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/api/http/openapi.ts';
import { renderKeepalivedDoc } from '../src/config/import/keepalived-doc.ts';
import { renderConfigReference } from '../src/config/reference.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
writeFileSync(new URL('../docs/keepalived.md', import.meta.url), renderKeepalivedDoc());
// HTTP API (issue 12): the OpenAPI document
writeFileSync(new URL('../docs/openapi.json', import.meta.url), renderOpenApi());
console.log('wrote docs/config.md, docs/keepalived.md and docs/openapi.json');
