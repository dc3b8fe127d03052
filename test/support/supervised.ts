/**
 * A supervisor as `npm start` runs it (supervisor/children.ts), over a stand-in child, for
 * test/supervisor.test.ts: `steady` runs a child that lives until killed, `crash-loop` one that
 * exits at once, every time. Log lines go to stdout, where the test reads the children's pids.
 */
import { spawn } from 'node:child_process';
import { Supervisor } from '../../supervisor/children';

const mode = process.argv[2];
if (mode !== 'steady' && mode !== 'crash-loop') throw new Error('usage: supervised.ts steady|crash-loop');
const supervisor = new Supervisor({
  policy: { backoffInitialMs: 200, backoffMaxMs: 1_000, crashesMax: 3, windowMs: 60_000 },
  log: (line) => console.log(line),
});
supervisor.handleSignals();
const program = mode === 'steady' ? 'setInterval(() => {}, 1000)' : 'process.exit(3)';
supervisor.add('stand-in', () => spawn(process.execPath, ['-e', program], { stdio: 'ignore' }));
