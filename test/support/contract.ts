import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Holds every answer the test helpers receive to the OpenAPI document the wallet serves. The
 * document's response schemas stay open (a client should accept a field added later); this
 * check closes every object (`additionalProperties: false`) so the server never sends a field,
 * a status or an error code the document lacks.
 */

export interface Exchange {
  method: string;
  /** The request path, query included. */
  path: string;
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

interface Response {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: object }>;
}
interface Operation {
  responses: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

const defs_id = 'https://wallet.test/openapi-components';

/** Throws a ContractViolation naming the operation, the status and what is wrong. */
type ContractCheck = (exchange: Exchange) => void;

export function contractOf(document: Document): ContractCheck {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addVocabulary(['example']);
  ajv.addSchema({ $id: defs_id, $defs: closed(retarget(document.components.schemas)) });
  const operations = operationsOf(document);
  const validators = new Map<string, ValidateFunction>();
  const validatorOf = (key: string, schema: object) => {
    if (!validators.has(key)) validators.set(key, ajv.compile(closed(retarget(schema))));
    return validators.get(key)!;
  };
  return (exchange) => {
    const pathname = new URL(exchange.path, 'http://wallet').pathname;
    const found = operations.find(
      (operation) => operation.method === exchange.method.toLowerCase() && operation.pattern.test(pathname),
    );
    // An undocumented route or method may only be refused, with a documented error.
    const name = found ? `${exchange.method} ${found.template}` : `${exchange.method} ${pathname} (undocumented)`;
    const responses = found?.operation.responses ?? undocumentedRoute(document);
    const response = responses[String(exchange.status)] ?? responses[`${Math.floor(exchange.status / 100)}XX`];
    const fail = (problem: string): never => {
      throw new ContractViolation(
        `${name} answered ${exchange.status}: ${problem}\n  body: ${JSON.stringify(exchange.body).slice(0, 2_000)}`,
      );
    };
    if (!response) return fail(`status ${exchange.status} is not documented for this operation`);
    for (const [header, declared] of Object.entries(response.headers ?? {})) {
      if (declared.required && !exchange.headers.has(header)) fail(`required header ${header} is missing`);
    }
    const contentType = exchange.headers.get('content-type')?.split(';')[0]?.trim();
    if (!response.content) {
      if (contentType) fail(`no body is documented, but one came (${contentType})`);
      return;
    }
    const media = contentType ? response.content[contentType] : undefined;
    if (!media) return fail(`content type ${contentType ?? '(none)'} is not documented`);
    if (!media.schema) return;
    const validate = validatorOf(`${name} ${exchange.status} ${contentType}`, media.schema);
    if (!validate(exchange.body)) fail(describe(validate.errors ?? []));
  };
}

/** Ajv's errors with what they name: the extra field, the allowed values. */
function describe(errors: ErrorObject[]): string {
  return errors
    .map((error) => {
      const params = error.params as { additionalProperty?: string; allowedValues?: unknown[] };
      const named = params.additionalProperty ?? params.allowedValues?.join(', ');
      return `body${error.instancePath} ${error.message}${named === undefined ? '' : ` (${named})`}`;
    })
    .join('; ');
}

function operationsOf(document: Document) {
  const operations = Object.entries(document.paths).flatMap(([template, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      template,
      method,
      operation,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      parameters: (template.match(/\{/g) ?? []).length,
    })),
  );
  // A literal segment wins over a parameter: /v1/wallet/fx/quotes before /v1/wallet/{user_id}/...
  return operations.sort((a, b) => a.parameters - b.parameters);
}

/** What an undocumented route or method may answer: one of the document's errors (`Error400`, ...). */
function undocumentedRoute(document: Document): Record<string, Response> {
  const answers: Record<string, Response> = {};
  for (const name of Object.keys(document.components.schemas)) {
    const status = /^Error([0-9]{3})$/.exec(name)?.[1];
    if (status)
      answers[status] = { content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
  }
  return answers;
}

/** Points the document's `#/components/schemas/X` references at the schema this module registers. */
function retarget<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${defs_id}#/$defs/`)) as T;
}

/** A copy in which every object that lists its properties allows no others. */
function closed<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(closed) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const node = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  // allOf's members are checked one by one, so closing them would refuse each other's fields.
  if ('allOf' in node)
    throw new Error('the contract check cannot close an allOf: write the schema out in api/schemas.ts');
  if ('properties' in node && !('additionalProperties' in node)) node.additionalProperties = false;
  return node as T;
}

const served = new Map<string, Promise<ContractCheck>>();
const by_document_text = new Map<string, ContractCheck>();

/** The contract of the document the wallet at baseUrl serves at /openapi.json, fetched once per address. */
function servedContract(baseUrl: string): Promise<ContractCheck> {
  let check = served.get(baseUrl);
  if (!check) {
    check = fetch(`${baseUrl}/openapi.json`)
      .then((response) => response.text())
      .then((text) => {
        if (!by_document_text.has(text)) by_document_text.set(text, contractOf(JSON.parse(text) as Document));
        return by_document_text.get(text)!;
      });
    served.set(baseUrl, check);
  }
  return check;
}

/** Checks one answer against the served document; a violation fails the test that received it. */
export async function checkContract(baseUrl: string, exchange: Exchange): Promise<void> {
  (await servedContract(baseUrl))(exchange);
}
