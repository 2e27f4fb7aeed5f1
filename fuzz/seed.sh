#!/bin/sh
# Builds the seed corpus of every target in fuzz/corpus/<target>/ from the
# fixtures and a few hand-written statements. fuzz/corpus is not committed.
# Usage (from anywhere): sh fuzz/seed.sh
set -eu
cd "$(dirname "$0")"
fx=../fixtures
c=corpus
mkdir -p $c/lexer $c/copy_text $c/insert_values $c/sqlite_reader $c/pg_reader

# seed TARGET NAME CONTROL-BYTES(printf format) FILE|-
seed() {
    { printf "$3"; if [ "$4" = - ]; then cat; else cat "$4"; fi; } > "$c/$1/$2"
}

# lexer: 2 control bytes (flags, piece seed), then text.
for f in $fx/pg/before*.sql $fx/sqlite/before.sql; do
    n=$(basename "$f" .sql)-$(basename "$(dirname "$f")")
    seed lexer "$n-whole" '\000\000' "$f"
    seed lexer "$n-pieces" '\006\045' "$f"
done
printf '%s' "SELECT 'a''b', E'\\\\'';' , \"x\"\"\", \$t\$ \$ \$t \$t\$ /* /* */ */ -- z
\$1; e'q' [a b] \`x\`\`y\` X'00' U&\"d\\0061t\"" | seed lexer handmade '\007\003' -

# copy_text: raw rows of the fixtures' COPY blocks, and a few by hand.
i=0
grep -a "$(printf '\t')" $fx/pg/before.sql | head -n 40 | while IFS= read -r line; do
    i=$((i + 1))
    printf '%s\n' "$line" > $c/copy_text/fixture-row-$i
done
printf '1\tCAPA-1\t\\N\ta\\\\b\\tc\\nd\\101\\x41\\x4\\q\\' > $c/copy_text/escapes
printf 'a\\\nb\\\\\nc\n\\.\n' > $c/copy_text/rows

# insert_values: control byte (bit 7: SQLite), then statements after the
# fixed header that creates t(id, ref, note).
printf '%s\n' \
    "INSERT INTO public.t VALUES (1, 'CAPA-1', 'x');" \
    "INSERT INTO public.t (id, ref, note) VALUES (1, 'CAPA-1', NULL), (2, E'CAPA-\\n2''', 'y''z'), (3, 'CAPA-3'::text, DEFAULT);" \
    | seed insert_values pg-inserts '\007' -
printf 'COPY public.t (id, ref, note) FROM stdin;\n1\tCAPA-1\tn\n2\t\\N\tCAPA-\\t\n3\tCAPA-\\\\x\\101\t\\.\n\\.\n\nALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n' \
    | seed insert_values pg-copy '\000' -
printf '%s\n' "SET standard_conforming_strings = off;" "INSERT INTO t VALUES (1, 'CAPA-\\'1', 'x');" \
    "CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS \$\$ SELECT 1 FROM public.t \$\$;" \
    "-- Name: t; Type: TABLE; Schema: public; Owner: -" "\\connect db" "ALTER TABLE public.t RENAME TO v;" \
    | seed insert_values pg-misc '\103' -
printf '%s\n' "INSERT INTO t VALUES(1,'CAPA-1','x');" \
    "INSERT INTO \"t\" VALUES(2,replace('CAPA-\\n1','\\n',char(10)),unistr('a\\u000ab'));" \
    "INSERT INTO [t] VALUES(3,replace(replace('CAPA-\\r\\n','\\r',char(13)),'\\n',char(10)),X'00');" \
    "CREATE INDEX i ON t(ref);" \
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET ref='x'; END;" "COMMIT;" \
    | seed insert_values sqlite-inserts '\207' -
seed insert_values pg-fixture '\007' $fx/pg/before-inserts.sql
seed insert_values sqlite-fixture '\307' $fx/sqlite/before.sql

# Sections of the fixtures, small enough for -max_len=4096: each is the
# CREATE TABLE of the CAPA table (so that its column list is known), then
# consecutive `--`-headed sections (pg) or lines (SQLite) up to ~2 KiB.
sections() { # TARGET PREFIX CONTROL-BYTE(octal) FILE
    python3 - "$c/$1/$2" "$3" "$4" <<'PY'
import re, sys
out, ctl, path = sys.argv[1], int(sys.argv[2], 8), sys.argv[3]
text = open(path, 'rb').read()
if b'\n--\n-- ' in text:
    parts = re.split(rb'(?m)(?=^--\n-- (?:Name|Data for Name): )', text)
else:
    parts = text.splitlines(keepends=True)
create = next(p for p in parts if re.search(rb'CREATE TABLE[^(]*incident_safety_correctivepreventiveaction', p))
groups, cur = [], b''
for p in parts:
    if cur and len(cur) + len(p) > 2048:
        groups.append(cur)
        cur = b''
    cur += p
groups.append(cur)
for i, g in enumerate(groups):
    body = g if create in g else create + g
    open(f'{out}-{i:02}', 'wb').write(bytes([ctl]) + body)
PY
}
for f in $fx/pg/before*.sql; do
    sections pg_reader "$(basename "$f" .sql)-sec" 003 "$f"
done
sections sqlite_reader before-sec 007 $fx/sqlite/before.sql
sections insert_values pg-sec 007 $fx/pg/before-inserts.sql
sections insert_values sqlite-sec 207 $fx/sqlite/before.sql

# pg_reader: control byte, then a pg dump (after its opening comment).
for f in $fx/pg/before*.sql; do
    seed pg_reader "$(basename "$f" .sql)-c1" '\000' "$f"
    seed pg_reader "$(basename "$f" .sql)-c4096" '\177' "$f"
done
printf 'COPY public.incident_safety_correctivepreventiveaction (id, reference_number) FROM stdin;\n1\tCAPA-1\n2\t\\N\n\\.\n' \
    | seed pg_reader handmade-copy '\003' -

# sqlite_reader: control byte, then an SQLite dump (after BEGIN TRANSACTION).
seed sqlite_reader before-c1 '\000' $fx/sqlite/before.sql
seed sqlite_reader before-c4096 '\177' $fx/sqlite/before.sql
printf '%s\n' "CREATE TABLE incident_safety_correctivepreventiveaction(id integer, reference_number text);" \
    "INSERT INTO incident_safety_correctivepreventiveaction VALUES(1,'CAPA-1');" \
    "INSERT INTO \"incident_safety_correctivepreventiveaction\" VALUES(2,replace('CAPA-\\n2','\\n',char(10)));" \
    "INSERT INTO incident_safety_correctivepreventiveaction VALUES(3,unistr('CAPA-\\u000a3'));" "COMMIT;" \
    | seed sqlite_reader handmade '\007' -

for t in $c/*; do echo "$t: $(ls "$t" | wc -l) files"; done

# resolver: 1 control byte (bit 0: standard_conforming_strings off), then
# one statement: the statements of the reference fixtures, one per file.
mkdir -p $c/resolver
python3 - "$fx" "$c/resolver" <<'PY'
import sys, re, pathlib
fx, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for f in ["pg-refs/before.sql", "pg-tap/dump.sql", "pg/before.sql"]:
    text = (fx / f).read_bytes()
    for stmt in re.split(rb";\n\n", text):
        stmt = stmt.strip()
        if stmt and not stmt.startswith(b"COPY") and len(stmt) < 4000:
            (out / f"s{n:05}").write_bytes(b"\x00" + stmt + b";")
            n += 1
PY

# archive_toc: the real archives themselves (the reader stops after the TOC).
mkdir -p $c/archive_toc $c/archive_block
for f in $fx/archive/*.dump; do
    cp "$f" "$c/archive_toc/$(basename "$f")"
done
# archive_block: 1 control byte (0 none, 1 gzip), then one data block as
# pg_backup_custom.c writes it (Int chunks: sign byte + 4 bytes LE, ended by
# Int 0) holding a COPY block of the pg fixture.
python3 - "$c/archive_block" "$fx/pg/before.sql" <<'PY'
import struct, sys, zlib
out, dump = sys.argv[1], open(sys.argv[2], "rb").read()
start = dump.index(b"COPY public.incident_safety_correctivepreventiveaction ")
data = dump[dump.index(b"\n", start) + 1:dump.index(b"\\.\n", start)]
def block(payload, size):
    ints = b"".join(b"\0" + struct.pack("<I", len(payload[i:i + size])) + payload[i:i + size]
                    for i in range(0, len(payload), size))
    return ints + b"\0" + struct.pack("<I", 0)
open(f"{out}/none", "wb").write(b"\0" + block(data, 64))
open(f"{out}/gzip", "wb").write(b"\1" + block(zlib.compress(data, 6), 4096))
open(f"{out}/gzip-small-chunks", "wb").write(b"\1" + block(zlib.compress(data, 1), 7))
PY

# archive: 1 control byte (path), then a real archive made by pg_dump.
mkdir -p $c/archive
for f in $fx/archive/*.dump $fx/archive/*.tar; do
    n=$(basename "$f")
    for k in 0 1 2 3; do
        seed archive "$n-$k" "\\00$k" "$f"
    done
done

# input_open: control byte (bits 0-3: read sizes, bit 4: the command's
# archive sniff first), then the plain fixtures whole, gzip (also two
# members, and cut), zstd (also two frames), lz4 (also 64 KiB blocks with
# a content size, and cut), a few archives, and the refused magics.
mkdir -p $c/input_open
w=$(mktemp -d)
iseed() { for k in 000 007 020 025; do { printf "\\$k"; cat "$2"; } > "$c/input_open/$1-$k"; done; }
for f in $fx/pg/before.sql $fx/pg/before-inserts.sql $fx/pg/before-column-inserts.sql $fx/sqlite/before.sql; do
    b=$(basename "$(dirname "$f")")-$(basename "$f" .sql)
    iseed "$b-plain" "$f"
    gzip -9nc "$f" > "$w/$b.gz"; iseed "$b-gz" "$w/$b.gz"
    cat "$w/$b.gz" "$w/$b.gz" > "$w/$b.2.gz"; iseed "$b-gz2" "$w/$b.2.gz"
    head -c 1000 "$w/$b.gz" > "$w/$b.cut.gz"; iseed "$b-gzcut" "$w/$b.cut.gz"
    zstd -q -19 -c "$f" > "$w/$b.zst"; iseed "$b-zst" "$w/$b.zst"
    head -c 3000 "$f" | zstd -q -c > "$w/$b.p.zst"; cat "$w/$b.p.zst" "$w/$b.p.zst" > "$w/$b.2.zst"; iseed "$b-zst2" "$w/$b.2.zst"
    lz4 -q -c "$f" > "$w/$b.lz4"; iseed "$b-lz4" "$w/$b.lz4"
    lz4 -q -B4 --content-size -BD -c "$f" > "$w/$b.b4.lz4"; iseed "$b-lz4b4" "$w/$b.b4.lz4"
    head -c 1000 "$w/$b.lz4" > "$w/$b.cut.lz4"; iseed "$b-lz4cut" "$w/$b.cut.lz4"
done
for f in $fx/archive/before.dump $fx/archive/before-z0.dump $fx/archive/before-v116.dump $fx/archive/before.tar; do
    iseed "arch-$(basename "$f")" "$f"
done
printf 'SQLite format 3\000' > "$w/sq"; iseed sqlite-db "$w/sq"
printf 'PGDMP' > "$w/pg"; iseed pgdmp "$w/pg"
rm -r "$w"
