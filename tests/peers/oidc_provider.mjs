// A real OpenID Connect provider (npm `oidc-provider`) for holdpoint's
// integration tests, on 127.0.0.1 only. Started by the Rust tests:
//
//   OIDC_PORT=0 OIDC_CLIENT_ID=holdpoint OIDC_CLIENT_SECRET=s3cret \
//   OIDC_REDIRECT_URI=http://127.0.0.1:8080/auth/callback \
//   OIDC_USERS='{"alice":{"groups":["dba"],"email":"alice@example.com"}}' \
//   node tests/peers/oidc_provider.mjs
//
// Prints exactly one line to stdout once listening: `ready http://127.0.0.1:<port>`
// (the issuer). Everything else goes to stderr. Exits on SIGTERM/SIGINT and, when
// stdin is a pipe, when stdin closes (so it dies with the test process).
//
// Sign-in uses oidc-provider's built-in dev interactions: a login form (any
// login, any password) then a consent form. Unknown logins are accepted too,
// with no email and no groups.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

// oidc-provider prints its notices with console.info (stdout); keep stdout for
// the ready line alone.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const { default: Provider } = await import('oidc-provider');

function env(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    if (fallback === undefined) {
      console.error(`oidc_provider.mjs: ${name} must be set`);
      process.exit(2);
    }
    return fallback;
  }
  return value;
}

const port = Number.parseInt(env('OIDC_PORT', '0'), 10);
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUri = env('OIDC_REDIRECT_URI');
const users = JSON.parse(env('OIDC_USERS', '{}'));

function claimsFor(id) {
  const user = users[id] ?? {};
  const claims = {
    sub: id,
    preferred_username: id,
    name: user.name ?? id,
    groups: user.groups ?? [],
  };
  if (user.email !== undefined) {
    claims.email = user.email;
    claims.email_verified = user.email_verified ?? true;
  }
  return claims;
}

// RS256 signing key made at startup.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const server = http.createServer();
try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
} catch (err) {
  console.error(`oidc_provider.mjs: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
}
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() { return claimsFor(id); },
    };
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Scope-requested claims go into the ID token too, not only to userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  responseTypes: ['code'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    userinfo: { enabled: true },
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><body><h1>oops! something went wrong</h1><pre id="error">${
      Object.entries(out).map(([k, v]) => `${k}: ${String(v).replace(/[<>&]/g, '')}`).join('\n')
    }</pre></body></html>`;
  },
});

// The dev pages' stylesheet @imports a web font from the internet; tests run
// offline, so drop it rather than have a browser reach out.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/^\s*@import url\(https?:[^)]*\);\s*$/m, '');
  }
});

provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const handler = provider.callback();
const tokenPath = new URL(provider.urlFor('token')).pathname;

// The client is registered with client_secret_basic; oidc-provider allows one
// method per client. So that client_secret_post works too, a token request that
// carries client_secret in its form body (and no Authorization header) is
// rewritten into a Basic one before the provider sees it.
server.on('request', (req, res) => {
  const path = req.url.split('?')[0];
  const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (req.method !== 'POST' || path !== tokenPath || !form || req.headers.authorization) {
    handler(req, res);
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const id = body.get('client_id');
    const secret = body.get('client_secret');
    if (id !== null && secret !== null) {
      const enc = (s) => encodeURIComponent(s);
      req.headers.authorization = `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
      body.delete('client_id');
      body.delete('client_secret');
    }
    // oidc-provider reads an already-consumed body from req.body.
    req.body = body.toString();
    handler(req, res);
  });
});

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

let stdinIsPipe = false;
try {
  const st = fs.fstatSync(0);
  stdinIsPipe = st.isFIFO() || st.isSocket();
} catch {
  // no stdin at all
}
if (stdinIsPipe) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

process.stdout.write(`ready ${issuer}\n`);
