import type { Knex } from 'knex';

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations live in code (not files) so the compiled service, the tests
 * (run from TypeScript) and the migrate command all see the same list.
 */
const migrations: Migration[] = [
  {
    name: '001_initial',
    async up(knex) {
      await knex.schema.createTable('batches', (t) => {
        t.increments('id').primary();
        t.jsonb('annotations');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.createTable('requests', (t) => {
        t.increments('id').primary();
        t.text('type').notNullable();
        t.text('user_name');
        t.integer('batch_id').notNullable().references('batches.id');
        t.text('state').notNullable();
        t.text('state_reason').notNullable();
        t.timestamp('updated', { useTz: true }).notNullable();
        t.jsonb('params').notNullable().defaultTo('{}');
        t.jsonb('results').notNullable().defaultTo('{}');
        t.text('from_index');
        t.text('index_image');
        t.text('trace_id');
        t.integer('attempts').notNullable().defaultTo(0);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      // Every list filter is served by an index ordered like the listing (id desc).
      await knex.raw('CREATE INDEX requests_state_id ON requests (state, id DESC)');
      await knex.raw('CREATE INDEX requests_type_id ON requests (type, id DESC)');
      await knex.raw('CREATE INDEX requests_user_id ON requests (user_name, id DESC)');
      await knex.raw('CREATE INDEX requests_batch_id ON requests (batch_id, id DESC)');
      await knex.raw('CREATE INDEX requests_from_index_id ON requests (from_index, id DESC)');
      await knex.raw('CREATE INDEX requests_from_index_prefix ON requests (from_index text_pattern_ops)');
      await knex.raw('CREATE INDEX requests_index_image_id ON requests (index_image, id DESC)');
      await knex.schema.createTable('request_states', (t) => {
        t.bigIncrements('id').primary();
        t.integer('request_id').notNullable().references('requests.id').onDelete('CASCADE');
        t.text('state').notNullable();
        t.text('state_reason').notNullable();
        t.timestamp('updated', { useTz: true }).notNullable();
      });
      await knex.raw('CREATE INDEX request_states_request ON request_states (request_id, id DESC)');
      await knex.schema.createTable('outbox', (t) => {
        t.bigIncrements('id').primary();
        t.text('destination').notNullable();
        t.jsonb('body').notNullable();
        t.jsonb('application_properties').notNullable().defaultTo('{}');
        t.text('message_id').notNullable();
        t.text('traceparent');
        t.text('tracestate');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.createTable('processed_messages', (t) => {
        t.text('key').primary();
        t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.createTable('request_logs', (t) => {
        t.bigIncrements('id').primary();
        t.integer('request_id').notNullable().references('requests.id').onDelete('CASCADE');
        t.text('text').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.raw('CREATE INDEX request_logs_request ON request_logs (request_id, id)');
      await knex.schema.createTable('request_artifacts', (t) => {
        t.integer('request_id').notNullable().references('requests.id').onDelete('CASCADE');
        t.text('kind').notNullable();
        t.jsonb('content').notNullable();
        t.primary(['request_id', 'kind']);
      });
    },
    async down(knex) {
      for (const table of [
        'request_artifacts',
        'request_logs',
        'processed_messages',
        'outbox',
        'request_states',
        'requests',
        'batches',
      ]) {
        await knex.schema.dropTableIfExists(table);
      }
    },
  },
];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: () => Promise.resolve(migrations),
  getMigrationName: (m) => m.name,
  getMigration: (m) => Promise.resolve(m),
};

export function migrationNames(): string[] {
  return migrations.map((m) => m.name);
}

export async function migrateLatest(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource });
}
