/**
 * Webhook subscriptions and their delivery task ids on the embedded store
 * ({@link SqliteSubscriptions}). Its two tables are made here, when the store
 * opens (`CREATE TABLE IF NOT EXISTS`), so the feature owns its schema.
 */

import {
  MAX_DELIVERIES,
  type StoredSubscription,
  type SubscriptionEdit,
  type SubscriptionStore,
  type SubscriptionUpdate,
} from "../subscription-store.ts";
import type { SqliteRw } from "./access.ts";
import { json, type Sql, text } from "./statements.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscription_deliveries (
  subscription_id TEXT NOT NULL,
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS subscription_deliveries_by_sub
  ON subscription_deliveries(subscription_id, seq);
`;

/** The embedded {@link SubscriptionStore}: each call one read or one group-committed write. */
export class SqliteSubscriptions implements SubscriptionStore {
  constructor(private readonly rw: SqliteRw & { readonly sql: Sql }) {
    rw.sql.exec(SCHEMA);
  }

  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.rw.read((sql) =>
      sql.all("SELECT body FROM subscriptions ORDER BY created_at, id")
        .map((row) => json<StoredSubscription>(row, "body")!)
    );
  }

  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.rw.read((sql) => {
      const row = sql.get("SELECT body FROM subscriptions WHERE id = :id", { id });
      return row ? json<StoredSubscription>(row, "body") : null;
    });
  }

  putSubscription(s: StoredSubscription): Promise<void> {
    return this.rw.write((sql) => {
      sql.run(
        "INSERT INTO subscriptions (id, created_at, body) VALUES (:id, :createdAt, :body) " +
          "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
        { id: s.id, createdAt: s.createdAt, body: JSON.stringify(s) },
      );
    }, true);
  }

  updateSubscription(id: string, change: SubscriptionEdit): Promise<SubscriptionUpdate | null> {
    // Read and written in one transaction: nothing of this process comes in between.
    return this.rw.write((sql) => {
      const row = sql.get("SELECT body FROM subscriptions WHERE id = :id", { id });
      if (!row) return null;
      const before = json<StoredSubscription>(row, "body")!;
      const next = change(before);
      if (next === null) return { before, after: before };
      const after = { ...next, id };
      sql.run("UPDATE subscriptions SET body = :body WHERE id = :id", {
        id,
        body: JSON.stringify(after),
      });
      return { before, after };
    }, true);
  }

  deleteSubscription(id: string): Promise<boolean> {
    return this.rw.write((sql) => {
      sql.run("DELETE FROM subscription_deliveries WHERE subscription_id = :id", { id });
      return sql.run("DELETE FROM subscriptions WHERE id = :id", { id }) > 0;
    });
  }

  addDelivery(subscriptionId: string, taskId: string): Promise<void> {
    return this.rw.write((sql) => {
      sql.run(
        "INSERT INTO subscription_deliveries (subscription_id, task_id) VALUES (:sub, :task)",
        { sub: subscriptionId, task: taskId },
      );
      // Trimmed now and then rather than on every insert.
      if (Math.random() < 0.01) {
        sql.run(
          "DELETE FROM subscription_deliveries WHERE subscription_id = :sub AND seq <= " +
            "(SELECT seq FROM subscription_deliveries WHERE subscription_id = :sub " +
            "ORDER BY seq DESC LIMIT 1 OFFSET :keep)",
          { sub: subscriptionId, keep: MAX_DELIVERIES },
        );
      }
    });
  }

  listDeliveries(subscriptionId: string, limit: number): Promise<string[]> {
    return this.rw.read((sql) =>
      sql.all(
        "SELECT task_id FROM subscription_deliveries WHERE subscription_id = :sub " +
          "ORDER BY seq DESC LIMIT :limit",
        { sub: subscriptionId, limit },
      ).map((row) => text(row, "task_id"))
    );
  }
}
