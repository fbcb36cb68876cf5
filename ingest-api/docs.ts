// The pages ingest-api serves: Swagger UI for the OpenAPI document (from the swagger-ui-dist package, on
// this host, no CDN) and the live console.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** The folder of swagger-ui-dist's built files (swagger-ui-bundle.js, swagger-ui.css...). */
export const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The live console (GET /console): one static page, no build step, fed by the SSE streams. */
export const consolePage = readFileSync(new URL('console/console.html', import.meta.url), 'utf8');

export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>txpipe ingest-api</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script>
</body>
</html>
`;
