#include "app/ops_routes.hpp"

namespace bookspace::app {

// Self-contained (no CDN): the page fetches /openapi.json and renders every operation with a
// form to try it. Kept small on purpose; any OpenAPI viewer can also read /openapi.json.
std::string_view docs_page_html() {
  return R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BookSpace API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:1rem 2rem}header h1{margin:0;font-size:1.3rem}
main{max-width:70rem;margin:0 auto;padding:1rem 2rem}
.auth{margin:.5rem 0 1rem}.auth input{width:30rem;max-width:100%}
h2{border-bottom:1px solid #ccd;padding-bottom:.2rem;text-transform:capitalize}
details{background:#fff;border:1px solid #dde;border-radius:6px;margin:.4rem 0}
summary{cursor:pointer;padding:.5rem;font-family:ui-monospace,monospace}
.m{display:inline-block;width:4.5rem;font-weight:bold}
.get{color:#1769aa}.post{color:#2e7d32}.put{color:#8d6e00}.patch{color:#6a1b9a}.delete{color:#c62828}
.body{padding:.5rem 1rem}textarea{width:100%;min-height:6rem;font-family:ui-monospace,monospace}
pre{background:#1d2330;color:#e8eaf0;padding:.6rem;overflow:auto;max-height:24rem}
label{display:block;margin:.3rem 0}
</style></head><body>
<header><h1>BookSpace API</h1><div id="info"></div></header>
<main>
<div class="auth"><label>Bearer token <input id="token" placeholder="access token or API key"></label></div>
<div id="ops">Loading /openapi.json…</div>
</main>
<script>
"use strict";
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
async function main() {
  const spec = await (await fetch("/openapi.json")).json();
  document.getElementById("info").textContent = spec.info.description + " — version " + spec.info.version;
  const groups = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      (groups[tag] = groups[tag] || []).push({path, method, op});
    }
  }
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [tag, ops] of Object.entries(groups)) {
    root.append(el("h2", {}, tag));
    for (const {path, method, op} of ops) root.append(operation(path, method, op));
  }
}
function operation(path, method, op) {
  const box = el("details", {"data-op": method.toUpperCase() + " " + path});
  box.append(el("summary", {}, el("span", {class: "m " + method}, method.toUpperCase()), path + "  ",
                el("small", {}, op.summary || "")));
  const body = el("div", {class: "body"});
  const inputs = {};
  for (const p of op.parameters || []) {
    const input = el("input", {placeholder: p.in, "data-param": p.name});
    inputs[p.name] = {input, where: p.in};
    body.append(el("label", {}, p.name + " (" + p.in + ") ", input));
  }
  let text = null;
  if (["post", "put", "patch"].includes(method)) {
    text = el("textarea", {placeholder: "JSON body", "data-body": ""});
    body.append(text);
  }
  const out = el("pre", {"data-out": ""});
  const button = el("button", {}, "Send");
  button.onclick = async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const [name, {input, where}] of Object.entries(inputs)) {
      if (where === "path") url = url.replace("{" + name + "}", encodeURIComponent(input.value));
      else if (where === "query" && input.value) query.set(name, input.value);
    }
    if ([...query].length) url += "?" + query;
    const headers = {};
    for (const [name, {input, where}] of Object.entries(inputs)) {
      if (where === "header" && input.value) headers[name] = input.value;  // If-Match, Range, tus…
    }
    const token = document.getElementById("token").value.trim();
    if (token) headers.Authorization = "Bearer " + token;
    const init = {method: method.toUpperCase(), headers};
    if (text && text.value.trim()) { headers["Content-Type"] = "application/json"; init.body = text.value; }
    const started = performance.now();
    try {
      const res = await fetch(url, init);
      const raw = await res.text();
      let shown = raw;
      try { shown = JSON.stringify(JSON.parse(raw), null, 2); } catch (e) {}
      const seen = [...res.headers].map(([k, v]) => k + ": " + v).join("\n");
      out.textContent = res.status + " " + res.statusText + " (" + Math.round(performance.now() - started) +
                        " ms)\n" + seen + "\n\n" + shown;
    } catch (e) { out.textContent = String(e); }
  };
  body.append(button, out, el("details", {}, el("summary", {}, "responses"),
                              el("pre", {}, JSON.stringify(op.responses, null, 2))));
  box.append(body);
  return box;
}
// The pasted token outlives a reload of this tab (not the tab itself: sessionStorage).
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("bookspace.token") || "";
tokenInput.addEventListener("input", () => sessionStorage.setItem("bookspace.token", tokenInput.value.trim()));
main().catch(e => { document.getElementById("ops").textContent = "Cannot load /openapi.json: " + e; });
</script></body></html>
)html";
}

}  // namespace bookspace::app
