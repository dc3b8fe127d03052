import { openApiDocument } from '../../api/openapi';

/** Documented routes that require a bearer token. */
export function documentedAuthenticatedRoutes(): string[] {
  const document = openApiDocument() as { paths?: Record<string, Record<string, { security?: unknown[] }>> };
  const routes: string[] = [];
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      if ((operation.security ?? []).length > 0) routes.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes.sort();
}
