// What the SQL sources decide, read back from a database's catalog: functions
// and triggers (body, language, security, settings, volatility, comment,
// owner, EXECUTE grants), the privileges of every relation, column and schema
// the sources speak of, storage options, and default privileges. Two databases
// whose snapshots are equal run the same SQL with the same rights.
//
// `scrambleForSources` undoes all of that in a migrated database (drops every
// function of public and private with what depends on them, grants every
// privilege to every role, resets storage options): applying the sources to
// the result must give back exactly the snapshot of a database migrated from
// scratch. That is how tests/sqlSources.test.ts shows the catalog equals the
// sources, nothing more and nothing less, and that every source can be
// applied again from any state.

/** Runs one SQL statement (no parameters) and returns its rows. */
export type QueryFn = <T = Record<string, unknown>>(text: string) => Promise<T[]>;

export interface CatalogSnapshot {
  functions: Record<string, Record<string, unknown>>;
  triggers: Record<string, Record<string, unknown>>;
  relations: Record<string, Record<string, unknown>>;
  schemas: Record<string, Record<string, unknown>>;
  defaultPrivileges: Record<string, string[]>;
}

// Schemas whose functions and privileges the sources own. Triggers are also
// read on auth.users (the sign-up triggers).
const ownSchemas = `array['public', 'private']`;

// An ACL as sorted "grantee:PRIVILEGE" items, without the owner's own
// (implicit) entries; PUBLIC is "public". A null ACL is the type's default.
const aclItems = (acl: string, kind: string, owner: string) => `
  array(select distinct case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end
                       || ':' || a.privilege_type || case when a.is_grantable then '*' else '' end
          from aclexplode(coalesce(${acl}, acldefault(${kind}, ${owner}))) a
         where a.grantee <> ${owner}
         order by 1)`;

export async function catalogSnapshot(query: QueryFn): Promise<CatalogSnapshot> {
  const functions = await query<{ identity: string } & Record<string, unknown>>(
    `select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as identity,
            l.lanname as language, p.prosrc as body, p.prosecdef as security_definer,
            p.provolatile::text as volatility, p.proisstrict as strict, p.proleakproof as leakproof,
            p.proparallel::text as parallel,
            array(select s from unnest(coalesce(p.proconfig, '{}')) s order by 1) as settings,
            pg_get_function_arguments(p.oid) as arguments, pg_get_function_result(p.oid) as result,
            obj_description(p.oid, 'pg_proc') as comment, pg_get_userbyid(p.proowner) as owner,
            ${aclItems('p.proacl', `'f'`, 'p.proowner')} as privileges
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
       join pg_language l on l.oid = p.prolang
      where n.nspname = any(${ownSchemas})
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      order by 1`,
  );
  const triggers = await query<{ identity: string } & Record<string, unknown>>(
    `select t.tgname || ' on ' || n.nspname || '.' || c.relname as identity,
            pg_get_triggerdef(t.oid) as definition, t.tgenabled::text as enabled,
            obj_description(t.oid, 'pg_trigger') as comment
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and n.nspname = any(${ownSchemas} || array['auth'])
      order by 1`,
  );
  const relations = await query<{ identity: string } & Record<string, unknown>>(
    `select n.nspname || '.' || c.relname as identity, c.relkind::text as kind, pg_get_userbyid(c.relowner) as owner,
            ${aclItems('c.relacl', `(case c.relkind when 'S' then 's' else 'r' end)::"char"`, 'c.relowner')} as privileges,
            array(select a.attname || ' ' || x.item
                    from pg_attribute a,
                         lateral unnest(array(select case when e.grantee = 0 then 'public' else pg_get_userbyid(e.grantee) end
                                                     || ':' || e.privilege_type
                                                from aclexplode(a.attacl) e where e.grantee <> c.relowner)) x(item)
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attacl is not null
                   order by 1) as column_privileges,
            array(select o from unnest(coalesce(c.reloptions, '{}')) o order by 1) as options,
            case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end as view_definition,
            obj_description(c.oid, 'pg_class') as comment
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${ownSchemas}) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
      order by 1`,
  );
  const schemas = await query<{ identity: string } & Record<string, unknown>>(
    `select n.nspname as identity, pg_get_userbyid(n.nspowner) as owner,
            ${aclItems('n.nspacl', `'n'`, 'n.nspowner')} as privileges,
            obj_description(n.oid, 'pg_namespace') as comment
       from pg_namespace n where n.nspname = any(${ownSchemas}) order by 1`,
  );
  const defaults = await query<{ identity: string; items: string[] }>(
    `select pg_get_userbyid(d.defaclrole) || ' in ' || coalesce(n.nspname, '(every schema)') || ' on ' ||
              case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
                                   when 'T' then 'types' when 'n' then 'schemas' else d.defaclobjtype::text end as identity,
            array(select distinct case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end
                                  || ':' || a.privilege_type
                    from aclexplode(d.defaclacl) a where a.grantee <> d.defaclrole order by 1) as items
       from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace
      where n.nspname is null or n.nspname = any(${ownSchemas})
      order by 1`,
  );
  const byIdentity = (rows: ({ identity: string } & Record<string, unknown>)[]) =>
    Object.fromEntries(rows.map(({ identity, ...rest }) => [identity, rest]));
  return {
    functions: byIdentity(functions),
    triggers: byIdentity(triggers),
    relations: byIdentity(relations),
    schemas: byIdentity(schemas),
    // An empty default ACL is the same as none.
    defaultPrivileges: Object.fromEntries(defaults.filter((d) => d.items.length > 0).map((d) => [d.identity, d.items])),
  };
}

const apiGrantees = 'public, anon, authenticated, service_role';

/**
 * Takes away from a migrated database everything the SQL sources decide, and
 * leaves the opposite of what they say where something must remain: every
 * function of public and private is dropped with all that depends on it
 * (triggers, policies, column defaults), every privilege on every relation,
 * column and sequence of public is granted to every API role and PUBLIC,
 * storage options are reset, and default privileges give everything to
 * everyone. Only sources written to set their state whatever came before can
 * bring such a database back.
 */
export async function scrambleForSources(query: QueryFn): Promise<void> {
  const statements: string[] = [];
  const functions = await query<{ identity: string }>(
    `select p.oid::regprocedure::text as identity from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.prokind = 'f'
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`,
  );
  statements.push(...functions.map((f) => `drop function ${f.identity} cascade`));
  statements.push('drop schema if exists private cascade');
  const relations = await query<{ name: string; kind: string; columns: string[]; options: string[] }>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind,
            array(select quote_ident(a.attname) from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
            array(select split_part(o, '=', 1) from unnest(coalesce(c.reloptions, '{}')) o) as options
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')`,
  );
  for (const r of relations) {
    if (r.kind === 'S') {
      statements.push(`grant all on sequence ${r.name} to ${apiGrantees}`);
      continue;
    }
    statements.push(`grant all on table ${r.name} to ${apiGrantees}`);
    const columns = r.columns.join(', ');
    statements.push(`grant select (${columns}), insert (${columns}), update (${columns}), references (${columns}) on table ${r.name} to ${apiGrantees}`);
    if (r.kind === 'r' && r.options.length > 0) statements.push(`alter table ${r.name} reset (${r.options.join(', ')})`);
  }
  for (const objects of ['tables', 'sequences', 'functions']) {
    statements.push(`alter default privileges in schema public grant all on ${objects} to ${apiGrantees}`);
  }
  for (const statement of statements) await query(statement);
}
