package io.refundbroker.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The environment of a child broker in the crash and kill tests: its own database and data
 * directory, a known admin token, the local credential backend, the Vipps sandbox with one attempt
 * per call (so what Vipps may have received is left to the reconciler) and a reconciler that runs
 * every 200 ms.
 */
public final class ChildEnv {
  private ChildEnv() {}

  /**
   * What every child broker of the tests needs: its own database and data directory, a known admin
   * token and the local credential backend.
   *
   * @return a mutable map, for a test to add to
   */
  public static Map<String, String> base(TestDatabase db, Path dataDir, String adminToken) {
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", TestDatabase.environmentValue(db.appUrl()));
    env.put("DATABASE_MIGRATION_URL", TestDatabase.environmentValue(db.ownerUrl()));
    env.put("BROKER_DATA_DIR", dataDir.toString());
    env.put("BROKER_ADMIN_TOKEN", adminToken);
    env.put("CREDENTIALS_BACKEND", "local");
    return env;
  }

  /**
   * {@link #base} plus the Vipps sandbox and the reconciler as the crash and kill tests use them.
   *
   * @param vippsReadTimeout how long a Vipps call may go unanswered (longer than any delay the test
   *     injects on purpose)
   * @return a mutable map, for a test to add to
   */
  public static Map<String, String> of(
      TestDatabase db,
      Path dataDir,
      String adminToken,
      TestSandbox vipps,
      Duration vippsReadTimeout) {
    Map<String, String> env = base(db, dataDir, adminToken);
    env.put("VIPPS_BASE_URL", vipps.baseUrl());
    env.put("VIPPS_CONNECT_TIMEOUT", "1s");
    env.put("VIPPS_READ_TIMEOUT", vippsReadTimeout.toSeconds() + "s");
    env.put("VIPPS_MAX_ATTEMPTS", "1");
    env.put("VIPPS_RETRY_BACKOFF", "5ms");
    env.put("RECONCILER_INTERVAL", "200ms");
    env.put("BROKER_SHUTDOWN_GRACE", "2s");
    return env;
  }
}
