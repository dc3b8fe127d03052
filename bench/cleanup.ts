/**
 * What the bench must undo however it ends: processes it started, databases it created.
 * Steps run last-added first (processes stop before their databases are dropped), each once,
 * and a failing step does not keep the others from running.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> | void }[] = [];
  private running: Promise<void> | undefined;

  add(name: string, run: () => Promise<unknown> | void): void {
    this.steps.push({ name, run });
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.run();
        } catch (error) {
          console.error(`bench: cleanup "${step.name}" failed: ${(error as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}
