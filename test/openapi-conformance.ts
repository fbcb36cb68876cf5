// Checks real answers against the OpenAPI document (ajv, JSON Schema draft 2020-12 as OpenAPI 3.1 uses).
import { Ajv2020 } from 'ajv/dist/2020.js';

type Json = Record<string, any>;

/** `/v1/accounts/:id` (Express) -> `/v1/accounts/{id}` (OpenAPI). */
export const openApiPath = (route: string) => route.replace(/:(\w+)/g, '{$1}');

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

export function conformance(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
  const cache = new Map<string, ReturnType<Ajv2020['compile']>>();

  /** Throws unless the path, method and status are in the document and the body matches its schema. */
  return (method: string, template: string, status: number, contentType: string | null, body: unknown) => {
    const op = doc.paths[template]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${template} is not in the document`);
    const response = op.responses[String(status)];
    if (!response) throw new Error(`${method} ${template} answered ${status}, which the document does not list`);
    const media = (contentType ?? '').split(';')[0]!.trim();
    if (!response.content?.[media])
      throw new Error(`${method} ${template} ${status} answered ${media}, not in the document`);
    if (media !== 'application/json') return;
    const key = `${template} ${method} ${status}`;
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile({
        $ref: `openapi.json#/${pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', media, 'schema')}`,
      });
      cache.set(key, validate);
    }
    if (!validate(body))
      throw new Error(
        `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)}; body ${JSON.stringify(body).slice(0, 500)}`,
      );
  };
}
