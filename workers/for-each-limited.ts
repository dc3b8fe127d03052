/**
 * Runs work over items with at most `concurrency` at a time. After the first error no further
 * item starts, and the returned promise settles only once every started item has: it then
 * rejects with that first error. Nothing is left running unwatched behind a rejection.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const failures = await runLanes(items, concurrency, work, true);
  if (failures.length > 0) throw failures[0]!.error;
}

export interface ItemFailure<T> {
  item: T;
  error: unknown;
}

/**
 * Runs work over every item with at most `concurrency` at a time, whatever fails: one item's
 * error neither stops the others nor the items after it. Resolves once all have settled, with
 * the items that failed and their errors (in the order they failed).
 */
export async function forEachSettled<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<ItemFailure<T>[]> {
  return runLanes(items, concurrency, work, false);
}

async function runLanes<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
  stopOnError: boolean,
): Promise<ItemFailure<T>[]> {
  const failures: ItemFailure<T>[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length && !(stopOnError && failures.length > 0)) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failures.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return failures;
}
