// docs/scale-out.md, checked as printed. No cluster or CI runs here, so:
// - the Kubernetes manifests are validated against the Kubernetes API schema
//   (kubernetes-models) and checked to agree with each other (shard count,
//   report names, volume);
// - the commands of the manifests, the GitHub Actions matrix and the GitLab
//   jobs are run as their engine would run them (its shard variables set, one
//   process per shard, then the merge) against the test server, in a project
//   whose suites/ holds passing cases. The substitutions: the server is the
//   test server (TIDB_* variables), and the Kubernetes volume path /reports is
//   a temporary folder. The kubectl lines need a cluster and are not run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { testServer, testHostPort } from '../helpers/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs/scale-out.md'), 'utf8');

/** The fenced block whose first line is `# name`. */
function block(name: string): string {
  for (const m of DOC.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm))
    if (m[2]!.startsWith(`# ${name}\n`)) return m[2]!;
  assert.fail(`docs/scale-out.md has no block for ${name}`);
}

type Obj = Record<string, unknown> & { kind?: string };
const manifests = (name: string): Obj[] =>
  parseAllDocuments(block(name)).map((d) => {
    assert.deepEqual(d.errors, [], `${name}: YAML errors`);
    return d.toJS() as Obj;
  });

// the parts of the manifests the checks read
interface Container {
  command: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface JobDoc {
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template: {
      spec: {
        containers: Container[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

function sh(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env: cleanEnv({
        PATH: `${path.join(cwd, 'node_modules/.bin')}:${process.env.PATH}`,
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The server every example talks to, as the examples pass it: TIDB_* variables. */
const SERVER_ENV = {
  TIDB_HOST: testHostPort,
  TIDB_USER: testServer.user,
  TIDB_PASSWORD: testServer.password,
};

describe('docs/scale-out.md', function () {
  this.timeout(300_000);
  let project: string;

  before(() => {
    // a project that installed test-rig, with a suite of passing cases
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-out-'));
    const modules = path.join(project, 'node_modules');
    fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(modules, 'test-rig'));
    fs.writeFileSync(path.join(modules, '.bin', 'test-rig'), `#!/bin/sh\nexec node ${CLI} "$@"\n`, {
      mode: 0o755,
    });
    fs.writeFileSync(
      path.join(project, 'package.json'),
      '{ "name": "scale-out-project", "private": true }\n',
    );
    const suite = path.join(project, 'suites', 'rows');
    fs.mkdirSync(suite, { recursive: true });
    fs.writeFileSync(path.join(suite, '__init__.py'), '');
    for (const f of ['test_rows.py', 'test_more.py'])
      fs.copyFileSync(path.join(ROOT, 'test/fixtures/shard_suite', f), path.join(suite, f));
  });
  after(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it('the Kubernetes manifests validate against the Kubernetes API schema', () => {
    const docs = [...manifests('shards.yaml'), ...manifests('merge.yaml')];
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['PersistentVolumeClaim', 'Job', 'Job'],
    );
    for (const d of docs) {
      const model = d.kind === 'Job' ? new Job(d as never) : new PersistentVolumeClaim(d as never);
      assert.doesNotThrow(() => model.validate(), `${d.kind} ${(d.metadata as { name: string }).name}`);
    }
    // and the schema does reject a broken Job (so the check above can fail)
    const broken = structuredClone(docs[1]) as unknown as JobDoc;
    broken.spec.completionMode = 'Indexd';
    assert.throws(() => new Job(broken as never).validate(), /completionMode/);
  });

  it('the manifests agree: one shard per completion, every report merged, one volume', () => {
    const [pvc, shards] = manifests('shards.yaml') as unknown as [Obj, JobDoc];
    const [merge] = manifests('merge.yaml') as unknown as [JobDoc];
    assert.equal(shards.spec.completionMode, 'Indexed');
    const n = shards.spec.completions!;
    const script = shards.spec.template.spec.containers[0]!.command.join(' ');
    assert.match(script, new RegExp(`--shard auto --shard-count ${n}\\b`));
    const mergeArgs = merge.spec.template.spec.containers[0]!.command;
    assert.deepEqual(
      mergeArgs.filter((a) => /shard-\d+\.jsonl$/.test(a)),
      Array.from({ length: n }, (_, i) => `/reports/shard-${i}.jsonl`),
    );
    const claim = (pvc.metadata as { name: string }).name;
    for (const job of [shards, merge]) {
      const c = job.spec.template.spec.containers[0]!;
      assert.deepEqual(c.volumeMounts, [{ name: 'reports', mountPath: '/reports' }]);
      assert.deepEqual(job.spec.template.spec.volumes, [
        { name: 'reports', persistentVolumeClaim: { claimName: claim } },
      ]);
    }
    // the password comes from a Secret, never the command line
    const env = shards.spec.template.spec.containers[0]!.env ?? [];
    assert.ok(env.find((e) => e.name === 'TIDB_PASSWORD')?.valueFrom);
    assert.doesNotMatch(script, /password|-p\b/i);
  });

  it('the Indexed Job pods and the merge Job run as printed: every shard, then one merged verdict', async () => {
    const [, shards] = manifests('shards.yaml') as unknown as [Obj, JobDoc];
    const [merge] = manifests('merge.yaml') as unknown as [JobDoc];
    const reports = fs.mkdtempSync(path.join(project, 'reports-'));
    const onVolume = (argv: string[]) => argv.map((a) => a.replaceAll('/reports', reports));
    const pod = shards.spec.template.spec.containers[0]!.command;
    const results = await Promise.all(
      Array.from({ length: shards.spec.completions! }, (_, i) =>
        sh(onVolume(pod), project, { ...SERVER_ENV, JOB_COMPLETION_INDEX: String(i) }),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const merged = await sh(onVolume(merge.spec.template.spec.containers[0]!.command), project, {});
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /7 cases: 7 passed, 0 failed, 0 skipped/);
    assert.match(merged.stdout, /merged 4 reports$/m);
    assert.ok(fs.existsSync(path.join(reports, 'merged.xml')));
    const start = JSON.parse(fs.readFileSync(path.join(reports, 'merged.jsonl'), 'utf8').split('\n')[0]!) as {
      shards: string[];
    };
    assert.deepEqual(start.shards, ['1/4', '2/4', '3/4', '4/4']);
  });

  it('the GitHub Actions matrix runs as printed: four shards, then the merge', async () => {
    const wf = parseYaml(block('.github/workflows/test-rig.yml')) as {
      jobs: Record<
        string,
        {
          strategy?: { matrix: { shard: number[] } };
          steps: { run?: string; env?: Record<string, string> }[];
        }
      >;
    };
    const shardsRun = wf.jobs.shard!.steps.find((s) => s.run?.includes('test-rig run'))!;
    // the secrets and variables it names are what the test server stands in for
    assert.deepEqual(Object.keys(shardsRun.env ?? {}).sort(), ['TIDB_HOST', 'TIDB_PASSWORD']);
    const dir = fs.mkdtempSync(path.join(project, 'gha-'));
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(dir, 'node_modules'));
    fs.symlinkSync(path.join(project, 'suites'), path.join(dir, 'suites'));
    const results = await Promise.all(
      wf.jobs.shard!.strategy!.matrix.shard.map((shard) =>
        sh(['bash', '-c', shardsRun.run!.replaceAll('${{ matrix.shard }}', String(shard))], dir, SERVER_ENV),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const mergeRun = wf.jobs.merge!.steps.find((s) => s.run?.includes('test-rig merge'))!;
    const merged = await sh(['bash', '-c', mergeRun.run!], dir, {});
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /7 cases: 7 passed/);
  });

  it('the GitLab parallel jobs run as printed: --shard auto from CI_NODE_INDEX, then the merge', async () => {
    const ci = parseYaml(block('.gitlab-ci.yml')) as Record<string, { parallel?: number; script: string[] }>;
    const dir = fs.mkdtempSync(path.join(project, 'gitlab-'));
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(dir, 'node_modules'));
    fs.symlinkSync(path.join(project, 'suites'), path.join(dir, 'suites'));
    const runLine = ci.shard!.script.find((l) => l.includes('test-rig run'))!;
    const n = ci.shard!.parallel!;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        sh(['bash', '-c', runLine], dir, {
          ...SERVER_ENV,
          CI_NODE_INDEX: String(i + 1),
          CI_NODE_TOTAL: String(n),
        }),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const merged = await sh(
      ['bash', '-c', ci.merge!.script.find((l) => l.includes('test-rig merge'))!],
      dir,
      {},
    );
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /7 cases: 7 passed/);
  });
});
