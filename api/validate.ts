import type { z } from 'zod';
import { ApiError } from './errors';

/** Parses a request part or throws a 400 invalid_request listing every problem found. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, part: 'body' | 'query' | 'path'): z.infer<T> {
  const parsed = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : part,
    problem: issue.message,
  }));
  const summary = problems.map((problem) => `${problem.field}: ${problem.problem}`).join('; ');
  throw new ApiError('invalid_request', `invalid ${part}: ${summary}`, problems);
}
