// Fetches the Apache Kafka broker jars (kafka/pom.xml) into <repo>/.cache/kafka/libs with Maven.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandExists } from './proc.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const pom = path.join(repoRoot, 'kafka', 'pom.xml');
export const libsDir = path.join(repoRoot, '.cache', 'kafka', 'libs');
const marker = path.join(libsDir, '.complete');

const pomDigest = () => createHash('sha256').update(fs.readFileSync(pom)).digest('hex');

function complete(): boolean {
  try {
    // The marker holds the pom's digest, so editing the pom (e.g. a new Kafka version) refetches.
    if (fs.readFileSync(marker, 'utf8').trim() !== pomDigest()) return false;
    return fs.readdirSync(libsDir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f));
  } catch {
    return false;
  }
}

export async function ensureKafkaJars(log: (s: string) => void = () => {}): Promise<string> {
  if (complete()) return libsDir;
  const missing = ['java', 'mvn'].filter((c) => !commandExists(c, ['-version']));
  if (missing.length) {
    throw new Error(
      `${missing.join(' and ')} not found: the local Kafka broker needs Java 17+ and Maven ` +
        `(Debian/Ubuntu: apt-get install openjdk-17-jre-headless maven), or set TXPIPE_KAFKA_BROKERS to use an existing broker`,
    );
  }
  // A half-done copy (no marker) is thrown away and redone from scratch.
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.mkdirSync(libsDir, { recursive: true });
  log(`fetching Kafka broker jars with Maven into ${path.relative(repoRoot, libsDir)} (first run only, ~15 s)`);
  const t0 = Date.now();
  const args = [
    '-B',
    '-f',
    pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${libsDir}`,
    '-DincludeScope=runtime',
  ];
  let output = '';
  let downloads = 0;
  const code = await new Promise<number | null>((resolve, reject) => {
    const mvn = spawn('mvn', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer) => {
      const s = b.toString();
      output = (output + s).slice(-20_000);
      downloads += s.match(/^Downloaded from /gm)?.length ?? 0;
    };
    mvn.stdout.on('data', onData);
    mvn.stderr.on('data', onData);
    const ticker = setInterval(
      () => log(`  ... ${Math.round((Date.now() - t0) / 1000)} s, ${downloads} files downloaded`),
      5000,
    );
    mvn.once('error', (e) => (clearInterval(ticker), reject(e)));
    mvn.once('close', (c) => (clearInterval(ticker), resolve(c)));
  });
  if (code !== 0) {
    const lines = output
      .split('\n')
      .filter((l) => /ERROR|FAIL/.test(l))
      .slice(-15)
      .join('\n');
    throw new Error(`mvn dependency:copy-dependencies failed (exit ${code}):\n${lines || output.slice(-3000)}`);
  }
  if (!fs.readdirSync(libsDir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new Error(`mvn finished but no kafka_2.13-*.jar in ${libsDir}`);
  }
  fs.writeFileSync(marker, pomDigest() + '\n');
  log(`Kafka jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return libsDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  ensureKafkaJars((s) => console.log(s)).then(
    (dir) => console.log(`Kafka jars: ${dir} (${fs.readdirSync(dir).length - 1} jars, ${Date.now() - t0} ms)`),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
