// `test-rig new-suite NAME`: scaffolds suites/NAME/ with a first, passing test.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { CliError, plainLogger, reportError } from './common.js';
import { EXIT_USAGE } from '../exit-codes.js';

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const PY_KEYWORDS = new Set(
  'false none true and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

export interface NewSuiteResult {
  dir: string;
  files: string[];
}

function pascal(name: string): string {
  return name
    .split('_')
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** Creates the suite folder; throws CliError for an invalid name or an existing folder. */
export function createSuite(name: string, parent = 'suites'): NewSuiteResult {
  if (!NAME.test(name) || PY_KEYWORDS.has(name) || name === 'test_rig') {
    throw new CliError(
      `invalid suite name "${name}": use lower case letters, digits and _ (a Python package name starting with a letter)`,
      EXIT_USAGE,
    );
  }
  const dir = path.join(parent, name);
  if (fs.existsSync(dir))
    throw new CliError(`${dir} already exists; choose another name or remove it`, EXIT_USAGE);
  const cls = `${pascal(name)}BasicHandler`;
  const table = `${name}_basic`;
  const testFile = `test_${name}.py`;
  const files: Record<string, string> = {
    '__init__.py': `"""The ${name} test suite (discovered by \`test-rig run\`)."""\n`,
    [testFile]: `"""${name}: a first test. Creates a table, inserts rows and checks the count."""

from test_rig import PyStateHandler, PyStateContext, PyState


class ${cls}(PyStateHandler):
    """Creates ${table}, inserts three rows and asserts that they are there."""

    def enter(self, context: PyStateContext) -> None:
        context.connection.execute_query("DROP TABLE IF EXISTS ${table}")

    def execute(self, context: PyStateContext) -> str:
        conn = context.connection
        conn.execute_query(
            "CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, value INT NOT NULL)"
        )
        conn.execute_query(
            "INSERT INTO ${table} (id, name, value) VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)"
        )
        rows = conn.execute_query("SELECT COUNT(*) AS n, SUM(value) AS total FROM ${table}")
        assert int(rows[0]["n"]) == 3, f"expected 3 rows, got {rows[0]['n']}"
        assert int(rows[0]["total"]) == 60, f"expected a total of 60, got {rows[0]['total']}"
        return PyState.completed()

    def exit(self, context: PyStateContext) -> None:
        if context.connection:
            context.connection.execute_query("DROP TABLE IF EXISTS ${table}")
`,
    'README.md': `# ${name}

Python test suite run by \`test-rig run ${name}\` (every \`test_*.py\` here is discovered;
each \`…Handler\` class in it is one case).

## Run

\`\`\`sh
test-rig run ${name} -H host:port -u user          # against a server
test-rig run ${name} --local                       # against a throwaway local MariaDB/MySQL
test-rig run ${name} --test-file ${testFile}      # one file
\`\`\`

## Cases

| file | handler | what it checks |
| --- | --- | --- |
| \`${testFile}\` | \`${cls}\` | creates \`${table}\`, inserts 3 rows, asserts \`COUNT(*) = 3\` and \`SUM(value) = 60\`, drops the table |

## Adding a case

Add a \`test_<feature>.py\` with a class named \`<Something>Handler\` that subclasses
\`PyStateHandler\` (\`from test_rig import PyStateHandler, PyStateContext, PyState\`),
does its work in \`execute\` and returns \`PyState.completed()\`. List it in the table above.
`,
  };
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return { dir, files: Object.keys(files).map((f) => path.join(dir, f)) };
}

export function newSuiteCommand(): Command {
  return new Command('new-suite')
    .description('create suites/NAME/ with __init__.py, a README and a first passing test_NAME.py')
    .argument('<name>', 'suite name (a Python package name: lower case letters, digits, _)')
    .option('--dir <parent>', 'parent folder of the suite', 'suites')
    .action((name: string, opts: { dir: string }) => {
      const log = plainLogger();
      try {
        const r = createSuite(name, opts.dir);
        log.out(`created ${r.dir}/`);
        for (const f of r.files) log.out(`  ${f}`);
        log.out(
          `run it with: test-rig run ${name}${opts.dir !== 'suites' ? ` --suites-dir ${opts.dir}` : ''}`,
        );
      } catch (e) {
        process.exitCode = reportError(log, e);
      }
    });
}
