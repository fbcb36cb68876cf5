// Swagger UI for the OpenAPI document, served from the swagger-ui-dist package on this host (no CDN).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** The folder of swagger-ui-dist's built files (swagger-ui-bundle.js, swagger-ui.css...). */
export const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

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
