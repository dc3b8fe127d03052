/**
 * `npm run docs:diagram`: renders the architecture diagram (docs/architecture.dot, Graphviz) to
 * docs/architecture.svg, the image the README shows. `--check` renders in memory and exits 1 when
 * the committed SVG is not what the DOT file renders to, so the picture cannot drift from its source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instance } from '@viz-js/viz';

const docs_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const dot_path = path.join(docs_dir, 'architecture.dot');
const svg_path = path.join(docs_dir, 'architecture.svg');

async function run(): Promise<number> {
  const viz = await instance();
  const svg = viz.renderString(readFileSync(dot_path, 'utf8'), { format: 'svg' });
  if (process.argv.includes('--check')) {
    if (readFileSync(svg_path, 'utf8') === svg) return 0;
    console.error('docs/architecture.svg is stale: run `npm run docs:diagram` and commit it');
    return 1;
  }
  writeFileSync(svg_path, svg);
  console.log(`wrote ${path.relative(process.cwd(), svg_path)}`);
  return 0;
}

run().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`diagram: ${(error as Error).message}`);
    process.exit(1);
  },
);
