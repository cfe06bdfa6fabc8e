// Benchmark peer: node `oidc-provider` serving the two hot paths the harness
// also measures on identity-server (client_credentials and userinfo), on the
// same paths and with the same client credentials, so both are driven by
// identical requests. Prints one JSON line on stdout once listening; all else
// goes to stderr.
//
//   PEER_MODULES=<prefix>/node_modules PEER_PORT=0 \
//   PEER_CLIENT_ID=bench.m2m PEER_CLIENT_SECRET=… PEER_SCOPE=bench.api node oidc-provider-peer.mjs
//
// `GET /bench/token` answers a fresh opaque access token of the seeded account
// (the peer has no password grant), which each load connection fetches once.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';

// oidc-provider prints its notices with console.info, which would corrupt the
// one-line stdout protocol; route every console channel to stderr before the
// package is even loaded (it warns at import time).
for (const level of ['log', 'info', 'debug']) console[level] = console.error;

const fail = (err) => {
  console.error('oidc-provider-peer:', err?.stack ?? err);
  process.exit(1);
};
process.on('unhandledRejection', fail);

const PORT = Number(process.env.PEER_PORT ?? 0);
// RS256, as identity-server's default access tokens in the scenario compared.
const ALG = 'RS256';

// ESM `import` ignores NODE_PATH, so the package is loaded by file path from
// PEER_MODULES (falling back to the first NODE_PATH entry for convenience).
const modules = process.env.PEER_MODULES || (process.env.NODE_PATH || '').split(delimiter)[0];
if (!modules) fail('set PEER_MODULES to the node_modules directory holding oidc-provider');
const pkgDir = join(modules, 'oidc-provider');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const { default: Provider, errors } = await import(pathToFileURL(join(pkgDir, pkg.main || 'lib/index.js')).href);
console.error(`oidc-provider-peer: oidc-provider ${pkg.version}, node ${process.version}, alg ${ALG}`);

// Fresh keys per run: nothing secret is ever written to disk.
const jwk = (type, opts, alg) => ({
  ...generateKeyPairSync(type, opts).privateKey.export({ format: 'jwk' }),
  alg, use: 'sig', kid: alg.toLowerCase(),
});
const keys = [jwk('rsa', { modulusLength: 2048 }, ALG)];

const CLIENT_ID = process.env.PEER_CLIENT_ID || 'bench.client';
const CLIENT_SECRET = process.env.PEER_CLIENT_SECRET;
if (!CLIENT_SECRET) fail('set PEER_CLIENT_SECRET');
const API_SCOPE = process.env.PEER_SCOPE || 'api';
const RESOURCE = 'urn:bench:api';
const ACCOUNT_ID = 'alice-id';
// identity-server's paths, so that the harness sends the very same requests.
const TOKEN_PATH = '/connect/token';
const USERINFO_PATH = '/connect/userinfo';
const MINT_PATH = '/bench/token';

const accounts = new Map([[ACCOUNT_ID, {
  sub: ACCOUNT_ID,
  name: 'Alice Example',
  given_name: 'Alice',
  family_name: 'Example',
  preferred_username: 'alice',
  locale: 'en-US',
  zoneinfo: 'Europe/Berlin',
  updated_at: 1700000000,
  email: 'alice@example.com',
  email_verified: true,
}]]);

// Issuer has to name the real port, so bind first and build the provider after.
const server = createServer();
await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
const { port } = server.address();

const provider = new Provider(`http://127.0.0.1:${port}`, {
  // Default in-memory adapter (adapter left unset) on purpose: the benchmark
  // compares request handling, not storage.
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  }],
  // Pinned rather than relying on defaults, since they are printed for the harness.
  routes: { token: TOKEN_PATH, userinfo: USERINFO_PATH },
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'zoneinfo', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', API_SCOPE],
  // Explicit TTLs: the defaults log a notice per token type and the seeded
  // userinfo token must outlive any benchmark run.
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 600,
    Grant: 86400,
    IdToken: 3600,
    RefreshToken: 86400,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 86400,
  },
  async findAccount(_ctx, id) {
    const claims = accounts.get(id);
    return claims && { accountId: id, claims: async () => ({ ...claims }) };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The harness sends `grant_type=client_credentials&scope=…` with no
      // `resource`, exactly as to our server; default it so a JWT comes back.
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? RESOURCE,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, resource) => {
        if (resource !== RESOURCE) throw new errors.InvalidTarget();
        return { scope: API_SCOPE, audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: ALG } } };
      },
    },
  },
});

// Seed a consented grant, for which `/bench/token` mints opaque access tokens,
// so the userinfo path can be benchmarked without an interactive login. They
// live in the dev adapter's 1000-entry LRU; JWT client_credentials tokens are
// never stored there, so token-endpoint load cannot evict them.
const client = await provider.Client.find(CLIENT_ID);
const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: CLIENT_ID });
grant.addOIDCScope('openid profile email');
const grantId = await grant.save();
const mintAccessToken = () => new provider.AccessToken({
  accountId: ACCOUNT_ID, client, grantId, scope: 'openid profile email', expiresIn: 3600,
}).save();

const handle = provider.callback();
server.on('request', (req, res) => {
  if (req.method !== 'GET' || req.url !== MINT_PATH) return handle(req, res);
  mintAccessToken().then(
    (token) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: token }));
    },
    (err) => {
      console.error('oidc-provider-peer: minting failed:', err);
      res.writeHead(500).end();
    },
  );
});

// All state is in memory and disposable: nothing to flush, and waiting for
// the load generator's keep-alive sockets to drain would only delay the harness.
const shutdown = () => process.exit(0);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Where it listens; no secret or token goes to standard output.
process.stdout.write(`${JSON.stringify({ port, token_path: TOKEN_PATH, userinfo_path: USERINFO_PATH })}\n`);
