import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { connectUrl, type Connection } from '../../src/client.js';
import { applySupabaseEmulation, startContainer } from '../../src/local/index.js';
import { runMigrations } from '../../src/migrate.js';
import type { TargetInfo } from './target.js';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Builds the migrated template database that every test file copies. */
async function prepareTemplate(adminUrl: string): Promise<string> {
  const name = `witchcraft_template_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, name);
  const raw = postgres(templateUrl, { max: 1, onnotice: () => {} });
  try {
    await applySupabaseEmulation((text) => raw.unsafe(text));
  } finally {
    await raw.end();
  }
  const connection = connectUrl(templateUrl, { max: 1 });
  try {
    await runMigrations(connection);
  } finally {
    await connection.close();
  }
  return name;
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

async function tryContainer(): Promise<Connection | null> {
  try {
    return await startContainer();
  } catch {
    return null;
  }
}

export default async function setup(project: TestProject) {
  let target: TargetInfo;
  let container: Connection | null = null;
  const forced = process.env.TEST_TARGET;

  if (forced === 'pglite') {
    target = { kind: 'pglite', reason: 'TEST_TARGET=pglite' };
  } else if (process.env.TEST_DATABASE_URL) {
    target = { kind: 'server', adminUrl: process.env.TEST_DATABASE_URL, reason: 'TEST_DATABASE_URL' };
  } else if (forced === 'server') {
    throw new Error('TEST_TARGET=server needs TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  } else if ((container = await tryContainer())) {
    target = { kind: 'server', adminUrl: container.url, reason: 'testcontainers PostgreSQL (Docker found)' };
  } else {
    target = { kind: 'pglite', reason: 'no TEST_DATABASE_URL and no Docker engine: embedded PGlite' };
  }

  if (target.kind === 'server' && target.adminUrl) {
    target.templateDatabase = await prepareTemplate(target.adminUrl);
  }
  console.log(`[tests] target: ${target.kind} (${target.reason})`);
  project.provide('target', target);

  return async () => {
    if (target.adminUrl && target.templateDatabase) await dropDatabase(target.adminUrl, target.templateDatabase);
    if (container) await container.close();
  };
}
