// A certified OpenID Connect provider (npm `oidc-provider`) on 127.0.0.1, for the partner
// credential tests (tests/test_partner_oidc.py, started by tests/support/idp.py).
//
//   node idp.mjs CONFIG.json      CONFIG: {"port", "ttl", "clients": [...], "agents": {client_id: IRI}}
//
// It issues RS256 JWT access tokens living `ttl` seconds for one resource (the partner
// platform), by the client_credentials grant and by the refresh_token grant with rotation (a
// refresh token used twice revokes its grant, as the provider's reuse detection does). Each
// token names the hub's agent IRI (`agent`), as DFC_HUB_JWT_ISSUERS expects. What is only for
// the tests lives under /test: minting a first refresh token (a person would sign in for it)
// and the log of every refresh token presented at the token endpoint.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const RESOURCE = 'urn:x-dfc-hub:test-partner';
const SCOPE = 'ReadEnterprise ReadProducts ReadOrders WriteOrders';
const presented = [];
// A signing key of its own for each run: the tests read its public half at /jwks.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-idp', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  scopes: ['openid', 'offline_access', ...SCOPE.split(' ')],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE, accessTokenTTL: config.ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  ttl: { RefreshToken: 3600, Grant: 3600 },
  extraTokenClaims: (ctx, token) => ({ agent: config.agents[token.clientId] }),
  loadExistingGrant: async (ctx) => null,
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/test/refresh-token') {
    // What a person's sign-in at the provider would give the hub: a grant and a refresh token.
    const { client_id: clientId, account } = JSON.parse(await body(ctx.req));
    const grant = new provider.Grant({ accountId: account, clientId });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(RESOURCE, SCOPE);
    const grantId = await grant.save();
    const client = await provider.Client.find(clientId);
    const token = new provider.RefreshToken({
      accountId: account, client, grantId, gty: 'authorization_code', scope: 'openid offline_access',
      resource: RESOURCE, iiat: Math.floor(Date.now() / 1000), rotations: 0,
    });
    ctx.type = 'json';
    ctx.body = { refresh_token: await token.save() };
    return;
  }
  if (ctx.method === 'GET' && ctx.path === '/test/presented') {
    ctx.type = 'json';
    ctx.body = presented;
    return;
  }
  await next();
  const params = ctx.oidc?.params;
  if (ctx.path === '/token' && params?.grant_type === 'refresh_token') {
    presented.push({ refresh_token: params.refresh_token, status: ctx.status, error: ctx.body?.error ?? null });
  }
});

function body(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
