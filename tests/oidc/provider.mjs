// A real OpenID provider (npm `oidc-provider`) for cohort's sign-in tests, with a few test
// controls beside it:
//
//   COHORT_NODE_MODULES=target/browser-tools/node_modules node tests/oidc/provider.mjs URI[,URI...]
//
// prints `listening http://127.0.0.1:PORT` once ready. One confidential client, `cohort` with
// secret `cohort-test-secret`, may return to the given redirect URIs. Controls (JSON bodies):
//   POST /test/account   {sub, email, email_verified, name, preferred_username, groups,
//                         overage, directoryGroups}  adds or replaces an account
//   POST /test/login     {sub}    who the next sign-in is (no login page is shown)
//   POST /test/tamper    {mode}   rewrite the next ID tokens: forged | expired | audience |
//                                 nonce | null (stop)
//   POST /test/rotate             sign with a new key from now on (the old one is retired)
//   POST /test/directory {fail}   make the directory call fail (or work again)
// and a stand-in for Microsoft Graph's directory call, answering for the access token's user:
//   POST /v1.0/me/getMemberObjects   pages of 100 ids, linked by `@odata.nextLink`
import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// The packages live where the test command installed them, not beside this file.
const from = createRequire(`${process.env.COHORT_NODE_MODULES || 'node_modules'}/`);
const load = (name) => import(pathToFileURL(from.resolve(name)).href);
const { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } = await load('jose');
const { default: Provider } = await load('oidc-provider');

const redirectUris = (process.argv[2] || '').split(',').filter(Boolean);
const accounts = new Map();
let nextLogin = null;
let tamper = null;
let directoryFails = false;

async function newKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = `k${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return { jwk, privateKey };
}

let key = await newKey();
let issuer;
let provider;

function build() {
  const p = new Provider(issuer, {
    clients: [{
      client_id: 'cohort',
      client_secret: 'cohort-test-secret',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [key.jwk] },
    cookies: { keys: ['cohort-test-cookie-key'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups', 'hasgroups'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return {
        accountId: sub,
        async claims() {
          const c = { sub, email: a.email, email_verified: a.email_verified, name: a.name, preferred_username: a.preferred_username };
          if (a.overage) c.hasgroups = true;
          else c.groups = a.groups || [];
          return c;
        },
      };
    },
  });
  p.proxy = false;
  return p;
}

function json(res, status, body) {
  const out = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : {};
}

// Re-signs an ID token as the tamper mode says.
async function tampered(idToken) {
  const claims = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  let signer = key.privateKey;
  if (tamper === 'forged') signer = (await newKey()).privateKey;
  if (tamper === 'expired') { claims.iat -= 7200; claims.exp = claims.iat + 600; }
  if (tamper === 'audience') claims.aud = 'someone-else';
  if (tamper === 'nonce') claims.nonce = 'a-nonce-of-another-sign-in';
  return new SignJWT(claims).setProtectedHeader({ alg: header.alg, kid: header.kid, typ: header.typ }).sign(signer);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  let result;
  if (details.prompt.name === 'login') {
    if (!nextLogin || !accounts.has(nextLogin)) return json(res, 400, { error: 'no account set for the next login' });
    result = { login: { accountId: nextLogin } };
  } else {
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function directory(req, res, url) {
  if (directoryFails) return json(res, 503, { error: { code: 'serviceNotAvailable' } });
  const bearer = (req.headers.authorization || '').replace(/^Bearer /, '');
  const token = bearer && await provider.AccessToken.find(bearer);
  if (!token) return json(res, 401, { error: { code: 'InvalidAuthenticationToken' } });
  const ids = accounts.get(token.accountId)?.directoryGroups || [];
  const page = Number(url.searchParams.get('page') || '0');
  const out = { value: ids.slice(page * 100, page * 100 + 100) };
  if ((page + 1) * 100 < ids.length) out['@odata.nextLink'] = `${issuer}/v1.0/me/getMemberObjects?page=${page + 1}`;
  return json(res, 200, out);
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === 'POST' && url.pathname === '/test/account') {
      const a = await body(req);
      accounts.set(a.sub, a);
      return json(res, 200, {});
    }
    if (req.method === 'POST' && url.pathname === '/test/login') { nextLogin = (await body(req)).sub; return json(res, 200, {}); }
    if (req.method === 'POST' && url.pathname === '/test/tamper') { tamper = (await body(req)).mode || null; return json(res, 200, {}); }
    if (req.method === 'POST' && url.pathname === '/test/directory') { directoryFails = !!(await body(req)).fail; return json(res, 200, {}); }
    if (req.method === 'POST' && url.pathname === '/test/rotate') {
      key = await newKey();
      provider = build();
      return json(res, 200, { kid: key.jwk.kid });
    }
    if (req.method === 'POST' && url.pathname === '/v1.0/me/getMemberObjects') return await directory(req, res, url);
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res);
    if (tamper && req.method === 'POST' && url.pathname === '/token') {
      // Hold the token answer back and rewrite its ID token.
      const chunks = [];
      const end = res.end.bind(res);
      res.write = (c) => { chunks.push(Buffer.from(c)); return true; };
      res.end = (c) => {
        if (c) chunks.push(Buffer.from(c));
        const answer = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        const finish = (out) => { res.setHeader('content-length', Buffer.byteLength(out)); end(out); };
        if (!answer.id_token) return finish(JSON.stringify(answer));
        tampered(answer.id_token).then((t) => finish(JSON.stringify({ ...answer, id_token: t })));
        return res;
      };
    }
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) json(res, 500, { error: String(e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build();
  console.log(`listening ${issuer}`);
});
