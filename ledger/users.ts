import type pg from 'pg';

export interface UserRow {
  userId: string;
  frozen: boolean;
  createdAt: Date;
}

/** Returns the new user, or undefined when the id is taken. */
export async function insertUser(client: pg.PoolClient | pg.Pool, userId: string): Promise<UserRow | undefined> {
  const inserted = await client.query<{ user_id: string; frozen: boolean; created_at: Date }>(
    'insert into users (user_id) values ($1::text) on conflict do nothing returning user_id, frozen, created_at',
    [userId],
  );
  const row = inserted.rows[0];
  return row && { userId: row.user_id, frozen: row.frozen, createdAt: row.created_at };
}

export async function findUser(client: pg.PoolClient | pg.Pool, userId: string): Promise<UserRow | undefined> {
  const found = await client.query<{ user_id: string; frozen: boolean; created_at: Date }>(
    'select user_id, frozen, created_at from users where user_id = $1::text',
    [userId],
  );
  const row = found.rows[0];
  return row && { userId: row.user_id, frozen: row.frozen, createdAt: row.created_at };
}

/** Returns false when the user does not exist. */
export async function setFrozen(client: pg.PoolClient | pg.Pool, userId: string, frozen: boolean): Promise<boolean> {
  const updated = await client.query('update users set frozen = $2::boolean where user_id = $1::text', [userId, frozen]);
  return updated.rowCount === 1;
}
