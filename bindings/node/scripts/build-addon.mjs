#!/usr/bin/env node
// Builds the native addon from source with plain cargo and installs it as
// `net-mesh-core.node` next to index.js.
//
//   node scripts/build-addon.mjs            # debug build (tests)
//   node scripts/build-addon.mjs --release  # release build (benchmarks, real use)
//
// It uses the workspace's cargo target directory (CARGO_TARGET_DIR when set), so the addon
// shares compiled dependencies with the rest of the workspace. The file is replaced by a
// rename, never overwritten in place, so a process that has the old addon loaded is safe.
import { execFileSync } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const release = process.argv.includes('--release');
const cargo = process.env.CARGO || 'cargo';

execFileSync(cargo, ['build', '-p', 'net-mesh-node', ...(release ? ['--release'] : [])], {
  cwd: here,
  stdio: 'inherit',
});

const meta = JSON.parse(
  execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: here,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }),
);
const file = {
  darwin: 'libnet_mesh_node.dylib',
  win32: 'net_mesh_node.dll',
}[process.platform] ?? 'libnet_mesh_node.so';
const built = join(meta.target_directory, release ? 'release' : 'debug', file);
const dest = join(here, 'net-mesh-core.node');
const tmp = `${dest}.${process.pid}.tmp`;
copyFileSync(built, tmp);
renameSync(tmp, dest);
console.log(`@net-mesh/core: installed ${release ? 'release' : 'debug'} addon ${dest}`);
