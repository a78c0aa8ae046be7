package io.refundbroker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/**
 * A STORE client is bound to exactly one store and no other role is bound to one: the rule is
 * checked before anything is issued or enrolled (the service here has no database and no CA, so a
 * request that got past the rule would fail otherwise).
 */
class ClientBindingTest {
  private static final Caller ADMIN =
      new Caller(new Principal("cl_admin", "admin", Role.ADMIN, null, null), "req-1");
  private final ClientService clients = new ClientService(null, null, null, null, null);

  @Test
  void aStoreClientMustNameItsStore() {
    ProblemException misfit = ClientService.storeMisfit(Role.STORE, null);
    assertThat(misfit.status()).isEqualTo(400);
    assertThat(misfit.code()).isEqualTo("STORE_ID_REQUIRED");
    assertThat(ClientService.storeMisfit(Role.STORE, "oslo")).isNull();
  }

  @Test
  void noOtherRoleIsBoundToAStore() {
    for (Role role : new Role[] {Role.ADMIN, Role.AUDITOR}) {
      ProblemException misfit = ClientService.storeMisfit(role, "oslo");
      assertThat(misfit.code()).as(role.name()).isEqualTo("STORE_ID_NOT_ALLOWED");
      assertThat(misfit.detail()).contains("role " + role.name());
      assertThat(ClientService.storeMisfit(role, null)).as(role.name()).isNull();
    }
  }

  @Test
  void aMisfitIsRefusedBeforeATokenOrCertificateIsMade() {
    assertThat(code(clients.issue(ADMIN, "till", Role.STORE, null))).isEqualTo("STORE_ID_REQUIRED");
    assertThat(code(clients.issue(ADMIN, "admin 2", Role.ADMIN, "oslo")))
        .isEqualTo("STORE_ID_NOT_ALLOWED");
    assertThat(code(clients.enrol(ADMIN, "till", Role.STORE, null, "csr")))
        .isEqualTo("STORE_ID_REQUIRED");
    assertThat(code(clients.enrol(ADMIN, "auditor", Role.AUDITOR, "oslo", "csr")))
        .isEqualTo("STORE_ID_NOT_ALLOWED");
  }

  private static String code(Future<?> refused) {
    assertThat(refused.failed()).isTrue();
    return ((ProblemException) refused.cause()).code();
  }
}
