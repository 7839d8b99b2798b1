// The reference tus client (tus-js-client) against the real binary: an upload is cut off twice —
// the server killed with SIGKILL mid-way and restarted, then the connection aborted by the
// client — and each time resumes from the offset the server kept; the stored file's SHA-256 must
// match what was sent. Driven by resume.sh (which installs tus-js-client and picks the port).
//   node resume.mjs PORT DATA_DIR DATABASE_URL BINARY
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(process.env.TUS_MODULES + '/');
const tus = require('tus-js-client');

const [port, dataDir, database, binary] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const size = 24 * 1024 * 1024;
const chunkSize = 2 * 1024 * 1024;
const deadline = Date.now() + 120_000;
let server = null;

function fail(message) {
  console.error(`tus resume: FAIL: ${message}`);
  if (server) server.kill('SIGKILL');
  process.exit(1);
}
setTimeout(() => fail('took longer than 120 s'), 120_000).unref();

function startServer() {
  server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--database', database,
                          '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function ready() {
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('the server did not come up');
}

async function json(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!r.ok) fail(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/// Runs one upload to its end; `interrupt(upload, sent)` is called on progress.
function run(data, token, options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint: `${base}/api/v1/uploads`,
      chunkSize,
      retryDelays: [0, 200, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000],
      headers: { Authorization: `Bearer ${token}` },
      metadata: { filename: options.name, filetype: 'application/octet-stream' },
      onProgress: (sent) => options.onProgress?.(upload, sent),
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') options.onResumed?.(Number(res.getHeader('Upload-Offset')));
      },
      onError: reject,
      onSuccess: () => resolve(upload),
      ...(options.uploadUrl ? { uploadUrl: options.uploadUrl } : {}),
    });
    upload.start();
  });
}

async function check(upload, token, data, label) {
  const head = await fetch(base + new URL(upload.url).pathname,
                           { method: 'HEAD', headers: { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' } });
  const fileId = head.headers.get('BookSpace-File-Id');
  if (!fileId) fail(`${label}: no file after completion (HEAD ${head.status})`);
  const content = await fetch(`${base}/api/v1/files/${fileId}/content`, { headers: { Authorization: `Bearer ${token}` } });
  const body = Buffer.from(await content.arrayBuffer());
  const sent = createHash('sha256').update(data).digest('hex');
  const got = createHash('sha256').update(body).digest('hex');
  const meta = await (await fetch(`${base}/api/v1/files/${fileId}`, { headers: { Authorization: `Bearer ${token}` } })).json();
  if (got !== sent || meta.sha256 !== sent) fail(`${label}: SHA-256 ${got} / ${meta.sha256}, sent ${sent}`);
  console.log(`tus resume: ${label}: ${data.length} bytes, SHA-256 matches (${sent.slice(0, 12)}…)`);
}

startServer();
await ready();
const { access_token: token } = await json('/api/v1/auth/register',
  { email: 'tus@example.com', password: 'correct horse battery', display_name: 'Tus' });

// 1. The server dies (SIGKILL) with about 40 % sent; it restarts and the client resumes.
const first = randomBytes(size);
let killed = false;
let resumedAt = -1;
const one = await run(first, token, {
  name: 'killed.bin',
  onProgress: (upload, sent) => {
    if (killed || sent < size * 0.4) return;
    killed = true;
    server.kill('SIGKILL');
    server.once('exit', () => setTimeout(startServer, 200));
  },
  onResumed: (offset) => { if (killed && resumedAt < 0) resumedAt = offset; },
});
if (!killed) fail('the server was never killed');
if (resumedAt <= 0) fail(`after the restart the upload resumed at ${resumedAt}, not past 0`);
console.log(`tus resume: resumed at ${resumedAt} of ${size} after SIGKILL`);
await check(one, token, first, 'server killed');

// 2. The client aborts mid-way (the connection is cut) and resumes with the upload's URL.
const second = randomBytes(size);
let url = null;
await new Promise((resolve, reject) => {
  const upload = new tus.Upload(second, {
    endpoint: `${base}/api/v1/uploads`, chunkSize, headers: { Authorization: `Bearer ${token}` },
    metadata: { filename: 'aborted.bin' },
    onProgress: (sent) => {
      if (url === null && sent >= size / 2) {
        url = upload.url;
        upload.abort(false).then(resolve, reject);
      }
    },
    onError: reject,
    onSuccess: () => reject(new Error('finished before the abort')),
  });
  upload.start();
}).catch((e) => fail(`abort: ${e}`));
let resumedFrom = -1;
const two = await run(second, token, { name: 'aborted.bin', uploadUrl: url, onResumed: (o) => { if (resumedFrom < 0) resumedFrom = o; } });
if (resumedFrom <= 0) fail(`the aborted upload resumed at ${resumedFrom}`);
console.log(`tus resume: resumed at ${resumedFrom} of ${size} after an abort`);
await check(two, token, second, 'connection cut');

server.kill('SIGTERM');
process.exit(0);
