/**
 * How the `http` handler finds the secret a delivery is signed with: by its
 * subscription's id, from the dispatcher of this process (which knows the
 * store). A delivery task's payload names the subscription, never the
 * secret, so reading tasks over the API does not reveal it.
 */

/** Finds a subscription's secret; null when the subscription no longer exists. */
export type SecretResolver = (subscriptionId: string) => Promise<string | null>;

let current: SecretResolver | null = null;

/**
 * Makes `resolver` the one deliveries sign with (the process's dispatcher
 * does this when it starts); returns how to take it back.
 */
export function useSecretResolver(resolver: SecretResolver): () => void {
  current = resolver;
  return () => {
    if (current === resolver) current = null;
  };
}

/**
 * The secret of a subscription: null when it no longer exists, undefined
 * when this process has no dispatcher (an isolated worker, a bare handler
 * map), so the caller can say why it cannot sign.
 */
export function subscriptionSecret(subscriptionId: string): Promise<string | null> | undefined {
  return current?.(subscriptionId);
}
