// `npm run keys -- create --name N --scope S [...] | list | revoke <key id>` on TXPIPE_KEYS_FILE. Exit 0 on
// success, 1 when there is no such key, 2 on a usage error.
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import { createKey, listKeys, revokeKey } from './keys.ts';

const usage = `Usage: npm run keys -- <command>

  create --name <name> --scope <types> [--producer <id>] [--read none|own|all] [--entity-prefix <p>]
         [--rate <per second>] [--burst <n>] [--ids-as-sent]
                 a new key; prints it once (the file keeps only its SHA-256). <types>: comma-separated
                 *, <domain>.* or a type ('stock.*,seats.*'); --producer defaults to the name;
                 --burst defaults to twice --rate; neither: TXPIPE_RATE_LIMIT / TXPIPE_RATE_BURST;
                 --ids-as-sent: the producer's ids are not namespaced (one producer at most: the ids it
                 used before authentication was turned on)
  list           every key: id, producer, name, scope, rate, created, revoked
  revoke <id>    the key is refused from now on (ingest-api reloads the file within a second)

The file is TXPIPE_KEYS_FILE (default .stack/keys.json).
`;

class UsageError extends Error {}

export function runKeys(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      producer: { type: 'string' },
      scope: { type: 'string' },
      read: { type: 'string' },
      'entity-prefix': { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'ids-as-sent': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    out(usage);
    return command ? 0 : 2;
  }
  const file = loadConfig(env).auth.keysFile;
  const int = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(s)) throw new UsageError(`${flag} needs a positive integer, got '${s}'`);
    return Number(s);
  };
  switch (command) {
    case 'create': {
      if (!values.name || !values.scope) throw new UsageError('create needs --name and --scope');
      const { key, record } = createKey(file, {
        name: values.name,
        producer: values.producer,
        scope: values.scope,
        read: values.read,
        entityPrefix: values['entity-prefix'],
        rate: int(values.rate, '--rate'),
        burst: int(values.burst, '--burst'),
        ...(values['ids-as-sent'] && { namespaced: false }),
      });
      out(`created key ${record.id} for producer ${record.producer} in ${file}`);
      out('the key (shown once, keep it secret):');
      out(key);
      return 0;
    }
    case 'list':
      for (const k of listKeys(file)) {
        const scope = `${k.scope.types.join(',')} read=${k.scope.read}${k.scope.entityPrefix ? ` entity=${k.scope.entityPrefix}*` : ''}`;
        out(
          `${k.id}  ${k.producer.padEnd(16)} ${k.name.padEnd(16)} ${scope}  rate=${k.rate ?? 'default'}/${k.burst ?? 'default'}  created ${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`,
        );
      }
      return 0;
    case 'revoke':
      if (!id) throw new UsageError('revoke needs a key id (npm run keys -- list)');
      if (!revokeKey(file, id)) {
        out(`no live key ${id} in ${file}`);
        return 1;
      }
      out(`revoked ${id}`);
      return 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = runKeys(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${e instanceof UsageError ? usage : ''}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
