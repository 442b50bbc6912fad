"""The report pages' one stylesheet (run report and comparison): inline CSS, no fonts or links out."""

CSS = """
:root { --fg:#1d2329; --muted:#5b6670; --line:#dde2e7; --soft:#f5f7f9; --accent:#2b5f8a;
  --err:#b42318; --warn:#b54708; --info:#175cd3; --ok:#067647; }
* { box-sizing: border-box; }
body { margin:0; background:#eef1f4; color:var(--fg);
  font: 16px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans",
  "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1000px; margin: 28px auto; padding: 34px 46px 24px; background:#fff;
  border:1px solid var(--line); border-radius:10px; box-shadow:0 1px 4px rgba(16,24,40,.06); }
h1 { font-size: 30px; line-height:1.2; margin: 4px 0 8px; letter-spacing:-0.01em; overflow-wrap:anywhere; }
h2 { font-size: 20px; margin: 34px 0 12px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.eyebrow { text-transform:uppercase; font-size:12px; letter-spacing:.09em; color:var(--muted);
  font-weight:600; }
.meta { color:var(--muted); font-size:14px; display:flex; flex-wrap:wrap; gap:6px 16px; align-items:center; }
.meta .path { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:12.5px; }
.kind { background:#e8eef5; color:var(--accent); font-weight:600; padding:1px 9px; border-radius:999px; }
.verdict { margin-top:18px; padding:12px 18px; border-radius:8px; border:1px solid; border-left-width:5px; }
.verdict p { margin:4px 0 2px; }
.verdict .headline { font-weight:700; font-size:17px; }
.verdict-error { border-color:#f4c7c3; border-left-color:var(--err); background:#fef6f5; }
.verdict-warning { border-color:#f6dcb8; border-left-color:var(--warn); background:#fffaf3; }
.verdict-ok { border-color:#c6e7d3; border-left-color:var(--ok); background:#f5fbf7; }
.verdict-none { border-color:var(--line); border-left-color:var(--muted); background:var(--soft); }
nav { margin-top:16px; font-size:14px; display:flex; flex-wrap:wrap; gap:4px 18px; }
nav a { color:var(--accent); text-decoration:none; }
nav a:hover { text-decoration:underline; }
ul.findings { padding:0; margin:0; }
.finding { list-style:none; padding:10px 14px; margin-bottom:10px; border:1px solid var(--line);
  border-left-width:4px; border-radius:6px; }
.finding.sev-error { border-left-color:var(--err); }
.finding.sev-warning { border-left-color:var(--warn); }
.finding.sev-info { border-left-color:var(--info); }
.finding-head { display:flex; flex-wrap:wrap; gap:6px 10px; align-items:center; }
.finding .message { margin:6px 0 0; }
.finding .hint { margin:4px 0 0; color:var(--muted); font-size:14.5px; }
.step { color:var(--muted); font-size:13px; }
.badge { display:inline-block; font-size:11px; font-weight:700; text-transform:uppercase;
  letter-spacing:.05em; padding:2px 9px; border-radius:999px; color:#fff; }
.badge-error { background:var(--err); } .badge-warning { background:var(--warn); }
.badge-info { background:var(--info); }
code, pre, td.key { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
code { font-size:13.5px; background:var(--soft); border:1px solid var(--line); padding:0 5px;
  border-radius:4px; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:14px; margin:6px 0 12px; }
th, td { border:1px solid var(--line); padding:5px 10px; text-align:left; vertical-align:top; }
th { background:var(--soft); font-weight:600; }
tbody tr:nth-child(even) td { background:#fbfcfd; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.key { font-size:13px; }
table.metrics, table.compact { width:auto; min-width:55%; }
table.wide { font-size:12.5px; }
table.wide th, table.wide td { padding:4px 6px; }
.note { color:var(--muted); font-size:14px; margin:0 0 8px; }
ul.notes li { margin-bottom:4px; }
figure { margin:16px 0 30px; }
figure img { display:block; max-width:100%; height:auto; margin:0 auto; border:1px solid var(--line);
  border-radius:4px; }
figcaption { font-size:14px; color:var(--muted); margin-top:8px; text-align:center; }
figcaption .fname { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px;
  margin-right:6px; }
pre { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:12px 14px;
  overflow:auto; font-size:13px; line-height:1.45; }
footer { color:var(--muted); font-size:12px; margin-top:36px; padding-top:10px;
  border-top:1px solid var(--line); }
ul.problems { margin:0 0 8px; padding-left:18px; color:var(--warn); }
.answer { margin:18px 0 0; padding:14px 18px; border-radius:8px; background:#f3f7fb;
  border:1px solid #d5e2ef; border-left:5px solid var(--accent); font-size:17.5px; line-height:1.5; }
.answer .label { display:block; text-transform:uppercase; font-size:11.5px; letter-spacing:.08em;
  color:var(--accent); font-weight:700; margin-bottom:2px; }
td.best { font-weight:700; background:#eaf6ee !important; }
th.dir { font-weight:400; color:var(--muted); font-size:12px; white-space:nowrap; }
td.missing { color:var(--muted); text-align:center; }
#diagnosis .verdict { margin:0 0 12px; }
ul.headlines { padding-left:18px; } ul.headlines li { margin-bottom:6px; }
.legend-line { color:var(--muted); font-size:14px; margin:0 0 6px; }
@media print { body { background:#fff; } main { border:none; box-shadow:none; margin:0 auto; } }
"""
