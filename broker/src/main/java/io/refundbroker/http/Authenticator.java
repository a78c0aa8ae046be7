package io.refundbroker.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** Builds the handler that authenticates a request and checks its role (401, then 403). */
public interface Authenticator {

  /**
   * @param roles the role names an operation accepts (its {@code x-roles} in the contract)
   * @throws IllegalArgumentException if a role name is unknown
   */
  Handler<RoutingContext> requireAnyOf(Set<String> roles);
}
