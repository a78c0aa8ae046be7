package io.refundbroker.credential.vault;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;

/**
 * Looks at {@code VAULT_TOKEN_FILE} every {@link #PERIOD} and lets the session adopt the token a
 * Vault Agent wrote there ({@link VaultSession#checkTokenFile()}), one check at a time. A check
 * only stats the file; it is read when it changed.
 */
final class TokenFileWatcher extends VerticleBase {
  static final Duration PERIOD = Duration.ofSeconds(1);

  private final VaultSession session;
  private long timer = -1;
  private Future<?> running = Future.succeededFuture();

  TokenFileWatcher(VaultSession session) {
    this.session = session;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(PERIOD.toMillis(), id -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return running.otherwiseEmpty();
  }

  private void tick() {
    if (running.isComplete()) {
      running = session.checkTokenFile();
    }
  }
}
