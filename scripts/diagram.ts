/**
 * `npm run docs:diagram`: renders the docs' diagrams (Graphviz) to the images the docs show:
 * docs/architecture.dot to architecture.svg (the README's) and docs/payout-lifecycle.dot to
 * payout-lifecycle.svg (docs/rails.md's). `--check` renders in memory and exits 1 when a committed
 * SVG is not what its DOT file renders to, so no picture can drift from its source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instance } from '@viz-js/viz';

const docs_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const diagrams = ['architecture', 'payout-lifecycle'];

async function run(): Promise<number> {
  const viz = await instance();
  let stale = 0;
  for (const name of diagrams) {
    const svgPath = path.join(docs_dir, `${name}.svg`);
    const svg = viz.renderString(readFileSync(path.join(docs_dir, `${name}.dot`), 'utf8'), { format: 'svg' });
    if (!process.argv.includes('--check')) {
      writeFileSync(svgPath, svg);
      console.log(`wrote ${path.relative(process.cwd(), svgPath)}`);
    } else if (readFileSync(svgPath, 'utf8') !== svg) {
      console.error(`docs/${name}.svg is stale: run \`npm run docs:diagram\` and commit it`);
      stale++;
    }
  }
  return stale === 0 ? 0 : 1;
}

run().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`diagram: ${(error as Error).message}`);
    process.exit(1);
  },
);
