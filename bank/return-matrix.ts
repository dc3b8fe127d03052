/**
 * The bank's test matrix, as payment providers' test modes have one: an entry to an account
 * number ending in one of these four digits is returned with this code, after or before
 * settlement. Every other entry settles and stays settled. README, "The bank", lists it.
 */
export const return_matrix = [
  { suffix: '0002', code: 'R02', when: 'after_settlement', meaning: 'account closed' },
  { suffix: '0003', code: 'R03', when: 'after_settlement', meaning: 'no account / unable to locate account' },
  { suffix: '0004', code: 'R04', when: 'after_settlement', meaning: 'invalid account number' },
  { suffix: '9003', code: 'R03', when: 'before_settlement', meaning: 'no account, returned instead of settling' },
] as const;

export type ReturnTiming = (typeof return_matrix)[number]['when'];

export function scheduledReturnOf(accountNumber: string): { code: string; when: ReturnTiming } | undefined {
  const row = return_matrix.find(({ suffix }) => accountNumber.endsWith(suffix));
  return row ? { code: row.code, when: row.when } : undefined;
}
