import { migrations } from '../../migrations/index.js';
import { MIGRATION_NAMES } from '../../migrations/names.js';

test('the names the DB open checks are exactly the migrations TypeORM runs, in order', () => {
  expect(MIGRATION_NAMES).toEqual(migrations.map((M) => new M().name ?? M.name));
});
