import { configDefaults, defineConfig } from 'vitest/config';

// HERALD_TEST_STORES (comma list, default sqlite,postgres) picks the stores under test:
// the contract suite runs over each, and with postgres the end-to-end delivery, queue, AWS SQS, SNS, filter-policy and
// API tests run a second time on PostgreSQL (project "postgres").
const stores = (process.env.HERALD_TEST_STORES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const postgres = stores.includes('postgres');

export default defineConfig({
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Crash and end-to-end tests start real servers; two cores, so keep files parallel but bounded.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: postgres ? configDefaults.exclude : [...configDefaults.exclude, 'test/**/postgres-*.test.ts'],
        },
      },
      ...(postgres
        ? [
            {
              extends: true,
              test: {
                name: 'postgres',
                include: [
                  'test/integration/{delivery,queues,api,fifo,aws-sqs,aws-sqs-auth,aws-sqs-move-tasks,aws-sqs-fifo}.test.ts',
                  'test/integration/{filter-policies,aws-sns,aws-sns-http}.test.ts',
                ],
                env: { HERALD_TEST_STORE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
