/**
 * The ReDoc page IIB's users know, for the generated document. Every URL is
 * relative to /api/v1/docs, so the page works behind a proxy that mounts
 * the gateway under a prefix; the script comes from the redoc package
 * through the gateway, never from a CDN (the machine may be offline).
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IIB API</title>
</head>
<body>
<redoc spec-url="openapi.json" hide-hostname="true"></redoc>
<noscript>This page needs JavaScript; the document itself is <a href="openapi.json">openapi.json</a>.</noscript>
<script src="../../ui/vendor/redoc.standalone.js"></script>
</body>
</html>
`;
}

/** ReDoc styles itself with inline styles and runs its search in a blob worker; nothing else is allowed. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
