-- Chooses rename targets for a corpus: tables (relkind r, p or f) in user schemas that have
-- the dependents a rename must follow. One row per table with its reasons; psql variable
-- :per_category (how many tables each reason may contribute, the ones with the most such
-- dependents first, then by name). Run by scripts/corpus-select-targets.sh.
WITH t AS (
  SELECT c.oid, n.nspname, c.relname, c.reltype, c.relkind, c.relispartition
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\_temp%' AND n.nspname NOT LIKE 'pg\_toast\_temp%'
    AND c.relpersistence <> 't'
    AND octet_length(c.relname) <= 55            -- <name>_renamed must fit in NAMEDATALEN-1
    AND position('.' in c.relname) = 0 AND position('.' in n.nspname) = 0  -- dumpsed's SCHEMA.NAME syntax
    -- <name>_renamed must be free in the schema (relations and types share it)
    AND NOT EXISTS (SELECT FROM pg_class x WHERE x.relnamespace = c.relnamespace AND x.relname = c.relname || '_renamed')
    AND NOT EXISTS (SELECT FROM pg_type y WHERE y.typnamespace = c.relnamespace AND y.typname = c.relname || '_renamed')
),
reason(oid, why, weight) AS (
  -- views / materialized views whose query reads the table
  SELECT d.refobjid, 'view', count(DISTINCT r.ev_class)
  FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
  JOIN pg_class v ON v.oid = r.ev_class
  WHERE d.refclassid = 'pg_class'::regclass AND r.rulename = '_RETURN' AND v.oid <> d.refobjid
  GROUP BY 1
  UNION ALL
  -- rules (not a view's _RETURN) on the table or whose actions mention it
  SELECT x.oid, 'rule', count(*) FROM (
      SELECT r.ev_class AS oid FROM pg_rewrite r WHERE r.rulename <> '_RETURN'
      UNION ALL
      SELECT d.refobjid FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
      WHERE d.refclassid = 'pg_class'::regclass AND r.rulename <> '_RETURN' AND d.refobjid <> r.ev_class) x
  GROUP BY 1
  UNION ALL
  -- foreign keys pointing at it (from other tables or itself)
  SELECT confrelid, 'fk-target', count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 GROUP BY 1
  UNION ALL
  SELECT oid, 'partitioned', (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) FROM pg_class c WHERE relkind = 'p'
  UNION ALL
  SELECT oid, 'partition', 1 FROM pg_class WHERE relispartition
  UNION ALL
  SELECT i.inhparent, 'inheritance-parent', count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
  WHERE p.relkind = 'r' GROUP BY 1
  UNION ALL
  SELECT i.inhrelid, 'inheritance-child', count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
  WHERE p.relkind = 'r' GROUP BY 1
  UNION ALL
  -- the row type used by functions, columns (of other relations), casts, other types (arrays excluded)
  SELECT c.oid, 'rowtype-used', count(*)
  FROM pg_class c JOIN pg_depend d ON d.refclassid = 'pg_type'::regclass AND d.refobjid = c.reltype
  WHERE d.deptype = 'n'
    AND (d.classid IN ('pg_proc'::regclass, 'pg_cast'::regclass)
         OR (d.classid = 'pg_class'::regclass AND d.objid <> c.oid)
         OR (d.classid = 'pg_type'::regclass))
  GROUP BY 1
  UNION ALL
  SELECT a.attrelid, 'column-named-like-table', 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE a.attname = c.relname AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT c.oid, 'name-in-other-schema', (SELECT count(*) FROM pg_class o WHERE o.relname = c.relname AND o.relnamespace <> c.relnamespace)
  FROM pg_class c
  WHERE EXISTS (SELECT FROM pg_class o JOIN pg_namespace on2 ON on2.oid = o.relnamespace
                WHERE o.relname = c.relname AND o.relnamespace <> c.relnamespace
                  AND on2.nspname NOT LIKE 'pg\_%' AND on2.nspname <> 'information_schema')
  UNION ALL
  SELECT c.oid, 'keyword-name', 1 FROM pg_class c JOIN pg_get_keywords() k ON k.word = c.relname
  UNION ALL
  SELECT c.oid, 'not-lowercase-name', 1 FROM pg_class c WHERE c.relname !~ '^[a-z_][a-z0-9_$]*$'
  UNION ALL
  -- a column default (or generated column) that names the table through a regclass constant
  SELECT d.refobjid, 'regclass-default', count(*)
  FROM pg_depend d JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
  WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid = 0 AND d.deptype IN ('n', 'a')
  GROUP BY 1
  UNION ALL
  -- ... or names its own table that way (no pg_depend row records a self-reference)
  SELECT c.oid, 'regclass-default', count(*)
  FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
  WHERE strpos(pg_get_expr(ad.adbin, ad.adrelid), quote_literal(quote_ident(c.relname)) || '::regclass') > 0
     OR strpos(pg_get_expr(ad.adbin, ad.adrelid), quote_ident(c.relname) || '''::regclass') > 0
  GROUP BY 1
  UNION ALL
  -- triggers on it, and triggers on other tables whose WHEN or function depends on it
  SELECT tgrelid, 'trigger', count(*) FROM pg_trigger WHERE NOT tgisinternal GROUP BY 1
  UNION ALL
  -- row-level security policies on it, or whose expressions read it
  SELECT x.oid, 'policy', count(*) FROM (
      SELECT polrelid AS oid FROM pg_policy
      UNION ALL
      SELECT d.refobjid FROM pg_depend d JOIN pg_policy p ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> p.polrelid) x
  GROUP BY 1
  UNION ALL
  SELECT oid, 'foreign-table', 1 FROM pg_class WHERE relkind = 'f'
  UNION ALL
  -- members of a publication (ALTER PUBLICATION ... ADD TABLE)
  SELECT prrelid, 'publication', count(*) FROM pg_publication_rel GROUP BY 1
  UNION ALL
  -- GRANTs on the table or its columns
  SELECT c.oid, 'grant', 1 FROM pg_class c
  WHERE c.relacl IS NOT NULL OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)
  UNION ALL
  -- sequences owned by its columns (serial/identity: ALTER SEQUENCE ... OWNED BY)
  SELECT d.refobjid, 'owned-sequence', count(*) FROM pg_depend d JOIN pg_class s ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
  WHERE s.relkind = 'S' AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') GROUP BY 1
  UNION ALL
  SELECT stxrelid, 'extended-statistics', count(*) FROM pg_statistic_ext GROUP BY 1
  UNION ALL
  -- COMMENT ON TABLE / COLUMN
  SELECT objoid, 'comment', count(*) FROM pg_description WHERE classoid = 'pg_class'::regclass GROUP BY 1
),
ranked AS (
  SELECT t.nspname, t.relname, r.why,
         row_number() OVER (PARTITION BY r.why ORDER BY r.weight DESC, t.nspname, t.relname) AS rk
  FROM reason r JOIN t ON t.oid = r.oid
),
all_reasons AS (
  SELECT t.nspname, t.relname, string_agg(DISTINCT r.why, ',' ORDER BY r.why) AS whys
  FROM reason r JOIN t ON t.oid = r.oid GROUP BY 1, 2
)
SELECT replace(quote_ident(a.nspname), E'\n', '\n'), replace(quote_ident(a.relname), E'\n', '\n'), a.whys
FROM all_reasons a
WHERE EXISTS (SELECT FROM ranked k WHERE k.nspname = a.nspname AND k.relname = a.relname
              AND k.rk <= :per_category)
ORDER BY a.nspname, a.relname;
