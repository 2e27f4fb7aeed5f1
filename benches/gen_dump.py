#!/usr/bin/env python3
"""Deterministic generator of large, realistic dumps for dumpsed benchmarks.

    python3 benches/gen_dump.py --format pg|pg-inserts|sqlite --size-mib N --out FILE

The dump is the fixture of the project (fixtures/pg/before.sql,
fixtures/pg/before-inserts.sql or fixtures/sqlite/before.sql: same header,
DDL, awkward fixture rows and footer) with generated rows appended to every
data table, so that:

* the CAPA table `incident_safety_correctivepreventiveaction` is about half
  of the bytes (--capa-share); about half of its `reference_number`s are
  `CAPA-YYYY-NNNNNN`, the rest LEGACY-/SAP-/capa-/XCAPA- refs and odd
  `CAPA-` forms (quote, backslash, `CAPA-CAPA-`); every reference is unique
  (it encodes the row id);
* the other tables (incidents, root-cause analyses, training records, M2M
  assignments, users; SQLite: also audit_log) carry free text that often
  mentions `CAPA-...` refs and the old table name (which a blind `sed`
  rewrites, dumpsed does not), tabs, newlines, CRs, backslashes, quotes and
  non-ASCII text, escaped as pg_dump / sqlite3 .dump write them;
* ids are unique, every foreign key points to an existing row, sequences
  (setval / sqlite_sequence) are set to the last id: the result restores
  with `psql -v ON_ERROR_STOP=1` / `sqlite3 -bail`.

The output depends only on --format, --size-mib and --capa-share (no
randomness from the environment): same arguments, same bytes. Rows are
built from a few thousand precomputed per-row format strings and written in
multi-MiB blocks (a 4 GiB pg dump takes a couple of minutes).
"""

import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURES = {
    "pg": os.path.join(ROOT, "fixtures", "pg", "before.sql"),
    "pg-inserts": os.path.join(ROOT, "fixtures", "pg", "before-inserts.sql"),
    "sqlite": os.path.join(ROOT, "fixtures", "sqlite", "before.sql"),
}
CAPA = "incident_safety_correctivepreventiveaction"
ASSIGNED = CAPA + "_assigned_to"
INCIDENT = "incident_safety_incident"
RCA = "incident_safety_rootcauseanalysis"
TRAINING = "staff_records_trainingrecord"
USER = "auth_user"
AUDIT = "audit_log"  # SQLite fixture only
M = 1_000_000
NVAR = 4096  # precomputed row variants per table (power of two)
BLOCK_ROWS = 16384


# --------------------------------------------------------------------------
# Deterministic pseudo-random numbers (splitmix64), independent of Python's
# `random` implementation.
class Rng:
    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.u64() % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p):
        return self.u64() < p * 2.0**64


# --------------------------------------------------------------------------
# Value encoders. A value is None (NULL), int, bytes (bytea / BLOB) or str.

def enc_copy(v):
    """COPY text format, as CopyAttributeOutText writes it."""
    if v is None:
        return "\\N"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        v = "\\x" + v.hex()  # bytea output (hex), then escaped below
    out = []
    for ch in v:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        else:
            out.append(ch)
    return "".join(out)


def enc_pg(v):
    """pg_dump --inserts literal (standard_conforming_strings = on)."""
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        v = "\\x" + v.hex()
    return "'" + v.replace("'", "''") + "'"


def _unused(z, a, b):
    if a not in z:
        return a
    if b not in z:
        return b
    i = 0
    while True:
        c = "(%s%d)" % (a, i)
        if c not in z:
            return c
        i += 1


def enc_sqlite(v):
    """sqlite3 shell .dump literal (output_quoted_escaped_string)."""
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        return "X'" + v.hex() + "'"
    if "\n" not in v and "\r" not in v:
        return "'" + v.replace("'", "''") + "'"
    nl = _unused(v, "\\n", "\\012") if "\n" in v else None
    cr = _unused(v, "\\r", "\\015") if "\r" in v else None
    body = v.replace("'", "''")
    if nl:
        body = body.replace("\n", nl)
    if cr:
        body = body.replace("\r", cr)
    s = "'" + body + "'"
    if cr:
        s = "replace(" + s + ",'" + cr + "',char(13))"
    if nl:
        s = "replace(" + s + ",'" + nl + "',char(10))"
    return s


ENCODERS = {"pg": enc_copy, "pg-inserts": enc_pg, "sqlite": enc_sqlite}


class Ph:
    """A placeholder column: printf-style conversions consuming row args."""

    def __init__(self, copy, quoted=None):
        self.copy = copy  # as written in COPY (unquoted)
        self.quoted = quoted if quoted is not None else copy


def build_fmt(fmt, table, cols):
    """One %-format string for a row of `table` in dump format `fmt`. cols:
    literal values (encoded now, '%' escaped) or Ph placeholders."""
    enc = ENCODERS[fmt]
    parts = []
    for c in cols:
        if isinstance(c, Ph):
            parts.append(c.copy if fmt == "pg" else c.quoted)
        else:
            parts.append(enc(c).replace("%", "%%"))
    if fmt == "pg":
        return "\t".join(parts) + "\n"
    if fmt == "pg-inserts":
        return "INSERT INTO public.%s VALUES (%s);\n" % (table, ", ".join(parts))
    return "INSERT INTO %s VALUES(%s);\n" % (table, ",".join(parts))


# --------------------------------------------------------------------------
# Text banks (values as stored, unescaped).

NAMES = ["Alice Moore", "Bob Okafor", "Chloé Durand", "Dawid Nowak", "Eilidh MacLeod", "Farah Khan",
         "Grace O'Brien", "Hiroshi Tanaka", "Ines Álvarez", "Jonas Berg", "Kwame Mensah", "Leah Cohen"]
WARDS = ["A", "B", "C", "Rowan", "Willow", "Oak", "Maple", "Birch"]
PHRASES = [
    "Night staff to check bed rails every 2 hours",
    "Review medication administration record after missed evening dose",
    "Retrain agency staff on hoist use",
    "Fire exit door alarm reset and logged as tested",
    "Update care plan: \"fluid intake\" chart to be completed at each round",
    "Pressure-relieving mattress ordered; reposition 4-hourly meanwhile",
    "Sensor mat battery replaced; add to weekly maintenance checklist",
    "Family meeting held, resident's preferences recorded",
    "Kitchen to puree meals for resident on modified diet (IDDSI level 4)",
    "Call bell response times audited for a week",
    "Handover sheet redesigned so allergies are on page one",
    "GP review of PRN analgesia requested",
    "Café résumé — 漢字 🚑 check with the family",
    "Infection control: deep clean of room and en-suite",
    "Staffing rota adjusted: extra carer 20:00–08:00",
]
COURSES = ["Medication rounds", "Moving and handling", "Infection control refresher", "Fire safety",
           "Safeguarding adults (level 2)", "Dementia awareness", "Basic life support",
           "Food hygiene", "Record keeping & GDPR", "Falls prevention"]
TITLES = ["Fall in room %d", "Medication error on ward %s", "Door alarm fault", "Pressure sore found (grade %d)",
          "Visitor complaint: \"noise at night\"", "Choking episode at lunch", "Missing resident (found in garden)",
          "Bruise of unknown origin", "Hoist sling torn", "Wrong meal served", "Résidente tombée — 転倒"]
STATUSES = ["OPEN", "IN_PROGRESS", "VERIFIED", "CLOSED", None]


def capa_ref(r):
    return "CAPA-%d-%06d" % (2010 + r.below(16), r.below(M))


def some_text(r, mention_p):
    """A free-text value: 1-3 phrases, sometimes a CAPA- mention, sometimes
    awkward characters."""
    s = " ".join(r.pick(PHRASES) for _ in range(1 + r.below(3)))
    if r.chance(mention_p):
        s += r.pick([" (see %s)", "; tracked as %s.", " — was %s in the old system", ", follow-up of %s"]) % capa_ref(r)
    if r.chance(0.12):
        s += " in table " + CAPA
    k = r.below(16)
    if k == 0:
        s = s.replace(" ", "\t", 1)
    elif k == 1:
        s += "\nSecond line: signed off by " + r.pick(NAMES)
    elif k == 2:
        s = "Line one\r\nLine two\r" + s
    elif k == 3:
        s += " Path C:\\care\\plans\\r%d.docx" % r.below(500)
    elif k == 4:
        s += " ends with backslash \\"
    elif k == 5:
        s += "\nbefore\n\\.\nafter"
    elif k == 6:
        s += " it's \"quoted\""
    return s


def tags_value(r):
    k = r.below(8)
    if k == 0:
        return None
    if k == 1:
        return "{}"
    opts = ["falls", "\"night shift\"", "medication", "\"ward B\"", "hoist", "CAPA-1", capa_ref(r),
            "quote's", "\"dq \\\"x\\\"\"", "\"a,b\"", "\"back\\\\slash\"", "NULL", "\"\"", "ünïcode", "漢字"]
    return "{" + ",".join(r.pick(opts) for _ in range(1 + r.below(4))) + "}"


def meta_value(r, ref_hint):
    k = r.below(7)
    if k == 0:
        return None
    if k == 1:
        return "{}"
    if k == 2:
        return '{"ref":"%s","n":%d}' % (ref_hint, r.below(100))
    if k == 3:
        return '{"ref":"%s","quote":"she said \\"ok\\"","n":1}' % ref_hint
    if k == 4:
        return '{"ref":"LEGACY-%d","emoji":"🚑"}' % r.below(10000)
    if k == 5:
        return '{"list":[1,2,3],"owner":"%s"}' % r.pick(NAMES).replace("'", "")
    return '{"path":"C:\\\\temp\\\\new","ok":true}'


def date_value(r, p_null=0.3):
    if r.chance(p_null):
        return None
    return "20%02d-%02d-%02d" % (20 + r.below(7), 1 + r.below(12), 1 + r.below(28))


# Reference-number kinds: (value template, consumes). \x01 year, \x02 number
# (from the id), \x03 the id. Twenty slots: ten are CAPA-YYYY-NNNNNN.
REF_KINDS = [
    ("CAPA-\x01-\x02", True), ("LEGACY-\x03", False), ("CAPA-\x01-\x02", True), ("SAP-\x01-\x02", True),
    ("CAPA-\x01-\x02", True), ("CAPA-O'Neil-\x03", False), ("CAPA-\x01-\x02", True), ("LEGACY-\x03", False),
    ("CAPA-\x01-\x02", True), ("capa-\x01-\x02", True), ("CAPA-\x01-\x02", True), ("XCAPA-\x03", False),
    ("CAPA-\x01-\x02", True), ("CAPA-a\\b\x03", False), ("CAPA-\x01-\x02", True), ("SAP-\x01-\x02", True),
    ("CAPA-\x01-\x02", True), ("CAPA-CAPA-\x03", False), ("CAPA-\x01-\x02", True), ("LEGACY-\x03", False),
]


def ref_placeholder(fmt, kind):
    """The reference column as a placeholder consuming (year, num, id)."""
    tmpl, yn = REF_KINDS[kind]
    enc = ENCODERS[fmt](tmpl).replace("%", "%%")
    if yn:
        enc = enc.replace("\x01", "%d").replace("\x02", "%06d%.0s")
    else:
        enc = "%.0s%.0s" + enc.replace("\x03", "%d")
    return Ph(enc, enc)


# --------------------------------------------------------------------------
# Row variants per table. Each is a %-format taking the table's args tuple.

def capa_variants(fmt):
    # args: (id, year, num, id, incident_id, rca_id)
    r = Rng(1)
    out = []
    for k in range(NVAR):
        ref = ref_placeholder(fmt, k % 20)
        hint = capa_ref(r)
        desc = None if r.chance(0.05) else ("" if r.chance(0.03) else some_text(r, 0.3))
        notes = None if r.chance(0.35) else some_text(r, 0.6)
        tags = tags_value(r)
        att = r.pick([None, None, None, b"", b"\x00\x5c\x0a\xff", bytes(range(0, 256, 7)), b"\x5c\x5c"])
        meta = meta_value(r, hint)
        due = date_value(r)
        status = r.pick(STATUSES)
        rca = Ph("%d") if r.chance(0.6) else Ph("\\N%.0s", "NULL%.0s")
        if fmt == "sqlite":
            cols = [Ph("%d"), ref, desc, notes, att, meta, due, status, Ph("%d"), rca]
        else:
            cols = [Ph("%d"), ref, Ph("%d"), rca, desc, notes, tags, att, meta, due, status]
        out.append(build_fmt(fmt, CAPA, cols))
    return out


def incident_variants(fmt):
    # args: (id,)
    r = Rng(2)
    out = []
    for _ in range(NVAR):
        t = r.pick(TITLES)
        if "%d" in t:
            t = t % (1 + r.below(60))
        elif "%s" in t:
            t = t % r.pick(WARDS)
        if r.chance(0.2):
            t += " — see " + capa_ref(r)
        ts = "20%02d-%02d-%02d %02d:%02d:00" % (20 + r.below(7), 1 + r.below(12), 1 + r.below(28), r.below(24), r.below(60))
        k = r.below(6)
        if k == 0:
            details = None
        elif k == 1:
            details = '{"note": "see %s", "room": %d, "actions": ["%s"]}' % (CAPA, r.below(60), capa_ref(r))
        elif k == 2:
            details = '{"path": "C:\\\\meds", "ward": "%s", "quote": "he said \\"%s\\""}' % (r.pick(WARDS), capa_ref(r))
        elif k == 3:
            details = '{"ward": "%s", "witness": "%s", "injury": false}' % (r.pick(WARDS), r.pick(NAMES).replace("'", ""))
        elif k == 4:
            details = '{"room": %d, "actions": ["%s", "%s"], "reported_by": "night shift"}' % (r.below(60), capa_ref(r), capa_ref(r))
        else:
            details = '{"emoji": "🚑", "summary": "%s"}' % r.pick(PHRASES).replace('"', '\\"')
        if fmt == "sqlite":
            cols = [Ph("%d"), t, ts, details]
        else:
            cols = [Ph("%d"), t, ts + "+00", details]
        out.append(build_fmt(fmt, INCIDENT, cols))
    return out


def rca_variants(fmt):
    # args: (id, incident_id)
    r = Rng(3)
    out = []
    for _ in range(NVAR):
        k = r.below(4)
        if k == 0:
            f = "Sensor battery flat. Tracked as %s." % capa_ref(r)
        elif k == 1:
            f = "Two root causes:\n1. label print\n2. hand-over (%s)" % capa_ref(r)
        elif k == 2:
            f = None if r.chance(0.3) else some_text(r, 0.5)
        else:
            f = some_text(r, 0.8) + " " + some_text(r, 0.3)
        cols = [Ph("%d"), f, Ph("%d")] if fmt == "sqlite" else [Ph("%d"), Ph("%d"), f]
        out.append(build_fmt(fmt, RCA, cols))
    return out


def training_variants(fmt):
    # args: (id, staff_id, action_plan_id)
    r = Rng(4)
    out = []
    for _ in range(NVAR):
        k = r.below(6)
        if k == 0:
            c = "Falls awareness (from %s)" % capa_ref(r)
        elif k == 1:
            c = "CAPA-\tcoordinator induction"
        elif k == 2:
            c = "%s — required by %s" % (r.pick(COURSES), capa_ref(r))
        else:
            c = r.pick(COURSES)
        done = date_value(r, 0.25)
        plan = Ph("%d") if r.chance(0.4) else Ph("\\N%.0s", "NULL%.0s")
        if fmt == "sqlite":
            cols = [Ph("%d"), c, done, Ph("%d"), plan]
        else:
            cols = [Ph("%d"), Ph("%d"), c, done, plan]
        out.append(build_fmt(fmt, TRAINING, cols))
    return out


def audit_variants(fmt):
    # args: (id, action_id)
    r = Rng(5)
    out = []
    for _ in range(NVAR):
        k = r.below(4)
        if k == 0:
            m = "created %s in %s" % (capa_ref(r), CAPA)
        elif k == 1:
            m = "%s %s: OPEN -> CLOSED" % (CAPA, capa_ref(r))
        elif k == 2:
            m = "multi\nline; with 'quotes' about %s" % capa_ref(r)
        else:
            m = some_text(r, 0.5)
        out.append(build_fmt(fmt, AUDIT, [Ph("%d"), Ph("%d"), m]))
    return out


def simple_fmt(fmt, table, ncols):
    return build_fmt(fmt, table, [Ph("%d")] * ncols)


def user_fmt(fmt):
    return build_fmt(fmt, USER, [Ph("%d"), Ph("staff.%06d", "'staff.%06d'")])


# --------------------------------------------------------------------------
# Row generators: strings for ids [lo, hi).


class Plan:
    pass


def gen_rows(p, table, lo, hi):
    V = p.var.get(table)
    if table == CAPA:
        ni, nr, base = p.total[INCIDENT], p.total[RCA], 2010
        return [V[((i * 0x9E3779B1) >> 11) & 4095] % (i, base + i // M, i % M, i, 1 + i * 48271 % ni, 1 + i * 16807 % nr)
                for i in range(lo, hi)]
    if table == INCIDENT:
        return [V[((i * 0x9E3779B1) >> 11) & 4095] % (i,) for i in range(lo, hi)]
    if table == RCA:
        ni = p.total[INCIDENT]
        return [V[((i * 0x9E3779B1) >> 11) & 4095] % (i, 1 + i * 69621 % ni) for i in range(lo, hi)]
    if table == TRAINING:
        nu, nc = p.total[USER], p.total[CAPA]
        return [V[((i * 0x9E3779B1) >> 11) & 4095] % (i, 1 + i * 31 % nu, 1 + i * 40503 % nc) for i in range(lo, hi)]
    if table == AUDIT:
        nc = p.total[CAPA]
        return [V[((i * 0x9E3779B1) >> 11) & 4095] % (i, 1 + i * 40503 % nc) for i in range(lo, hi)]
    if table == ASSIGNED:
        # Row j assigns generated CAPA row (first + j - lo) once: unique pairs.
        f, c0, nu = p.assigned_fmt, p.first[CAPA] - p.first[ASSIGNED], p.total[USER]
        return [f % (j, j + c0, 1 + j * 7 % nu) for j in range(lo, hi)]
    if table == USER:
        f = p.user_fmt
        return [f % (i, i) for i in range(lo, hi)]
    raise KeyError(table)


GEN_TABLES = [USER, CAPA, ASSIGNED, INCIDENT, RCA, TRAINING]


def make_plan(fmt, size, capa_share, fixture_max):
    p = Plan()
    p.fmt = fmt
    p.var = {CAPA: capa_variants(fmt), INCIDENT: incident_variants(fmt), RCA: rca_variants(fmt),
             TRAINING: training_variants(fmt)}
    tables = list(GEN_TABLES)
    if fmt == "sqlite":
        p.var[AUDIT] = audit_variants(fmt)
        tables.append(AUDIT)
    p.tables = tables
    p.user_fmt = user_fmt(fmt)
    p.assigned_fmt = simple_fmt(fmt, ASSIGNED, 3)
    # Rows of other tables per CAPA row, before scaling to the share.
    ratio = {INCIDENT: 1.0, RCA: 0.8, TRAINING: 1.0, ASSIGNED: 0.6, AUDIT: 0.6}

    def avg(table, n_guess):
        p.total = {t: max(1, n_guess) for t in tables}
        p.first = {t: n_guess for t in tables}
        lo = max(1, n_guess // 2)
        rows = gen_rows(p, table, lo, lo + 4000)
        return sum(len(s.encode()) for s in rows) / len(rows)

    n_capa = max(1000, size // 600)
    for _ in range(2):  # second pass with ids of the right magnitude
        a = {t: avg(t, n_capa) for t in tables if t != USER}
        other = sum(ratio[t] * a[t] for t in tables if t not in (CAPA, USER))
        scale = a[CAPA] * (1 - capa_share) / capa_share / other
        n_capa = max(100, int(size / (a[CAPA] / capa_share)))
    counts = {CAPA: n_capa, USER: max(50, min(5000, n_capa // 500))}
    for t in tables:
        if t not in counts:
            counts[t] = max(10, int(n_capa * ratio[t] * scale))
    counts[ASSIGNED] = min(counts[ASSIGNED], n_capa)
    p.count = counts
    p.first = {t: fixture_max.get(t, 0) + 1 for t in tables}
    p.total = {t: fixture_max.get(t, 0) + counts[t] for t in tables}
    return p


# --------------------------------------------------------------------------
# Fixture surgery.

def read_fixture(fmt):
    with open(FIXTURES[fmt], encoding="utf-8") as f:
        return f.read()


def pg_fixture_max(text):
    m = {}
    for seq, n in re.findall(r"setval\('public\.(\w+)_id_seq', (\d+), true\)", text):
        m[seq] = int(n)
    return m


def sqlite_fixture_max(text):
    m = {t: int(n) for t, n in re.findall(r"^INSERT INTO sqlite_sequence VALUES\('(\w+)',(\d+)\);$", text, re.M)}
    ids = [int(n) for n in re.findall(r"^INSERT INTO audit_log VALUES\((\d+),", text, re.M)]
    m[AUDIT] = max(ids) if ids else 0
    return m


def pg_pieces(text, fmt, p):
    """Splits the pg fixture into [str | table-name] where a table name marks
    where that table's generated rows go."""
    pieces = []
    pos = 0
    for m in re.finditer(r"^-- Data for Name: (\w+); Type: TABLE DATA;[^\n]*\n--\n\n", text, re.M):
        table = m.group(1)
        end = text.index("\n\n\n--\n", m.end()) + 1  # just past the block's last line
        if fmt == "pg":
            at = end - len("\\.\n")
            assert text[at:end] == "\\.\n", table
        else:
            at = end
        pieces.append(text[pos:at])
        if table in p.tables:
            pieces.append((table,))
        pos = at
    rest = text[pos:]

    def setval(mm):
        table = mm.group(1)
        n = p.total.get(table, int(mm.group(2)))
        return "setval('public.%s_id_seq', %d, true)" % (table, n)

    pieces.append(re.sub(r"setval\('public\.(\w+)_id_seq', (\d+), true\)", setval, rest))
    return pieces


def sqlite_pieces(text, p):
    pieces = []
    cur = []
    lines = text.splitlines(keepends=True)
    for n, line in enumerate(lines):
        m = re.match(r"INSERT INTO sqlite_sequence VALUES\('(\w+)',(\d+)\);$", line)
        if m and m.group(1) in p.total:
            line = "INSERT INTO sqlite_sequence VALUES('%s',%d);\n" % (m.group(1), p.total[m.group(1)])
        cur.append(line)
        m = re.match(r"INSERT INTO (\w+) VALUES\(", line)
        if m and m.group(1) in p.tables:
            nxt = lines[n + 1] if n + 1 < len(lines) else ""
            if not nxt.startswith("INSERT INTO %s VALUES(" % m.group(1)):
                pieces.append("".join(cur))
                cur = []
                pieces.append((m.group(1),))
    pieces.append("".join(cur))
    return pieces


def generate(fmt, size_mib, out_path, capa_share=0.5, quiet=False):
    started = time.time()
    text = read_fixture(fmt)
    fixture_max = sqlite_fixture_max(text) if fmt == "sqlite" else pg_fixture_max(text)
    size = int(size_mib * (1 << 20))
    p = make_plan(fmt, max(0, size - len(text.encode())), capa_share, fixture_max)
    pieces = sqlite_pieces(text, p) if fmt == "sqlite" else pg_pieces(text, fmt, p)
    assert sorted(x[0] for x in pieces if isinstance(x, tuple)) == sorted(p.tables), pieces
    written = {}
    out = sys.stdout.buffer if out_path == "-" else open(out_path + ".part", "wb", buffering=0)
    total = 0
    try:
        for piece in pieces:
            if isinstance(piece, str):
                b = piece.encode()
                out.write(b)
                total += len(b)
                continue
            table = piece[0]
            lo, hi = p.first[table], p.total[table] + 1
            tb = 0
            while lo < hi:
                n = min(BLOCK_ROWS, hi - lo)
                b = "".join(gen_rows(p, table, lo, lo + n)).encode()
                out.write(b)
                tb += len(b)
                lo += n
            written[table] = tb
            total += tb
    finally:
        if out_path != "-":
            out.close()
    if out_path != "-":
        os.replace(out_path + ".part", out_path)
    if not quiet:
        secs = time.time() - started
        print("gen_dump: %s %s: %d bytes (%.1f MiB) in %.1f s" % (fmt, out_path, total, total / (1 << 20), secs),
              file=sys.stderr)
        for t in p.tables:
            print("  %-58s %10d rows %6.1f%%" % (t, p.count[t], 100.0 * written[t] / max(1, total)), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", choices=sorted(FIXTURES), required=True)
    ap.add_argument("--size-mib", type=float, required=True, help="approximate output size in MiB")
    ap.add_argument("--out", required=True, help="output file (- for stdout); written as FILE.part, then renamed")
    ap.add_argument("--capa-share", type=float, default=0.5,
                    help="fraction of the generated bytes in the CAPA table (default 0.5)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    if not 0.05 <= a.capa_share <= 0.95:
        ap.error("--capa-share must be within 0.05..0.95")
    generate(a.format, a.size_mib, a.out, a.capa_share, a.quiet)


if __name__ == "__main__":
    main()
