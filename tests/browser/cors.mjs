// A page on another origin than the API, in Debian's Chromium (puppeteer-core), reads what a
// browser client needs through CORS: a 401 and a 412 (status, code, headers), an upload, a
// WebSocket. Loopback only; every wait bounded.
//   node cors.mjs CHROMIUM PUPPETEER_DIR API_URL PAGE_URL
import { createRequire } from "node:module";
import path from "node:path";

const [chromium, modules, api, page_url] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const puppeteer = require("puppeteer-core");

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: process.env.CHROMIUM_PROFILE,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  protocolTimeout: 30000,
});
let failed = false;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(page_url, { waitUntil: "load" });
  const result = await page.evaluate(async (api) => {
    const out = {};
    const json = { "Content-Type": "application/json" };
    // A 401: without credentials.
    let r = await fetch(api + "/api/v1/users/me");
    out.unauthorized = { status: r.status, code: (await r.json()).code, request_id: r.headers.get("X-Request-Id") };
    // Register, then a 412 on a stale If-Match.
    r = await fetch(api + "/api/v1/auth/register", {
      method: "POST", headers: json,
      body: JSON.stringify({ email: `browser-${Date.now()}@example.com`, password: "correct horse battery" }),
    });
    const token = (await r.json()).access_token;
    const auth = { Authorization: "Bearer " + token };
    r = await fetch(api + "/api/v1/documents", {
      method: "POST", headers: { ...json, ...auth }, body: JSON.stringify({ title: "From a browser" }),
    });
    const doc = await r.json();
    out.created = { status: r.status, etag: r.headers.get("ETag"), location: r.headers.get("Location") };
    await fetch(api + "/api/v1/documents/" + doc.id, {
      method: "PATCH", headers: { ...json, ...auth, "If-Match": '"1"' }, body: JSON.stringify({ title: "v2" }),
    });
    r = await fetch(api + "/api/v1/documents/" + doc.id, {
      method: "PATCH", headers: { ...json, ...auth, "If-Match": '"1"' }, body: JSON.stringify({ title: "v3" }),
    });
    out.stale = { status: r.status, code: (await r.json()).code };
    // An upload of a Blob, then its bytes with a Range.
    r = await fetch(api + "/api/v1/files?name=hello.txt", {
      method: "POST", headers: { ...auth, "Content-Type": "text/plain" }, body: new Blob(["hello, browser"]),
    });
    const file = await r.json();
    out.upload = { status: r.status, size: file.size, location: r.headers.get("Location") };
    r = await fetch(api + "/api/v1/files/" + file.id + "/content", { headers: { ...auth, Range: "bytes=0-4" } });
    out.range = { status: r.status, body: await r.text(), content_range: r.headers.get("Content-Range"),
                  disposition: r.headers.get("Content-Disposition") };
    // A WebSocket: authenticate, subscribe to the document.
    out.websocket = await new Promise((resolve) => {
      const ws = new WebSocket(api.replace("http", "ws") + "/api/v1/realtime");
      const seen = [];
      const timer = setTimeout(() => resolve({ seen, error: "timeout" }), 10000);
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        seen.push(msg.type);
        if (msg.type === "authenticated") ws.send(JSON.stringify({ type: "subscribe", topic: "document:" + doc.id }));
        if (msg.type === "subscribed") { clearTimeout(timer); ws.close(); resolve({ seen }); }
      };
      ws.onerror = () => { clearTimeout(timer); resolve({ seen, error: "error" }); };
    });
    return out;
  }, api);
  const checks = [
    ["a 401 is readable", result.unauthorized.status === 401 && result.unauthorized.code === "unauthorized"],
    ["X-Request-Id is exposed", !!result.unauthorized.request_id],
    ["ETag and Location are exposed", result.created.etag === '"1"' && !!result.created.location],
    ["a 412 is readable", result.stale.status === 412 && result.stale.code === "precondition_failed"],
    ["an upload", result.upload.status === 201 && result.upload.size === 14 && !!result.upload.location],
    ["a Range read with its headers", result.range.status === 206 && result.range.body === "hello"
      && result.range.content_range === "bytes 0-4/14" && !!result.range.disposition],
    ["a WebSocket", !result.websocket.error && result.websocket.seen.includes("subscribed")],
  ];
  for (const [name, ok] of checks) {
    console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
    failed ||= !ok;
  }
  if (failed) console.log(JSON.stringify(result, null, 1));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
