#!/usr/bin/env bash
# Regenerates package-lock.json after a change to package.json. The registry
# our machines reach serves only DuckDB's linux-x64 native bindings, so the
# plain lock lacks the other platforms' optional entries and `npm ci` refuses
# it; this adds them back (nothing is fetched for a foreign platform).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm install --package-lock-only --no-audit --no-fund >/dev/null
python3 - <<'PY'
import json
p = 'package-lock.json'
d = json.load(open(p))
pk = d['packages']
ver = pk['node_modules/@duckdb/node-bindings']['version']
platforms = {'darwin-arm64': ('darwin', 'arm64', None), 'darwin-x64': ('darwin', 'x64', None),
             'linux-arm64': ('linux', 'arm64', 'glibc'), 'linux-arm64-musl': ('linux', 'arm64', 'musl'),
             'win32-arm64': ('win32', 'arm64', None), 'win32-x64': ('win32', 'x64', None)}
for name, (os_, cpu, libc) in platforms.items():
    key = 'node_modules/@duckdb/node-bindings-' + name
    if key not in pk:
        e = {'version': ver, 'cpu': [cpu], 'license': 'MIT', 'optional': True, 'os': [os_]}
        if libc:
            e['libc'] = [libc]
        pk[key] = e
d['packages'] = dict(sorted(pk.items(), key=lambda kv: (kv[0] != '', kv[0])))
with open(p, 'w') as f:
    json.dump(d, f, indent=2)
    f.write('\n')
PY
echo "package-lock.json regenerated; check it with: rm -rf node_modules && npm ci"
