import type { FloorCompletions } from './completions';

/** The floor's two "legs": no work, except that the second tells the HTTP side the run is done. */
export function createFloorActivities(completions: FloorCompletions) {
  return {
    async floorDebit(floorId: string): Promise<void> {
      void floorId;
    },
    async floorCredit(floorId: string): Promise<void> {
      // As the wallet hears of a transfer when its deciding leg commits, in-process.
      completions.finished(floorId);
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
