import { RedisCacheBackend } from '../../src/cache/backends/redis.js';
import { runCacheBackendContract } from './cache-backend-contract.js';
import { describeWith, REDIS_URL, uniqueName } from './servers.js';

describeWith('MINIFLOW_TEST_REDIS_URL', REDIS_URL, 'redis backend', () => {
  // A key prefix per test: test files running in parallel share the Redis database, never its keys.
  runCacheBackendContract(
    'redis',
    () => Promise.resolve(new RedisCacheBackend({ redisUrl: REDIS_URL, keyPrefix: `${uniqueName('mftest')}:` })),
    async (backend) => {
      await backend.clear({});
      await backend.close();
    },
  );
});
