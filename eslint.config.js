// ESLint over every TypeScript and JavaScript file of the project; npm test runs it
// (test/house/style.test.ts) and fails on any problem.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', 'build/', 'dist/', '**/target/', 'examples/c/build/', 'examples/workers/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // AssemblyScript puts decorators on functions (`@inline`, `@external`), which TypeScript's
    // grammar does not allow: the parser keeps going past them instead of stopping the file.
    languageOptions: { parserOptions: { allowInvalidAST: true } },
    // A `let` first written after a closure that reads it has been made cannot be a `const`.
    rules: { 'prefer-const': ['error', { ignoreReadBeforeAssign: true }] },
  },
  {
    files: ['assembly/**'],
    rules: {
      // Namespaces hold the constant tables that AssemblyScript folds into the code.
      '@typescript-eslint/no-namespace': 'off',
      // `Object` is AssemblyScript's base class of managed objects, not a boxed primitive.
      '@typescript-eslint/no-wrapper-object-types': 'off',
      // Exported functions and event hooks take what the ABI or the base class hands them.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', 'test/**', 'bench/**', 'scripts/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['examples/browser/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Test hosts drive raw wasm exports and foreign libraries' untyped surfaces.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
