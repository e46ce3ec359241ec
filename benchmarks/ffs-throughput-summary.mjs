// Summarizes benchmarks/ffs-throughput.sh's "bench <label> <out|in> <MiB/s> ..." lines (in run
// order): every run, then per direction and usbfn variant the median MiB/s of each and the median
// of the paired ratios, each usbfn run divided by the C reference run of the same round and
// direction that came just before it (alternation: a load change on the shared host hits both).
//   node benchmarks/ffs-throughput-summary.mjs <bench file> [--floor <ratio>]
// --floor (the quick CI pass): each direction's usbfn figure must exist and its paired ratio
// median reach the floor, set low enough that only a gross regression fails on a loaded host;
// prints "N passed, N failed" and exits 1 on a failure.
import fs from 'node:fs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const floorAt = process.argv.indexOf('--floor');
const floor = floorAt > 0 ? Number(process.argv[floorAt + 1]) : null;
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
const runs = lines
  .map((line) => line.match(/^bench (\S+) (out|in) ([\d.]+) MiB\/s/))
  .filter(Boolean)
  .map(([line, label, dir, mibs]) => ({ line, label, dir, mibs: Number(mibs) }));
// "cpu <label> <dir> gadget <ms> ms for <MiB> MiB, guest busy <p>%": the gadget process's own CPU time
const cpu = new Map();
for (const [, label, dir, ms, mib] of lines.map((l) => l.match(/^cpu (\S+) (out|in) gadget (\d+) ms for (\d+) MiB/)).filter(Boolean)) {
  const key = `${dir} ${label}`;
  cpu.set(key, [...(cpu.get(key) ?? []), Number(ms) / Number(mib)]);
}
const cpuOf = (key) => (cpu.has(key) ? `, gadget CPU ${median(cpu.get(key)).toFixed(1)} ms/MiB` : '');
for (const l of lines) if (/^(bench|cpu|readpath|stuck) /.test(l)) console.log(l);
const groups = new Map(); // "dir label" -> { mibs: [], ratios: [] }
const lastC = new Map(); // dir -> the C run just before
for (const r of runs) {
  if (r.label === 'c-aio') lastC.set(r.dir, r.mibs);
  const g = groups.get(`${r.dir} ${r.label}`) ?? { dir: r.dir, label: r.label, mibs: [], ratios: [] };
  g.mibs.push(r.mibs);
  if (r.label !== 'c-aio' && lastC.has(r.dir)) g.ratios.push(r.mibs / lastC.get(r.dir));
  groups.set(`${r.dir} ${r.label}`, g);
}
for (const g of groups.values()) {
  if (g.label === 'c-aio') continue;
  const c = groups.get(`${g.dir} c-aio`);
  const ratios = g.ratios.map((x) => `${Math.round(100 * x)}%`).join(' ');
  console.log(`${g.dir.padEnd(3)} ${g.label.padEnd(13)} median ${median(g.mibs).toFixed(1)} MiB/s vs C ${c ? median(c.mibs).toFixed(1) : '?'} MiB/s,` +
    ` paired ratio median ${Math.round(100 * median(g.ratios))}% (${ratios}; ${g.mibs.length} runs)` +
    `${cpuOf(`${g.dir} ${g.label}`)}${cpuOf(`${g.dir} c-aio`).replace('gadget', 'C')}`);
}

if (floor !== null) {
  let passed = 0, failed = 0, skipped = 0;
  for (const l of lines.filter((line) => / FAILED to start/.test(line))) (failed++, console.log(`FAIL ${l}`));
  // The guest's kernel hung unbinding the UDC (seen after the C reference's run, never usbfn's):
  // the runs after it cannot happen. After the C gadget that is the VM's fault, a skip with the
  // reason; after a usbfn gadget it may be usbfn's, a failure.
  for (const l of lines.filter((line) => /^stuck /.test(line))) {
    if (/^stuck c-aio /.test(l)) (skipped++, console.log(`SKIP the remaining runs: ${l}`));
    else (failed++, console.log(`FAIL ${l}`));
  }
  for (const dir of new Set(runs.map((r) => r.dir))) {
    for (const g of [...groups.values()].filter((x) => x.dir === dir && x.label !== 'c-aio')) {
      const ratio = median(g.ratios);
      if (ratio >= floor) passed++;
      else (failed++, console.log(`FAIL ${dir} ${g.label}: paired ratio ${Math.round(100 * ratio)}% below the ${Math.round(100 * floor)}% floor`));
    }
  }
  if (runs.length === 0 && skipped === 0) (failed++, console.log('FAIL no figures'));
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed > 0 ? 1 : 0;
}
