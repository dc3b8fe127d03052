/**
 * A trigger that fails on purpose: before each `event` on `table`, a row for which `condition`
 * holds (plpgsql, with `new` and `old`) is refused with SQLSTATE 23514 (check_violation,
 * constraint `test_poison`), as a real constraint or a value too long would on every attempt.
 * Tests of steps no retry can fix install it on a shard; the names and conditions are theirs.
 */
export function poisonTriggerSql(name: string, event: 'insert' | 'update', table: string, condition: string): string {
  return `
  create or replace function ${name}() returns trigger language plpgsql as $$
  begin
    if ${condition} then
      raise exception '${name}' using errcode = 'check_violation', constraint = 'test_poison';
    end if;
    return new;
  end $$;
  drop trigger if exists ${name} on ${table};
  create trigger ${name} before ${event} on ${table} for each row execute function ${name}();`;
}
