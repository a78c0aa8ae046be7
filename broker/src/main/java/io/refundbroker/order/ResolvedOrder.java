package io.refundbroker.order;

import io.refundbroker.store.Store;

/**
 * The store an order id belongs to, found within the caller's chain.
 *
 * @param origin the store where the payment was taken
 * @param order the registered order, or null when it was resolved by the store's order-id prefix or
 *     chosen explicitly and the broker has not seen it yet
 */
public record ResolvedOrder(Store origin, String orderId, Order order) {}
