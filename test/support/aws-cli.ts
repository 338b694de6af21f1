/**
 * The AWS CLI v2 for the scripted client checks: found deliberately (the `aws` first on PATH
 * may be v1, as with pyenv here), and driven fast. A CLI v2 process spends about a second of
 * CPU starting; test/compat/aws_cli_runner.py instead runs each command through the CLI's own
 * entry point (awscli.clidriver, a fresh driver and session per command) in a few long-lived
 * interpreters, so parsing, shorthand syntax, pagination, output and exit codes stay the CLI's.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { awsClientEnv, removeDir, startTestHerald, tempDir, type TestHerald } from './herald.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { startTlsProxy, type TlsProxy } from './tls-proxy.js';

const RUNNER = fileURLToPath(new URL('../compat/aws_cli_runner.py', import.meta.url));
/** The SQS move-task operations, for CLI v2 releases older than them (2.9.19 on Debian 12). */
const MOVE_TASK_MODEL = fileURLToPath(new URL('../compat/sqs-move-tasks.model.json', import.meta.url));

export interface FoundCli {
  /** The `aws` script. */
  bin: string;
  /** The interpreter its `#!` line names. */
  python: string;
  /** `aws --version`, e.g. `aws-cli/2.9.19 Python/3.11.2 ...`. */
  version: string;
}

/**
 * A CLI v2 whose `aws` is a Python script (Debian's awscli package, pip): HERALD_TEST_AWS_CLI_V2
 * if set, else /usr/bin/aws, /usr/local/bin/aws, or the `aws` on PATH. Returns the reason when
 * there is none, for the skip message.
 */
export function findAwsCliV2(): FoundCli | { missing: string } {
  const candidates = process.env.HERALD_TEST_AWS_CLI_V2
    ? [process.env.HERALD_TEST_AWS_CLI_V2]
    : ['/usr/bin/aws', '/usr/local/bin/aws', 'aws'];
  const notes: string[] = [];
  for (const candidate of candidates) {
    const res = spawnSync(candidate, ['--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    });
    const version = `${res.stdout ?? ''}`.trim();
    if (res.status !== 0) continue;
    if (!version.startsWith('aws-cli/2.')) {
      notes.push(`${candidate} is ${version.split(' ')[0]}`);
      continue;
    }
    const bin = candidate.includes('/') ? candidate : whichSync(candidate);
    const shebang = /^#!\s*(\S*python\S*)/.exec(readFileSync(realpathSync(bin), 'utf8').slice(0, 200))?.[1];
    const importable =
      shebang && spawnSync(shebang, ['-c', 'import awscli.clidriver'], { stdio: 'ignore' }).status === 0;
    if (importable) return { bin, python: shebang, version };
    notes.push(`${candidate} (${version.split(' ')[0]}) is not a Python script whose awscli package can be imported`);
  }
  return {
    missing:
      `no AWS CLI v2 Python install found (${notes.join('; ') || 'no aws command'}); ` +
      'install one with `apt-get install awscli` (Debian 12: 2.9.19) or set HERALD_TEST_AWS_CLI_V2',
  };
}

function whichSync(cmd: string): string {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return res.stdout.trim();
}

export interface CliResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/**
 * Commands are written as a command line plus extra arguments: `line` is split on spaces
 * (`'sqs create-queue --queue-name orders'`), `more` are passed as they are (bodies with
 * spaces, JSON). Each runs as `aws <line> <more> --endpoint-url <endpoint> --output json`.
 */
export interface AwsCli {
  run(line: string, ...more: string[]): Promise<CliResult>;
  /** Expecting success: the parsed JSON output (`{}` when the command prints nothing). */
  json(line: string, ...more: string[]): Promise<any>;
  /** Expecting a service error (exit code 254): the code, action and message the CLI printed. */
  error(line: string, ...more: string[]): Promise<{ code: string; action: string; message: string }>;
  close(): Promise<void>;
}

/** Not in the CLI v2 2.9.19 model: run with test/compat/sqs-move-tasks.model.json added. */
const MOVE_TASK_COMMANDS = new Set(['start-message-move-task', 'list-message-move-tasks', 'cancel-message-move-task']);

interface Runner {
  proc: ChildProcessWithoutNullStreams;
  /** Set while a command runs: its answer goes here. */
  reply?: (r: CliResult) => void;
  stderr: string;
  exited: boolean;
}

/**
 * `runners` interpreters, each running one command at a time; commands beyond that wait.
 * Every command names `endpointUrl` explicitly (CLI v2 releases before 2.13 ignore
 * AWS_ENDPOINT_URL), and the runner refuses any command without --endpoint-url.
 */
export function startAwsCli(
  found: FoundCli,
  opts: { endpointUrl: string; env: NodeJS.ProcessEnv; runners?: number },
): AwsCli {
  const modelDir = tempDir('herald-cli-model-');
  const runners: Runner[] = [];
  const waiting: Array<() => void> = [];
  let nextId = 0;

  for (let i = 0; i < (opts.runners ?? 3); i++) {
    const proc = spawn(found.python, [RUNNER, '--extend-model', 'sqs', MOVE_TASK_MODEL, modelDir], {
      env: opts.env,
      stdio: 'pipe',
    });
    const runner: Runner = { proc, stderr: '', exited: false };
    let buffer = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const { rc, stdout, stderr } = JSON.parse(buffer.slice(0, nl)) as CliResult;
        buffer = buffer.slice(nl + 1);
        runner.reply?.({ rc, stdout, stderr });
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (runner.stderr += chunk));
    proc.on('exit', (code) => {
      runner.exited = true;
      runner.reply?.({ rc: 255, stdout: '', stderr: `the CLI runner exited (${code}): ${runner.stderr}` });
      for (const wake of waiting.splice(0)) wake();
    });
    runners.push(runner);
  }

  const run: AwsCli['run'] = async (line, ...more) => {
    const args = [...line.split(' ').filter(Boolean), ...more];
    const env = MOVE_TASK_COMMANDS.has(args[1]) ? { AWS_DATA_PATH: modelDir } : {};
    let free: Runner | undefined;
    while (!(free = runners.find((r) => !r.reply && !r.exited))) {
      if (runners.every((r) => r.exited))
        return { rc: 255, stdout: '', stderr: `every CLI runner exited: ${runners.map((r) => r.stderr).join('\n')}` };
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    const runner = free;
    try {
      const full = [...args, '--endpoint-url', opts.endpointUrl, '--output', 'json'];
      return await new Promise<CliResult>((resolve) => {
        runner.reply = resolve;
        runner.proc.stdin.write(`${JSON.stringify({ id: nextId++, args: full, env })}\n`);
      });
    } finally {
      runner.reply = undefined;
      waiting.shift()?.();
    }
  };

  return {
    run,
    async json(line, ...more) {
      const r = await run(line, ...more);
      if (r.rc !== 0) throw new Error(`aws ${line} ${more.join(' ')} exited ${r.rc}: ${r.stderr}`);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    },
    async error(line, ...more) {
      const r = await run(line, ...more);
      // With AWS_MAX_ATTEMPTS=1 the CLI adds "(reached max retries: 0)" after the operation.
      const m = /An error occurred \(([^)]+)\) when calling the (\w+) operation(?: \([^)]*\))?: (.*)/s.exec(r.stderr);
      if (r.rc !== 254 || !m)
        throw new Error(`aws ${line} ${more.join(' ')}: expected a service error, got ${r.rc}: ${r.stdout}${r.stderr}`);
      return { code: m[1], action: m[2], message: m[3].trim() };
    },
    async close() {
      await Promise.all(
        runners.map(
          (r) =>
            new Promise<void>((resolve) => {
              if (r.exited) return resolve();
              r.proc.once('exit', () => resolve());
              r.proc.stdin.end();
            }),
        ),
      );
      removeDir(modelDir);
    },
  };
}

/** A Herald, the recording proxy the CLI reaches it through, and the CLI's runners. */
export interface CliCheck {
  h: TestHerald;
  rec: RecordingProxy;
  /** SNS's public URL (SigningCertURL, SubscribeURL), over HTTPS as sns-validator needs. */
  tls: TlsProxy;
  cli: AwsCli;
  /** The environment of every CLI process (test keys, no AWS config, loopback only). */
  env: NodeJS.ProcessEnv;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

export async function startCliCheck(found: FoundCli): Promise<CliCheck> {
  const tls = await startTlsProxy();
  const h = await startTestHerald({ aws: { publicUrl: tls.url } });
  tls.target = h.herald.aws!.url;
  const rec = await startRecordingProxy(h.herald.aws!.url);
  const home = tempDir('herald-cli-home-');
  const env = awsClientEnv(rec.url, home);
  const cli = startAwsCli(found, { endpointUrl: rec.url, env, runners: 3 });
  return {
    h,
    rec,
    tls,
    cli,
    env,
    queueUrl: (name) => `${rec.url}/${h.herald.config.aws.accountId}/${name}`,
    async close() {
      await cli.close();
      await rec.close();
      await h.close();
      await tls.close();
      removeDir(h.dataDir);
      removeDir(home);
    },
  };
}
