/**
 * Who is asking: the authenticated {@link io.refundbroker.caller.Principal} (client, {@link
 * io.refundbroker.caller.Role}, store, chain), the {@link io.refundbroker.caller.Caller} a service
 * is handed (principal and request id) and the {@link io.refundbroker.caller.Actor} an audit event
 * records. A leaf: it depends only on {@code error}, and every feature may use it.
 */
package io.refundbroker.caller;
