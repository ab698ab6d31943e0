// An HTTP proxy in front of an S3 endpoint (s3rver) for integration tests.
// It checks every request independently of the C client: the SigV4
// signature (recomputed here with node's crypto from what actually arrived),
// that x-amz-content-sha256 is the real SHA-256 of the body and that
// Content-MD5 matches; a failed check answers 403/400 with an S3 error body.
// With fault rates set it also misbehaves, from a seeded PRNG so a failing
// run can be replayed: 500 InternalError, 503 SlowDown, delayed responses,
// connections dropped mid-request (before forwarding) and responses lost
// after the upstream already applied the request.
import http from 'node:http';
import crypto from 'node:crypto';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (key, s) => crypto.createHmac('sha256', key).update(s).digest();
const rfc3986 = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function s3Error(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

// Returns null when the request is correctly signed, else the reason.
export function verifySigV4(req, body, secret) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `malformed Authorization header`;
  const [, , date, region, service, signedHeaders, signature] = m;
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash !== sha256hex(body)) return 'x-amz-content-sha256 is not the SHA-256 of the body';
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!names.includes(required)) return `${required} is not signed`;
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const params = query
    .split('&')
    .filter((p) => p.length)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent(i < 0 ? p : p.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1));
      return [rfc3986(k), rfc3986(v)];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  // S3 canonical URI: each segment URI-encoded once, as received after decoding
  const canonicalPath = path
    .split('/')
    .map((s) => rfc3986(decodeURIComponent(s)))
    .join('/');
  const canonicalHeaders = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const creq = [
    req.method,
    canonicalPath,
    params.map(([k, v]) => `${k}=${v}`).join('&'),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, sha256hex(creq)].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(sts).digest('hex');
  return expected === signature ? null : 'signature does not match';
}

// options: { target: 'http://127.0.0.1:PORT', secret, seed, p500, p503, p429,
// pDelay, delayMs, pDropRequest, pDropResponse, decide }. decide(req, n), when
// given, picks the fault for the n-th request ('500', '503', '429', 'delay',
// 'hang', 'dropRequest', 'dropResponse' or null) instead of the dice; 'hang'
// never answers. Returns { port, stats, close() }; stats.maxInFlight is the
// most requests the proxy held at once.
export async function startS3FaultProxy(options) {
  const target = new URL(options.target);
  const rand = mulberry32(options.seed ?? 1);
  const stats = {
    requests: 0, forwarded: 0, verifyFailures: 0, md5Failures: 0,
    injected500: 0, injected503: 0, injected429: 0, delayed: 0, hung: 0,
    droppedRequests: 0, droppedResponses: 0, inFlight: 0, maxInFlight: 0,
    methods: {}, log: [],
  };
  const faults = { p500: 0, p503: 0, p429: 0, pDelay: 0, delayMs: 200, pDropRequest: 0, pDropResponse: 0, ...options };
  const held = new Set();

  const server = http.createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let counted = true;
    const done = () => {
      if (counted) stats.inFlight--;
      counted = false;
    };
    res.on('close', done);
    req.socket.on('close', done);
    const roll = rand();
    let edge = 0;
    const pick = (p) => roll >= edge && roll < (edge += p);
    let fault = pick(faults.p500) ? '500'
      : pick(faults.p503) ? '503'
      : pick(faults.p429) ? '429'
      : pick(faults.pDelay) ? 'delay'
      : pick(faults.pDropRequest) ? 'dropRequest'
      : pick(faults.pDropResponse) ? 'dropResponse'
      : null;
    if (options.decide) fault = options.decide(req, stats.requests) ?? null;
    stats.log.push(`${req.method} ${req.url}${fault ? ' ' + fault : ''}`);
    const chunks = [];
    let dropped = false;
    req.on('data', (c) => {
      chunks.push(c);
      if (fault === 'dropRequest' && !dropped) {
        // the connection dies mid-request: nothing reaches the upstream
        dropped = true;
        stats.droppedRequests++;
        req.socket.destroy();
      }
    });
    req.on('end', () => {
      if (dropped) return;
      if (fault === 'dropRequest') {
        // a body-less request: drop it before forwarding
        stats.droppedRequests++;
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks);
      const key = `${req.method}`;
      stats.methods[key] = (stats.methods[key] || 0) + 1;
      const why = verifySigV4(req, body, options.secret);
      if (why) {
        stats.verifyFailures++;
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(s3Error('SignatureDoesNotMatch', `proxy check: ${why}`));
        return;
      }
      const md5 = req.headers['content-md5'];
      if (body.length > 0 && (!md5 || md5 !== crypto.createHash('md5').update(body).digest('base64'))) {
        stats.md5Failures++;
        res.writeHead(400, { 'content-type': 'application/xml' });
        res.end(s3Error('BadDigest', 'proxy check: Content-MD5 missing or wrong'));
        return;
      }
      if (fault === '500' || fault === '503' || fault === '429') {
        stats[`injected${fault}`]++;
        res.writeHead(Number(fault), { 'content-type': 'application/xml' });
        res.end(fault === '500'
          ? s3Error('InternalError', 'We encountered an internal error. Please try again.')
          : s3Error('SlowDown', 'Please reduce your request rate.'));
        return;
      }
      if (fault === 'hang') {
        // accept the request and never answer: only a client timeout ends it
        stats.hung++;
        held.add(req.socket);
        return;
      }
      const forward = () => {
        stats.forwarded++;
        const up = http.request({
          host: target.hostname, port: target.port, method: req.method, path: req.url,
          headers: { ...req.headers, host: req.headers.host },
        }, (upRes) => {
          const out = [];
          upRes.on('data', (c) => out.push(c));
          upRes.on('end', () => {
            if (fault === 'dropResponse') {
              // the upstream applied the request; the client never hears back
              stats.droppedResponses++;
              req.socket.destroy();
              return;
            }
            res.writeHead(upRes.statusCode, upRes.headers);
            res.end(Buffer.concat(out));
          });
        });
        up.on('error', () => req.socket.destroy());
        up.end(body);
      };
      if (fault === 'delay') {
        stats.delayed++;
        setTimeout(forward, faults.delayMs);
      } else {
        forward();
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    stats,
    close: () => new Promise((resolve) => {
      for (const s of held) s.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
