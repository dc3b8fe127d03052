/** `npm run chaos -- --seed S --transfers N`: the wallet under a seeded schedule of faults, with its invariants checked at the end (issue 9). */
import { chaos_usage, parseChaosOptions } from './options';
import { runChaos } from './run';

async function main(): Promise<number> {
  const options = parseChaosOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(chaos_usage);
    return 0;
  }
  return (await runChaos(options)) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`chaos: ${(error as Error).stack ?? error}`);
    process.exit(2);
  },
);
