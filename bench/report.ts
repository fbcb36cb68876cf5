// The benchmark's output: bench/results/<date>.json (every figure), <date>.md (the table), and on a full
// run the generated part of BENCHMARKS.md (between its markers; the analysis around it is hand-written).
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../stack/kafka-jars.ts';

export interface Results {
  date: string;
  smoke: boolean;
  machine: Record<string, unknown>;
  mix?: Record<string, unknown>;
  stages: Record<string, any>;
  goals: Array<{ goal: string; target: string; measured: string; met: boolean | null }>;
  notes: string[];
  durationS?: number;
}

const n = (x: unknown, digits = 0) =>
  typeof x === 'number' && Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const ms = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? `${n(x, x < 10 ? 1 : 0)} ms` : '–');
const pct = (x: number) => `${Math.round(x * 100)}%`;
const cores = (c: Record<string, number> | undefined) =>
  c
    ? Object.entries(c)
        .filter(([, v]) => v >= 0.01)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')
    : '';

/** The services' CPU per transaction, from the cores each used at a rate: what carries to another machine. */
/** One service's CPU per transaction, µs. */
const usOf = (c: Record<string, number> | undefined, k: string, perSecond: number) =>
  c && perSecond > 0 ? ((c[k] ?? NaN) / perSecond) * 1e6 : NaN;
const services = ['bare', 'ingest-api', 'processor', 'kafka', 'redis'];
function cpuPerTx(c: Record<string, number> | undefined, perSecond: number | undefined): string {
  if (!c || !perSecond || !Number.isFinite(perSecond)) return '–';
  const parts = services.filter((k) => (c[k] ?? 0) > 0).map((k) => [k, usOf(c, k, perSecond)] as const);
  if (!parts.length) return '–';
  const total = parts.reduce((a, [, us]) => a + us, 0);
  return `${parts.map(([k, us]) => `${k} ${n(us)} µs`).join(', ')}${parts.length > 1 ? `; all ${n(total)} µs` : ''}`;
}

/** The goals (the floor, then the CPU, latency and memory targets) as met / not met with what was measured. */
function goals(r: Results) {
  const s = r.stages;
  const g: Results['goals'] = [];
  const goal = (name: string, target: string, measured: string, met: boolean) =>
    g.push({ goal: name, target, measured, met });
  const e2e2000 = s['3']?.runs?.find((x: any) => x.rate === 2000);
  if (s['2']) {
    goal(
      'floor: single-transaction ingest',
      '≥ 2,000 req/s, p99 < 50 ms, 0 errors',
      headline(s['2']).replace(/\*/g, ''),
      s['2'].rate >= 2000,
    );
    goal(
      'single-transaction ingest, co-located',
      '≥ 3,000 req/s confirmed',
      headline(s['2']).replace(/\*/g, ''),
      s['2'].rate >= 3000,
    );
  }
  if (e2e2000) {
    goal(
      'k6 proof at 2,000 req/s',
      'k6/ingest.js thresholds pass (exit 0) with p99 < 25 ms',
      `exit ${e2e2000.k6ExitCode}, p99 ${ms(e2e2000.accept.p99)}, ${e2e2000.accept.failed} failed`,
      e2e2000.k6ExitCode === 0 && e2e2000.accept.p99 < 25,
    );
    const ingestUs = usOf(e2e2000.cores, 'ingest-api', e2e2000.accept.rps);
    goal(
      'ingest-api CPU per single-transaction request',
      '≤ 120 µs',
      `${n(ingestUs)} µs (at 2,000 req/s)`,
      ingestUs <= 120,
    );
    const byType = Object.entries((e2e2000.e2eByType ?? {}) as Record<string, { p99: number }>);
    const single = byType.filter(([t]) => t !== 'wallet.transfer');
    const worstSingle = Math.max(...single.map(([, x]) => x.p99));
    const transfer = e2e2000.e2eByType?.['wallet.transfer']?.p99;
    goal(
      'end to end at 2,000 req/s, single-entity types',
      'p99 < 100 ms each',
      single.map(([t, x]) => `${t} ${ms(x.p99)}`).join(', ') || `all types p99 ${ms(e2e2000.e2e.p99)}`,
      single.length > 0 ? worstSingle < 100 : e2e2000.e2e.p99 < 100,
    );
    if (transfer !== undefined)
      goal(
        'end to end at 2,000 req/s, transfers (three trips through Kafka)',
        'p99 < 150 ms',
        `p99 ${ms(transfer)}`,
        transfer < 150,
      );
  }
  if (s['4']) {
    const x = s['4'];
    const perMsg = x.messages > 0 ? ((x.cores?.processor ?? NaN) * x.seconds * 1e6) / x.messages : NaN;
    goal('processor CPU per message (drain)', '≤ 40 µs', `${n(perMsg)} µs (${n(x.txPerS)} tx/s)`, perMsg <= 40);
  }
  const batch500 = s['5']?.runs?.find((x: any) => x.size === 500);
  if (batch500) {
    const us = usOf(batch500.cores, 'ingest-api', batch500.txPerS);
    goal('batch ingest CPU per item (500 a request)', '≤ 15 µs', `${n(us)} µs (${n(batch500.txPerS)} tx/s)`, us <= 15);
  }
  if (s['6']) {
    const all = [s['6'].hwmAfterOverloadMb?.['ingest-api'], s['6'].hwmAfterOverloadMb?.processor, s['4']?.hwmMb].filter(
      (x) => Number.isFinite(x),
    );
    const max = Math.max(...all);
    goal('memory', '< 300 MB RSS per process in every stage', `peak ${n(max)} MB`, max < 300);
    const o = (s['6'].overloads ?? [s['6'].overload])[0];
    if (o) {
      const shedP99 = o.byStatus?.['503']?.p99;
      const acceptP99 = o.byStatus?.['202']?.p99;
      const foundP99 = s['2']?.confirm?.p99;
      goal(
        `overload: ${o.label ?? '2x'} (${n(o.rate)} req/s)`,
        `every 503 in < 5 ms p99; 202 p99 ≤ the found rate's + 20 ms${foundP99 !== undefined ? ` (${ms(foundP99 + 20)})` : ''}; only 202 or 503`,
        `${n(o.accepted)} × 202 (p99 ${ms(acceptP99)}), ${n(o.shed)} × 503 (p99 ${ms(shedP99)}), ${n(o.other)} other`,
        o.other === 0 && (o.shed === 0 || shedP99 < 5) && (foundP99 === undefined || acceptP99 <= foundP99 + 20),
      );
    }
  }
  if (s['7'])
    goal(
      'accept p99 during AOF rewrites',
      '≤ 2× outside one',
      `${ms(s['7'].during.p99)} during, ${ms(s['7'].outside.p99)} outside (${n(s['7'].p99Ratio, 2)}×)`,
      s['7'].p99Ratio <= 2,
    );
  if (s['8']?.rows) {
    const worst = Math.max(...s['8'].rows.map((x: any) => x.bytesPerTx));
    goal(
      'Redis bytes per retained transaction',
      '≤ 300 B for every type',
      s['8'].rows.map((x: any) => `${x.type} ${n(x.bytesPerTx)} B`).join(', '),
      worst <= 300,
    );
  }
  return g;
}

/** A rate search's headline: the rate a longer run confirmed; an unconfirmed search step never is one. */
const headline = (x: any) => (x.confirmed === false ? '**none confirmed**' : `**${n(x.rate)} req/s**`);

/** Why there is no confirmed rate, with what else used the CPU meanwhile as measured, not guessed. */
const unconfirmed = (x: any) => {
  if (x.confirmed !== false) return '';
  const other = x.confirm?.otherCores;
  return (
    `; the search held ${n(x.searchBest)} req/s for its step, but no 20 s confirmation held (the last at ${n(x.confirm?.rate)} req/s: p99 ${ms(x.confirm?.p99)}` +
    `${other === undefined ? '' : `; processes outside the benchmark used ${other} cores meanwhile`})`
  );
};

const wrkCells = (w: any, non2xx = false): [string, string] =>
  w.skipped
    ? ['not run', w.skipped]
    : [`${n(w.rps)} req/s`, `p99 ${ms(w.p99)}${non2xx ? `, ${w.non2xx} non-2xx` : ''}`];

export function markdown(r: Results): string {
  const s = r.stages;
  const m = r.machine;
  const lines: string[] = [];
  lines.push(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu}, ${m.memoryGb} GB, Linux ${m.kernel}; Node ${m.node}, Kafka ${m.kafka}, Redis ${m.redis}, ${m.k6}; commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}. Everything on this one machine (load generator included), loopback only. Load average at start ${(m.loadAvgAtStart as number[] | undefined)?.join(' ')}, at end ${(m.loadAvgAtEnd as number[] | undefined)?.join(' ')}.${r.smoke ? ' **Smoke run: durations of seconds, figures meaningless.**' : ''}`,
  );
  if (r.mix)
    lines.push(
      '',
      `Request mix: ${Object.entries(r.mix.shares as Record<string, number>)
        .map(([t, x]) => `${t} ${pct(x)}`)
        .join(
          ', ',
        )} over ${n(r.mix.accounts)} accounts${(r.mix.notInMix as string[]).length ? `; public types not in the mix: ${(r.mix.notInMix as string[]).join(', ')}` : ''}.`,
    );
  lines.push('', '| Stage | Measure | Result | CPU per transaction | Detail |', '|---|---|---|---|---|');
  // Columns: stage, measure, result, CPU per transaction, detail.
  const row = (stage: string, measure: string, result: string, detail: string, cpu = '–') =>
    lines.push(`| ${[stage, measure, result, cpu, detail].join(' | ')} |`);
  if (s['1']) {
    const c = s['1'].confirm;
    row(
      '1',
      'bare `node:http` (parse JSON, 202): highest confirmed arrival rate with p99 < 50 ms, 0 errors (k6)',
      headline(s['1']),
      `${c ? `p50 ${ms(c.p50)}, p99 ${ms(c.p99)}; k6 used ${c.k6Cores} cores` : ''}${unconfirmed(s['1'])}`,
      cpuPerTx(s['1'].cores, s['1'].rate),
    );
    row('1', 'bare `node:http`, closed loop (wrk, 64 connections)', ...wrkCells(s['1'].wrk));
  }
  if (s['2']) {
    const c = s['2'].confirm;
    row(
      '2',
      '`POST /v1/transactions`: highest confirmed arrival rate with p99 < 50 ms, 0 errors (k6)',
      headline(s['2']),
      `${c ? `p50 ${ms(c.p50)}, p95 ${ms(c.p95)}, p99 ${ms(c.p99)}` : ''}${unconfirmed(s['2'])}${s['2'].ratioToStage1 !== undefined ? `; ${pct(s['2'].ratioToStage1)} of stage 1` : ''}; cores: ${cores(s['2'].cores)}`,
      cpuPerTx(s['2'].cores, s['2'].rate),
    );
    row('2', '`POST /v1/transactions`, closed loop (wrk, 64 connections)', ...wrkCells(s['2'].wrk, true));
  }
  for (const x of s['3']?.runs ?? []) {
    row(
      '3',
      `end to end at ${n(x.rate)} req/s for the run (accept → applied, from txpipe.results)`,
      `**p50 ${ms(x.e2e.p50)}, p99 ${ms(x.e2e.p99)}**`,
      `accept p99 ${ms(x.accept.p99)}, ${n(x.accepted)} accepted / ${n(x.outcomes)} outcomes; lag at end ${n(x.lagAtEnd)}; k6 exit ${x.k6ExitCode}; cores: ${cores(x.cores)}`,
      cpuPerTx(x.cores, x.accept.rps),
    );
    const types = Object.entries((x.e2eByType ?? {}) as Record<string, { n: number; p50: number; p99: number }>);
    if (types.length)
      row(
        '3',
        `end to end at ${n(x.rate)} req/s, by type`,
        types.map(([t, v]) => `${t} p99 ${ms(v.p99)}`).join(', '),
        types.map(([t, v]) => `${t}: ${n(v.n)} outcomes, p50 ${ms(v.p50)}`).join('; '),
      );
  }
  if (s['4']) {
    const x = s['4'];
    row(
      '4',
      `processor drain: ${n(x.transactions)} messages preloaded, processor started cold`,
      `**${n(x.txPerS)} tx/s**`,
      `${x.drained ? 'lag 0' : `NOT drained, lag ${n(x.lagLeft)}`} after ${n(x.seconds, 1)} s (${n(x.steadyTxPerS)} tx/s from the first commit); ${n(x.messages)} messages incl. follow-ups; cores: ${cores(x.cores)}`,
      cpuPerTx(x.cores, x.txPerS),
    );
    const rc = x.redisCeiling;
    row(
      '4',
      `Redis ceiling: redis-benchmark EVALSHA, pipelined (-P ${rc.pipeline}, ${rc.connections} connections)`,
      `${n(rc.mix)} calls/s (mix)`,
      `${Object.entries(rc.perScript)
        .map(([k, v]) => `${k} ${n(v)}/s`)
        .join(', ')}; drain = ${pct(x.txPerS / rc.mix)} of it`,
    );
  }
  if (s['5']?.skipped) row('5', 'batch ingest', 'skipped', s['5'].skipped);
  for (const x of s['5']?.runs ?? []) {
    row(
      '5',
      `\`POST /v1/transactions/batch\`, ${x.size} per request (closed loop)`,
      `**${n(x.txPerS)} tx/s**`,
      `${n(x.requests.rps)} req/s, p99 ${ms(x.requests.p99)}, ${n(x.requests.failed)} failed; cores: ${cores(x.cores)}`,
      cpuPerTx(x.cores, x.txPerS),
    );
  }
  if (s['6']) {
    const x = s['6'];
    row(
      '6',
      'peak RSS (VmHWM) in stages 2–5',
      `ingest-api ${n(x.hwmStages2to5Mb['ingest-api'])} MB, processor ${n(x.hwmStages2to5Mb.processor)} MB`,
      s['4'] ? `stage-4 processor ${n(s['4'].hwmMb)} MB` : '',
    );
    for (const o of x.overloads ?? [x.overload]) {
      row(
        '6',
        `overload: ${n(o.rate)} req/s (${o.label ?? '2× stage 2'}) for ${o.seconds ?? 30} s`,
        `${n(o.accepted)} × 202, ${n(o.shed)} × 503`,
        `p99 202 ${ms(o.byStatus?.['202']?.p99)}, 503 ${ms(o.byStatus?.['503']?.p99)}; ${n(o.other)} other; ${n(o.dropped)} dropped by k6; cores: ${cores(o.cores)}`,
        `${cpuPerTx(o.cores, o.rps)} (per request answered)`,
      );
    }
    row(
      '6',
      'peak RSS after the overloads',
      `ingest-api ${n(x.hwmAfterOverloadMb['ingest-api'])} MB, processor ${n(x.hwmAfterOverloadMb.processor)} MB`,
      '',
    );
  }
  if (s['7']) {
    const x = s['7'];
    row(
      '7',
      `accept at ${n(x.rate)} req/s during AOF rewrites (${n(x.rewrites)} back to back, ${n(x.redisUsedMb)} MB dataset) vs outside, ${x.seconds} s each`,
      `**p99 ${ms(x.during.p99)} vs ${ms(x.outside.p99)} (${n(x.p99Ratio, 2)}×)**`,
      `p50 ${ms(x.during.p50)} vs ${ms(x.outside.p50)}; ${n(x.during.failed)} failed during; cores during: ${cores(x.during.cores)}`,
      cpuPerTx(x.during.cores, x.during.rps),
    );
  }
  for (const x of s['8']?.rows ?? [])
    row(
      '8',
      `Redis bytes per retained ${x.type} (dataset growth over ${n(x.transactions)}, with its keys' share of the key tables)`,
      `**${n(x.bytesPerTx)} B**`,
      `${n(x.keysPerTx, 2)} keys per transaction; status record ${n(x.statusBytes)} B, idempotency flag ${n(x.flagBytes)} B (MEMORY USAGE)`,
    );
  if (r.goals.length) {
    lines.push('', '| Goal | Target | Measured | |', '|---|---|---|---|');
    for (const g of r.goals) lines.push(`| ${g.goal} | ${g.target} | ${g.measured} | ${g.met ? 'met' : 'not met'} |`);
  }
  if (r.notes.length) lines.push('', ...r.notes.map((x) => `- ${x}`));
  return lines.join('\n') + '\n';
}

const begin = '<!-- bench:begin (generated by npm run bench; edit outside these markers) -->';
const end = '<!-- bench:end -->';

export function writeReport(
  r: Results,
  o: { resultsDir: string; stamp: string; smoke: boolean; partial: boolean; plan: unknown; commands: string[] },
): string[] {
  r.goals = goals(r);
  fs.mkdirSync(o.resultsDir, { recursive: true });
  const base = path.join(o.resultsDir, `${o.stamp}${o.smoke ? '-smoke' : ''}${o.partial ? '-partial' : ''}`);
  const md = markdown(r);
  const command = `npm run bench${o.commands.length ? ` -- ${o.commands.join(' ')}` : ''}`;
  fs.writeFileSync(`${base}.json`, JSON.stringify({ ...r, command, plan: o.plan }, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, `# txpipe benchmark ${r.date}\n\n\`${command}\`\n\n${md}`);
  const files = [`${base}.json`, `${base}.md`];
  if (!o.smoke && !o.partial) {
    const file = path.join(repoRoot, 'BENCHMARKS.md');
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    const block = `${begin}\n\`${command}\` (results: bench/results/${path.basename(base)}.json)\n\n${md}${end}`;
    fs.writeFileSync(
      file,
      i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`,
    );
    files.push(file);
  }
  return files;
}
