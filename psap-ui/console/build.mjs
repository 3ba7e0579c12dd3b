// Bundles the console (src/main.ts and the CSS it imports, Leaflet's included) into DIR
// (default dist/) with index.html beside it: what ng911-psap serves from --console-dir.
//   node build.mjs [--outdir DIR]
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--outdir');
const outdir = resolve(at > 0 ? process.argv[at + 1] : join(here, 'dist'));

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/main.ts') },
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir,
  logLevel: 'warning',
  // Leaflet's CSS names marker images we never use (positions are drawn as vectors).
  loader: { '.png': 'empty' },
});
await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
