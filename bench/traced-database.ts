import type { Database, Lease, Row, Sql } from '../src/store/index.js';

export interface StatementStats {
  count: number;
  ms: number;
}

const TRANSACTION = 'transaction (BEGIN..COMMIT, all of it)';

/** One gap-safe read of the log by a subscription runner (performance.now() times). */
export interface LogRead {
  start: number;
  end: number;
  rows: number;
}

/**
 * A Database that passes everything through and, on the connections of leases (where a
 * subscription runner does all its work), records what each statement costs and which
 * gap-safe read first returned each event. For the pipeline benchmark: it splits
 * commit-to-handler lag into waiting for a read, the read, and queueing behind earlier
 * events, and shows which statements a runner spends its round trips on. Statements of
 * writers (pool queries and transactions) are not traced.
 */
export class TracedDatabase implements Database {
  readonly statements = new Map<string, StatementStats>();
  readonly reads: LogRead[] = [];
  /** Event id -> the first read that returned it. */
  readonly firstRead = new Map<string, LogRead>();
  /** Time the runner spent waiting on its connection: statements outside a transaction plus whole transactions. */
  busyMs = 0;
  /** LISTEN hints received (PostgreSQL: also this process's own NOTIFYs, sent after its commits). */
  notifications = 0;

  constructor(private readonly inner: Database) {}

  /** Round trips of the runner so far: each statement, and BEGIN and COMMIT of each transaction. */
  roundTrips(): number {
    let n = 0;
    for (const [label, s] of this.statements) n += label === TRANSACTION ? 2 * s.count : s.count;
    return n;
  }

  get kind(): Database['kind'] {
    return this.inner.kind;
  }

  query<T extends object = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return this.inner.query<T>(text, params);
  }

  exec(script: string): Promise<void> {
    return this.inner.exec(script);
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.inner.transaction(fn);
  }

  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, (payload) => {
      this.notifications++;
      onNotify(payload);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async tryLease(key: string): Promise<Lease | null> {
    const lease = await this.inner.tryLease(key);
    if (!lease) return null;
    return {
      ...this.traced(lease, true),
      lost: lease.lost,
      release: () => lease.release(),
      transaction: async (fn) => {
        const started = performance.now();
        try {
          return await lease.transaction((tx) => fn(this.traced(tx, false)));
        } finally {
          const ms = performance.now() - started;
          this.busyMs += ms;
          this.count(TRANSACTION, ms);
        }
      },
    };
  }

  private traced(sql: Sql, topLevel: boolean): Sql {
    return {
      exec: (script) => sql.exec(script),
      query: async <T extends object = Row>(text: string, params?: readonly unknown[]) => {
        const started = performance.now();
        const rows = await sql.query<T>(text, params);
        const ended = performance.now();
        const label = statementLabel(text);
        this.count(label, ended - started);
        if (topLevel) this.busyMs += ended - started;
        if (label === 'SELECT events' && text.includes('events_horizon')) this.sawRead(rows, started, ended);
        return rows;
      },
    };
  }

  private sawRead(rows: readonly object[], start: number, end: number): void {
    const read = { start, end, rows: rows.length };
    this.reads.push(read);
    for (const row of rows) {
      const id = (row as { id?: unknown }).id;
      if (typeof id === 'string' && !this.firstRead.has(id)) this.firstRead.set(id, read);
    }
  }

  private count(label: string, ms: number): void {
    const s = this.statements.get(label) ?? { count: 0, ms: 0 };
    s.count++;
    s.ms += ms;
    this.statements.set(label, s);
  }
}

/** "UPDATE subscriptions SET holder", "SELECT replay_jobs": the verb, the table, the first column set. */
function statementLabel(text: string): string {
  const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
  const table = /\b(?:FROM|INTO|UPDATE)\s+(\w+)/i.exec(text)?.[1] ?? '';
  const set = verb === 'UPDATE' ? /\bSET\s+(\w+)/i.exec(text)?.[1] : undefined;
  return [verb, table, set ? `SET ${set}` : ''].filter(Boolean).join(' ');
}
