/** Turns the usual start-up failures into one line that names the problem. */
export function describeStartupError(error: unknown): string {
  const details = error as { code?: string; address?: string; port?: number; message?: string };
  if (details.code === 'ECONNREFUSED') {
    return `cannot connect to ${details.address ?? 'a server'}:${details.port ?? '?'} (connection refused): is PostgreSQL running?`;
  }
  if (details.code === 'EADDRINUSE') return `port ${details.port ?? '?'} is already in use`;
  if (details.code === '3D000') return `shard database missing: ${details.message} (run npm start or npm run db:setup)`;
  if (details.code === '28P01' || details.code === '28000') return `PostgreSQL refused the login: ${details.message}`;
  const message = details.message ?? String(error);
  if (/transport error|Connection refused|tcp connect error/i.test(message)) {
    return `cannot reach Temporal: ${message.split('\n')[0]}`;
  }
  return message.split('\n')[0] ?? 'unknown error';
}
