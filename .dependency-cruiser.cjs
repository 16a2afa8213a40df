// Import rules for ts/, checked by `npm run lint` (docs/architecture.md):
// no cycles, and arrows point down the layers
//   cli, index → runner, monitor, demo, datagen → python → machine → db, config, local-server → log, io, errors, exit-codes
// A module may import its own layer or any layer below it, never one above.
const layers = [
  ['ts/(cli/|index\\.ts$)'],
  ['ts/(runner|monitor|demo|datagen)/'],
  ['ts/python/'],
  ['ts/machine/'],
  ['ts/(db|config|local-server)/'],
  ['ts/(log|io)/', 'ts/(errors|exit-codes)\\.ts$'],
];

const names = ['cli', 'runner/monitor', 'python', 'machine', 'db/config', 'log/io/errors'];
const pathOf = (index) => `^(${layers[index].join('|')})`;

const layerRules = layers.slice(1).map((_, i) => {
  const below = i + 1;
  return {
    name: `layer-${names[below].replace(/\//g, '-')}`,
    comment: `${names[below]} must not import a higher layer (${names.slice(0, below).join(', ')}): arrows point down`,
    severity: 'error',
    from: { path: pathOf(below) },
    to: { path: layers.slice(0, below).map((_, j) => pathOf(j)) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'an import cycle: the lower module must not know the higher one (move the code or invert the call)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // Type-only imports count: a type import upward is still a lower layer knowing a higher one.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
