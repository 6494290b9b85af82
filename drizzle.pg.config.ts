// drizzle-kit for the PostgreSQL twin (issue 14): `npx drizzle-kit generate --config drizzle.pg.config.ts`.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/pg/schema.ts',
  out: './db/pg/migrations',
  dbCredentials: { url: process.env.KEPT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/kept' },
});
