package io.refundbroker.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * Builds the handler that authenticates a request and checks its role (401, then 403). It runs
 * before the body is read (see {@link Api}): it decides from the request head alone — a header, the
 * connection's TLS session — and never reads the body, which is held back until it calls {@code
 * ctx.next()}. Several ways of identifying a caller (a bearer token, a client certificate) can sit
 * behind one implementation.
 */
public interface Authenticator {

  /**
   * @param roles the role names an operation accepts (its {@code x-roles} in the contract)
   * @throws IllegalArgumentException if a role name is unknown
   */
  Handler<RoutingContext> requireAnyOf(Set<String> roles);
}
