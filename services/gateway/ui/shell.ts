/**
 * The builds page: a static shell; the script fills <main> from the API.
 * Every URL is relative to /ui/ (one build is `?id=N`, never a deeper path),
 * so the page works behind a proxy that mounts the gateway under a prefix.
 */
export function shellPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IIB builds</title>
<link rel="stylesheet" href="style.css">
<script type="module" src="app/main.js"></script>
</head>
<body>
<header class="top">
<a class="brand" href="./">IIB builds</a>
<nav aria-label="Site"><a href="./">Builds</a><a href="../api/v1/docs">API documentation</a></nav>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>This page needs JavaScript. The same data is at <a href="../api/v1/builds">../api/v1/builds</a>.</p></noscript>
</body>
</html>
`;
}

/** The page's scripts and styles come from the gateway only, and data can never run as code. */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const STYLE = `:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--accent:#0969da;--ok:#1a7f37;--bad:#cf222e;--run:#9a6700;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--accent:#4493f8;--ok:#3fb950;--bad:#f85149;--run:#d29922;--code:#161b22}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
.top{display:flex;gap:2em;align-items:baseline;padding:.7em 1.5em;border-bottom:1px solid var(--line)}
.brand{font-weight:700;font-size:1.2em;text-decoration:none;color:var(--fg)}
.top nav{display:flex;gap:1.2em}
main{padding:1em 1.5em;max-width:90em}
h1{font-size:1.4em;margin:.3em 0 .6em}
h2{font-size:1.1em;margin:1.4em 0 .5em}
form.filters{display:flex;flex-wrap:wrap;gap:.8em 1.2em;align-items:end;margin-bottom:1em}
form.filters label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted);gap:.2em}
input,select,button{font:inherit;padding:.3em .5em;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
button{cursor:pointer;background:var(--accent);color:#fff;border-color:var(--accent)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85em;color:var(--muted);font-weight:600}
td.wrap{overflow-wrap:anywhere;min-width:14em}
td.nowrap{white-space:nowrap}
caption{text-align:left;caption-side:top;padding:.2em 0}
.state{display:inline-block;padding:.05em .55em;border-radius:1em;font-size:.85em;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.state-complete{color:var(--ok)}.state-failed{color:var(--bad)}.state-in_progress{color:var(--run)}
.pager{display:flex;gap:1em;align-items:center;margin-top:1em}
.muted{color:var(--muted)}
.error{color:var(--bad);border:1px solid var(--bad);padding:.5em .8em;border-radius:4px}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1.2em;margin:0}
dl.fields dt{color:var(--muted)}
dl.fields dd{margin:0;word-break:break-all}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
pre.log{background:var(--code);border:1px solid var(--line);padding:.7em;max-height:32em;overflow:auto;white-space:pre-wrap;word-break:break-all}
ul.plain{margin:0;padding-left:1.2em}
.summary{display:flex;gap:1em;align-items:center;flex-wrap:wrap}
`;
