// Full ESM: p-queue and chalk are ESM-only, so jest runs with --experimental-vm-modules and
// ts-jest's ESM mode instead of transforming dependencies to CommonJS.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60000,
  // e2e tests spawn real CLI processes; two workers match the two cores.
  maxWorkers: 2,
  // A cache per checkout: ts-jest's transforms of one tree must never be served to another.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
};
