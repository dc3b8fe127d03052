import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderMarkdown } from './markdown';
import type { BenchReport } from './types';

/** `<out>/<stamp>.{json,md}` and `<out>/latest.{json,md}`; returns the markdown. */
export async function writeReport(
  report: BenchReport,
  outDir: string,
  stamp: string,
): Promise<{ markdown: string; jsonPath: string }> {
  await mkdir(outDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const markdown = renderMarkdown(report);
  const jsonPath = path.join(outDir, `${stamp}.json`);
  await writeFile(jsonPath, json);
  await writeFile(path.join(outDir, `${stamp}.md`), markdown);
  await writeFile(path.join(outDir, 'latest.json'), json);
  await writeFile(path.join(outDir, 'latest.md'), markdown);
  return { markdown, jsonPath };
}
