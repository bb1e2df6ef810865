/**
 * A browsable page for an OpenAPI 3 document, rendered on the server as one self-contained HTML
 * file: no script, no CDN, no font (the registry may run where nothing outside is reachable), and
 * nothing the document says is ever markup (every string is escaped). Operations are grouped by
 * their first tag; each opens to its parameters, request body and responses, with schemas written
 * as compact types (`{ name: string, limit?: integer }`).
 */

/** The parts of OpenAPI 3 the page shows (everything else is ignored). */
export interface OpenApiDocument {
  readonly openapi?: string;
  readonly info?: { title?: string; version?: string; description?: string };
  readonly paths?: Record<string, Record<string, Operation | unknown>>;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
  description?: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Nesting shown before a schema is cut with `…` (the documents's schemas are a few levels deep). */
const MAX_SCHEMA_DEPTH = 6;

export function renderDocsPage(doc: OpenApiDocument, jsonUrl: string): string {
  const groups = new Map<string, string[]>();
  let count = 0;
  for (const [path, item] of Object.entries(doc.paths ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const group = op.tags?.[0] ?? groupOf(path);
      const list = groups.get(group) ?? [];
      list.push(operation(method, path, op, count++));
      groups.set(group, list);
    }
  }
  const title = doc.info?.title ?? 'API';
  const toc = [...groups.keys()].map((g) => `<a href="#g-${slug(g)}">${esc(g)}</a>`).join(' · ');
  const body = [...groups.entries()]
    .map(([g, ops]) => `<section id="g-${slug(g)}"><h2>${esc(g)}</h2>${ops.join('\n')}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — API</title>
<style>${STYLE}</style></head>
<body><header><h1>${esc(title)} <small>${esc(doc.info?.version ?? '')}</small></h1>
<p>${esc(doc.info?.description ?? '')}</p>
<p>${count} operations. The OpenAPI ${esc(doc.openapi ?? '')} document: <a href="${esc(jsonUrl)}">${esc(jsonUrl)}</a>.
Send <code>Authorization: Bearer &lt;token&gt;</code> where an operation needs a token.</p>
<nav>${toc}</nav></header>
<main>${body}</main></body></html>
`;
}

function operation(method: string, path: string, op: Operation, index: number): string {
  const params = op.parameters ?? [];
  const rows = params
    .map(
      (p) =>
        `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <em>required</em>' : ''}</td><td>${esc(p.in)}</td><td><code>${esc(p.schema ? typeText(p.schema, 0) : '')}</code>${esc(p.schema ? note(p.schema) : '')}</td><td>${esc(p.description ?? p.schema?.description ?? '')}</td></tr>`,
    )
    .join('');
  const parts = [
    op.description ? `<p>${esc(op.description)}</p>` : '',
    rows
      ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>about</th></tr></thead><tbody>${rows}</tbody></table>`
      : '',
    op.requestBody
      ? `<h4>Request body${op.requestBody.required ? ' (required)' : ''}</h4>${content(op.requestBody.content)}`
      : '',
    op.responses
      ? `<h4>Responses</h4>${Object.entries(op.responses)
          .map(
            ([code, r]) =>
              `<div class="resp"><b>${esc(code)}</b> ${esc(r.description ?? '')}${content(r.content)}</div>`,
          )
          .join('')}`
      : '',
  ].join('');
  return `<details id="op-${index}" class="op"><summary><span class="m m-${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> <span class="s">${esc(op.summary ?? '')}</span></summary>${parts || '<p>No parameters.</p>'}</details>`;
}

function content(types: Record<string, { schema?: Schema }> | undefined): string {
  if (!types) return '';
  return Object.entries(types)
    .map(
      ([type, c]) =>
        `<div><small>${esc(type)}</small><pre>${esc(c.schema ? typeText(c.schema, 0) : '')}</pre></div>`,
    )
    .join('');
}

/** A schema as a compact, readable type; nested objects are indented. */
export function typeText(schema: Schema, depth: number): string {
  if (depth > MAX_SCHEMA_DEPTH) return '…';
  if (schema.$ref) return schema.$ref.split('/').pop() ?? schema.$ref;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((s) => typeText(s, depth + 1)).join(' | ');
  if (schema.allOf) return schema.allOf.map((s) => typeText(s, depth + 1)).join(' & ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (type === 'array') return `${wrap(typeText(schema.items ?? {}, depth + 1))}[]`;
  if (type === 'object' || schema.properties) {
    const props = Object.entries(schema.properties ?? {});
    const extra =
      typeof schema.additionalProperties === 'object'
        ? [`[key: string]: ${typeText(schema.additionalProperties, depth + 1)}`]
        : [];
    if (props.length === 0 && extra.length === 0) return 'object';
    const pad = '  '.repeat(depth + 1);
    const required = new Set(schema.required ?? []);
    const lines: [string, string][] = [
      ...props.map(([k, v]): [string, string] => [
        `${pad}${k}${required.has(k) ? '' : '?'}: ${typeText(v, depth + 1)}`,
        note(v),
      ]),
      ...extra.map((e): [string, string] => [`${pad}${e}`, '']),
    ];
    const body = lines.map(([text, n], i) => `${text}${i < lines.length - 1 ? ',' : ''}${n}`);
    return `{\n${body.join('\n')}\n${'  '.repeat(depth)}}`;
  }
  return (type ?? 'any') + (schema.format ? ` (${schema.format})` : '');
}

/** Limits and defaults a caller needs, after the type. */
export function note(s: Schema): string {
  const bits: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) bits.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.maxLength !== undefined) bits.push(`≤ ${s.maxLength} chars`);
  if (s.default !== undefined) bits.push(`default ${JSON.stringify(s.default)}`);
  return bits.length ? `  // ${bits.join(', ')}` : '';
}

const wrap = (t: string) => (t.includes(' | ') ? `(${t})` : t);

/** Paths without a tag: grouped by what follows the API prefix (/api/2.0/mlflow/... -> mlflow). */
function groupOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length > 2) return parts[2]!;
  return parts[0] ?? 'other';
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header,main{max-width:1100px;margin:0 auto;padding:0 20px}header{padding-top:12px}
h1 small{color:#6b7280;font-weight:normal;font-size:60%}nav{margin:8px 0 16px;line-height:2}
nav a{margin-right:4px}h2{border-bottom:1px solid #d8dde6;padding-bottom:4px;margin-top:28px}
.op{background:#fff;border:1px solid #d8dde6;border-radius:6px;margin:6px 0;padding:6px 10px}
.op summary{cursor:pointer}.s{color:#4b5563}.m{display:inline-block;min-width:58px;font:bold 12px monospace;
text-align:center;border-radius:4px;padding:2px 4px;color:#fff;background:#6b7280}.m-get{background:#2563eb}
.m-post{background:#15803d}.m-put,.m-patch{background:#b45309}.m-delete{background:#b91c1c}
pre{background:#f3f4f6;padding:8px;border-radius:4px;overflow:auto;margin:4px 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e5e7eb;text-align:left;padding:4px 6px;vertical-align:top}
.resp{margin:6px 0}code{font-size:13px}`;
