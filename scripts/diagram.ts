/**
 * `npm run docs:diagram`: renders every Graphviz diagram in docs/ (docs/*.dot: the architecture,
 * the payout lifecycle) to the SVG beside it, the images the README and docs show. `--check`
 * renders in memory and exits 1 when a committed SVG is not what its DOT file renders to, so a
 * picture cannot drift from its source.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instance } from '@viz-js/viz';

const docs_dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');

async function run(): Promise<number> {
  const viz = await instance();
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const dotName of readdirSync(docs_dir).filter((name) => name.endsWith('.dot'))) {
    const svgPath = path.join(docs_dir, dotName.replace(/\.dot$/, '.svg'));
    const svg = viz.renderString(readFileSync(path.join(docs_dir, dotName), 'utf8'), { format: 'svg' });
    const shown = path.relative(process.cwd(), svgPath);
    if (!check) {
      writeFileSync(svgPath, svg);
      console.log(`wrote ${shown}`);
    } else if (readFileSync(svgPath, 'utf8') !== svg) {
      console.error(`${shown} is stale: run \`npm run docs:diagram\` and commit it`);
      stale += 1;
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
