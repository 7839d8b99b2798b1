// /docs as a person uses it, in Debian's Chromium: the pasted token survives a reload, and "Send"
// on PATCH /documents/{id} with If-Match filled in changes the document (the header is sent).
//   node docs.mjs CHROMIUM PUPPETEER_DIR API_URL
import { createRequire } from "node:module";
import path from "node:path";

const [chromium, modules, api] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const puppeteer = require("puppeteer-core");

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: process.env.CHROMIUM_PROFILE + "-docs",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  protocolTimeout: 30000,
});
let failed = false;
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : " " + detail}`);
  failed ||= !ok;
};
try {
  // A user and a document, made directly.
  const post = async (p, body, token) => (await fetch(api + p, {
    method: "POST", headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
    body: JSON.stringify(body),
  })).json();
  const user = await post("/api/v1/auth/register", { email: `docs-${Date.now()}@example.com`,
                                                     password: "correct horse battery" });
  const doc = await post("/api/v1/documents", { title: "Before" }, user.access_token);

  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(api + "/docs", { waitUntil: "load" });
  await page.waitForSelector('details[data-op="PATCH /api/v1/documents/{id}"]');
  await page.type("#token", user.access_token);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector('details[data-op="PATCH /api/v1/documents/{id}"]');
  check("the token survives a reload", await page.$eval("#token", (e) => e.value) === user.access_token);

  const op = 'details[data-op="PATCH /api/v1/documents/{id}"]';
  await page.click(`${op} > summary`);
  await page.type(`${op} input[data-param="id"]`, doc.id);
  await page.type(`${op} input[data-param="If-Match"]`, '"1"');
  await page.type(`${op} textarea[data-body]`, '{"title":"After"}');
  await page.click(`${op} button`);
  await page.waitForFunction((sel) => document.querySelector(sel + " pre[data-out]").textContent.length > 0, {}, op);
  const out = await page.$eval(`${op} pre[data-out]`, (e) => e.textContent);
  check("PATCH with If-Match from the form answers 200", out.startsWith("200"), out.slice(0, 200));
  check("the answer shows its headers (ETag)", /etag: "2"/i.test(out), out.slice(0, 300));
  const now = await (await fetch(api + "/api/v1/documents/" + doc.id,
                                 { headers: { Authorization: "Bearer " + user.access_token } })).json();
  check("the document changed", now.title === "After" && now.version === 2, JSON.stringify(now).slice(0, 200));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
