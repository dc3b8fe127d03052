/**
 * Who an operator is, as every channel records and compares it (pure: safe in workflow code).
 *
 * An operator identity is normalized once, here, and every bound is checked on the normalized
 * form: Unicode NFKC (full-width `ａｌｉｃｅ` is `alice`), then a case fold (upper- then lower-case,
 * then NFKC again: `ALICE`, `Straße` and `STRASSE` are one person each), ends trimmed and inner
 * white space collapsed. Characters that cannot be seen, or that make one name look like
 * another, are refused rather than dropped: controls, format characters (zero-width space and
 * joiners, bidi controls, soft hyphen), default-ignorable characters (variation selectors,
 * fillers), private-use and unassigned code points, unpaired surrogates. A refused name never
 * reaches the database: `"İ".toLowerCase()` is two characters, so a 128-character name with
 * one "İ" is 129 once normalized, and refused here with that reason.
 *
 * Not covered: letters of other scripts that look alike (Cyrillic `а` and Latin `a`) stay two
 * names; an identity provider that issues such subjects must refuse them itself.
 */

/** The longest operator identity, in code points of its normalized form (the audit table's bound). */
export const operator_length_max = 128;

/** Raw input longer than this (UTF-16 units) is refused before normalizing, which can grow a string 18-fold. */
const operator_raw_length_max = 4 * operator_length_max;

/**
 * The audit's operator for a refused request whose sender is not known (no token, or one whose
 * signature does not verify). Normalization refuses it, so no operator can be given it.
 */
export const operator_unverified = '(unverified)';

const invisible = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const unpaired_surrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type OperatorIdentity = { ok: true; operator: string } | { ok: false; why: string };

/** The one normalization of an operator identity; `why` says what is wrong with a refused one. */
export function operatorIdentity(raw: unknown): OperatorIdentity {
  if (typeof raw !== 'string') return { ok: false, why: 'the operator must be a string' };
  if (raw.length > operator_raw_length_max)
    return { ok: false, why: `the operator is longer than ${operator_length_max} characters` };
  if (unpaired_surrogate.test(raw)) return { ok: false, why: 'the operator contains an unpaired surrogate' };
  const folded = raw.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  const hidden = invisible.exec(folded);
  if (hidden)
    return {
      ok: false,
      why: `the operator contains an invisible or unassigned character (U+${hidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`,
    };
  const operator = folded.trim().replace(/\s+/gu, ' ');
  if (operator.length === 0) return { ok: false, why: 'the operator is empty' };
  const length = [...operator].length;
  if (length > operator_length_max)
    return {
      ok: false,
      why: `the operator is ${length} characters once normalized (NFKC and case fold); at most ${operator_length_max}`,
    };
  if (operator === operator_unverified) return { ok: false, why: `${operator_unverified} is reserved` };
  return { ok: true, operator };
}

/** The normalized identity, or an Error naming why the name is refused. */
export function normalizeOperator(raw: string): string {
  const identity = operatorIdentity(raw);
  if (!identity.ok) throw new InvalidOperator(identity.why);
  return identity.operator;
}

class InvalidOperator extends Error {
  override name = 'InvalidOperator';
}

/**
 * What an operator can do to a transfer through its workflow, and so what an action token can
 * be for. `retry` resumes a transfer that needs attention once its cause is fixed. `cancel` is a
 * payout's (workflows/payout.ts): its token names the payout id where a transfer's names the
 * transfer id.
 */
export const transfer_ops_actions = ['approve', 'reject', 'reverse', 'retry', 'cancel'] as const;
export type TransferOpsAction = (typeof transfer_ops_actions)[number];

/**
 * Why an operator's request to a transfer was refused before anything moved: the request's
 * proof (its action token), or its identity. Each is audited as `refused` with this code.
 */
export const action_token_refusals = [
  'action_token_required',
  'action_token_invalid',
  'action_token_expired',
  'action_token_mismatch',
  'action_token_used',
  'operator_invalid',
] as const;
export type ActionTokenRefusal = (typeof action_token_refusals)[number];

/** What the workflow asks of a token: it must be for this action on this transfer. */
export interface ActionTokenCheck {
  token: string;
  action: TransferOpsAction;
  transferId: string;
}

/** The verifier's answer: who sent the request, or why it is refused (and who, when the signature held). */
export type ActionTokenVerdict =
  | { ok: true; operator: string; tokenId: string; allowNegative: boolean }
  | { ok: false; refusal: ActionTokenRefusal; message: string; operator: string | null };
