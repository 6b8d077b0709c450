/**
 * The outbound webhook side of the store: subscriptions (`POST
 * /un/events/subscribe`) and, per subscription, the ids of the `http` tasks
 * that delivered its events (newest last), so `GET
 * /un/subscriptions/:id/deliveries` reads each one's status from the tasks.
 */

/** A webhook subscription as stored. */
export interface StoredSubscription {
  id: string;
  /** Event type pattern (`file.*`, `**`). */
  pattern: string;
  url: string;
  /** `whsec_<base64>`: the Standard Webhooks signing secret. */
  secret: string;
  headers: Record<string, string>;
  /** CEL condition over `event` (`lib/expressions`); absent: every matching event. */
  where?: string;
  /** Deliver one at a time, in event order. */
  ordered: boolean;
  maxAttempts?: number;
  enabled: boolean;
  /** Deliveries that failed for good since the last one that succeeded. */
  failures: number;
  /** Why it was switched off (auto-disable), when it was. */
  disabledReason?: string;
  createdAt: number;
  updatedAt: number;
}

/** Subscriptions and their delivery task ids. */
export interface SubscriptionStore {
  /** Every subscription, oldest first. */
  listSubscriptions(): Promise<StoredSubscription[]>;
  getSubscription(id: string): Promise<StoredSubscription | null>;
  /** Creates or replaces a subscription by id. */
  putSubscription(subscription: StoredSubscription): Promise<void>;
  /**
   * Changes one subscription in one atomic step, so a change made elsewhere in
   * between (a delivery's outcome, another PATCH, another process) is never
   * overwritten: `change` gets the subscription as stored and returns it as it
   * should be, or null to leave it. Null when there is no such subscription.
   * `change` may run more than once (on Redis, again when another write came
   * first), so it must not have side effects.
   */
  updateSubscription(id: string, change: SubscriptionEdit): Promise<SubscriptionUpdate | null>;
  /** Removes a subscription and its delivery list; true when it existed. */
  deleteSubscription(id: string): Promise<boolean>;
  /** Notes a delivery task; only the newest {@link MAX_DELIVERIES} are kept. */
  addDelivery(subscriptionId: string, taskId: string): Promise<void>;
  /** Delivery task ids, newest first, at most `limit`. */
  listDeliveries(subscriptionId: string, limit: number): Promise<string[]>;
}

/** A change of one subscription: as stored → as it should be (null: leave it). */
export type SubscriptionEdit = (current: StoredSubscription) => StoredSubscription | null;

/** What {@link SubscriptionStore.updateSubscription} did: the subscription before and after. */
export interface SubscriptionUpdate {
  before: StoredSubscription;
  /** As stored now (`before` itself when the change left it). */
  after: StoredSubscription;
}

/** Delivery task ids kept per subscription. */
export const MAX_DELIVERIES = 10_000;
