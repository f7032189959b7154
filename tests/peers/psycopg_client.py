"""psycopg 3 through holdpoint's PostgreSQL proxy: server-side binding (the extended
protocol), a prepared statement, binary results, and a refusal that aborts the
transaction as PostgreSQL would. Prints one line per check; the test reads them."""

import sys

import psycopg

conninfo = sys.argv[1]
with psycopg.connect(conninfo) as conn:
    row = conn.execute("SELECT name FROM t WHERE id = %s", (1,)).fetchone()
    print("bound", row[0])
    for _ in range(6):  # psycopg prepares a statement after its fifth run
        row = conn.execute("SELECT id + %s FROM t WHERE id = 1", (41,)).fetchone()
    print("prepared", row[0])
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id, name FROM t WHERE id = %s", (1,))
        print("binary", cur.fetchone())
    try:
        conn.execute("GRANT ALL ON t TO PUBLIC")
    except psycopg.errors.InsufficientPrivilege as e:
        print("refused", e.sqlstate, "act_" in str(e))
    try:
        conn.execute("SELECT 1")
    except psycopg.errors.InFailedSqlTransaction as e:
        print("aborted", e.sqlstate)
    conn.rollback()
    print("after", conn.execute("SELECT count(*) FROM t").fetchone()[0])
