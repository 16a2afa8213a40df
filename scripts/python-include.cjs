// Prints the include directory of the Python used to build the addon
// (TEST_RIG_PYTHON, else python3): binding.gyp calls it.
const { execFileSync } = require('node:child_process');
const python = process.env.TEST_RIG_PYTHON || 'python3';
process.stdout.write(
  execFileSync(python, ['-c', "import sysconfig; print(sysconfig.get_paths()['include'], end='')"]).toString(),
);
