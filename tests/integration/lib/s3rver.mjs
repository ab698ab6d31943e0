// Starts s3rver (npm) as S3 for tests, in a child process with OpenSSL's
// legacy provider: s3rver encrypts list continuation tokens with DES, which
// OpenSSL 3 keeps only there (without it every second list page is a 500).
// Resolves to {proc, port, directory}; stop with proc.kill().
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export async function startS3rver({ bucket, prefix = 'ls-s3rver-' }) {
  const sourceDir = process.env.LS_SOURCE_DIR;
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  const launcher = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(path.join(sourceDir, 'tests/e2e/package.json'))});
    const S3rver = require('s3rver');
    const s = new S3rver({ port: 0, address: '127.0.0.1', silent: true, serviceEndpoint: 'localhost',
      directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] });
    const a = await s.run();
    console.log(a.port);`;
  const proc = spawn(process.execPath, ['--openssl-legacy-provider', '--input-type=module', '-e', launcher], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver did not start in 10 s')), 10000);
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`s3rver exited ${code}`)));
  });
  return { proc, port, directory };
}
