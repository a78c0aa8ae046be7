package io.refundbroker.order;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.error.ProblemException;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.store.Store;
import io.refundbroker.testing.MutableClock;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LookupQuotaTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
  private final LookupQuota quota = new LookupQuota(6, clock);
  private final Principal till = new Principal("cl_till", "till", Role.STORE, "bergen", "acme");
  private final Store oslo = store("oslo");

  private static Store store(String id) {
    return new Store(id, "acme", id, "123456", VippsApi.EPAYMENT, null, null, false, null, null);
  }

  private static long retryAfter(Future<Void> refused) {
    assertThat(refused.failed()).isTrue();
    ProblemException problem = (ProblemException) refused.cause();
    assertThat(problem.status()).isEqualTo(429);
    assertThat(problem.code()).isEqualTo("TOO_MANY_LOOKUPS");
    return problem.extensions().getLong("retryAfterSeconds");
  }

  @Test
  void aBurstOfTheMinutesQuotaThenOneLookUpPerTick() {
    for (int i = 0; i < 6; i++) {
      assertThat(quota.take(till, oslo).succeeded()).as("look-up %d", i + 1).isTrue();
    }
    assertThat(retryAfter(quota.take(till, oslo))).isEqualTo(10);
    clock.advance(Duration.ofSeconds(4));
    assertThat(retryAfter(quota.take(till, oslo))).isEqualTo(6);
    clock.advance(Duration.ofSeconds(6));
    assertThat(quota.take(till, oslo).succeeded()).isTrue();
    assertThat(quota.take(till, oslo).failed()).isTrue();
    clock.advance(Duration.ofHours(1));
    for (int i = 0; i < 6; i++) {
      assertThat(quota.take(till, oslo).succeeded()).as("refilled to the burst, no more").isTrue();
    }
    assertThat(quota.take(till, oslo).failed()).isTrue();
  }

  @Test
  void ownStoreLookUpsAndOtherClientsAreNotCharged() {
    for (int i = 0; i < 6; i++) {
      quota.take(till, oslo);
    }
    assertThat(quota.take(till, store("bergen")).succeeded()).isTrue();
    Principal other = new Principal("cl_other", "other", Role.STORE, "bergen", "acme");
    assertThat(quota.take(other, oslo).succeeded()).isTrue();
  }

  @Test
  void aClockThatStepsBackNeverRefills() {
    for (int i = 0; i < 6; i++) {
      quota.take(till, oslo);
    }
    clock.advance(Duration.ofMinutes(-5));
    assertThat(quota.take(till, oslo).failed()).isTrue();
  }
}
