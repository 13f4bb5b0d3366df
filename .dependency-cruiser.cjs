/**
 * The layering rules of DESIGN.md §4, checked in CI (`npm run lint:deps`).
 * Lower layers never import higher ones; only src/app picks adapters.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-only-${allowed.join('-') || 'nothing'}`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`)],
  },
});

module.exports = {
  forbidden: [
    layer('shared', []),
    layer('domain', ['shared']),
    layer('events', ['domain', 'shared']),
    layer('store', ['events', 'domain', 'shared']),
    layer('pipeline', ['store', 'events', 'domain', 'shared']),
    // The real-time server is a generic Pusher server: it knows nothing of orders.
    layer('realtime', ['shared']),
    layer('reactions', ['pipeline', 'realtime', 'store', 'events', 'domain', 'shared']),
    layer('http', ['reactions', 'pipeline', 'realtime', 'store', 'events', 'domain', 'shared']),
    {
      name: 'domain-is-pure',
      comment: 'The domain does no I/O: no Node built-ins and no packages.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'shared-has-no-packages',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-does-not-import-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-dev-dependencies-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
