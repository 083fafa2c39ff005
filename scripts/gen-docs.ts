// Regenerates the generated documentation (docs/config.md). Run: npm run gen:docs
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/config/reference.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
console.log('wrote docs/config.md');
