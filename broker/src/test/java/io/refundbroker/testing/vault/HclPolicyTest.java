package io.refundbroker.testing.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The policy parser and Vault's matching rules, and what the shipped policies grant. */
class HclPolicyTest {

  private static HclPolicy.Acl acl(String... files) throws IOException {
    List<HclPolicy> policies =
        java.util.Arrays.stream(files)
            .map(
                f -> {
                  try {
                    return HclPolicy.parse(
                        f, Files.readString(VaultDouble.POLICY_DIR.resolve(f + ".hcl")));
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                })
            .toList();
    return new HclPolicy.Acl(policies, false);
  }

  @Test
  void brokerPolicyGrantsExactlyWhatTheBrokerCalls() throws IOException {
    HclPolicy.Acl broker = acl("broker");
    assertThat(broker.capabilities("refund-broker/data/salesunits/123456"))
        .containsExactlyInAnyOrder("create", "read", "update");
    assertThat(broker.capabilities("refund-broker/metadata/salesunits/123456"))
        .containsExactlyInAnyOrder("read", "update");
    assertThat(broker.capabilities("transit/sign/refund-broker-audit")).containsExactly("update");
    assertThat(broker.capabilities("transit/keys/refund-broker-audit")).containsExactly("read");
    for (String path :
        List.of(
            "refund-broker/delete/salesunits/1",
            "refund-broker/destroy/salesunits/1",
            "refund-broker/undelete/salesunits/1",
            "refund-broker/config",
            "refund-broker/data/other/1",
            "secret/data/salesunits/1",
            "sys/mounts",
            "transit/sign/other-key",
            "transit/keys/refund-broker-audit/rotate",
            "auth/token/create")) {
      assertThat(broker.capabilities(path)).as(path).isEmpty();
    }
    for (String path :
        List.of(
            "refund-broker/data/salesunits/1",
            "refund-broker/metadata/salesunits/1",
            "refund-broker/metadata/salesunits/")) {
      assertThat(broker.capabilities(path)).as(path).doesNotContain("delete", "list", "patch");
    }
  }

  @Test
  void brokerPolicyWritesNothingButCustomMetadata() throws IOException {
    HclPolicy.Acl broker = acl("broker");
    String metadata = "refund-broker/metadata/salesunits/123456";
    assertThat(broker.allows(metadata, "update", Map.of("custom_metadata", Map.of("a", "b"))))
        .isTrue();
    assertThat(broker.allows(metadata, "read", Map.of())).isTrue();
    for (String setting : List.of("max_versions", "delete_version_after", "cas_required")) {
      assertThat(broker.allows(metadata, "update", Map.of(setting, 1))).as(setting).isFalse();
      assertThat(
              broker.allows(metadata, "update", Map.of("custom_metadata", Map.of(), setting, "1")))
          .as("custom_metadata with " + setting)
          .isFalse();
    }
    // the data path carries no constraint: ?version=N reads and CAS writes pass
    assertThat(
            broker.allows("refund-broker/data/salesunits/123456", "read", Map.of("version", "3")))
        .isTrue();
    assertThat(
            broker.allows(
                "refund-broker/data/salesunits/123456",
                "update",
                Map.of("data", Map.of(), "options", Map.of("cas", 2))))
        .isTrue();
  }

  @Test
  void parameterConstraintsAreCheckedLikeVault() {
    HclPolicy policy =
        HclPolicy.parse(
            "t",
            """
            path "kv/allowed" {
              capabilities = ["create", "update", "read", "delete"]
              allowed_parameters = {
                "Name" = []
                color = ["red", "gr*"]
              }
            }
            path "kv/denied" {
              capabilities = ["update"]
              denied_parameters = { "secret" = [], "mode" = ["*-unsafe"] }
            }
            path "kv/required" {
              capabilities = ["update"]
              required_parameters = ["id"]
              allowed_parameters = { "*" = [] }
            }
            path "kv/nothing" {
              capabilities = ["update"]
              denied_parameters = { "*" = [] }
            }
            """);
    HclPolicy.Acl acl = new HclPolicy.Acl(List.of(policy), false);
    assertThat(acl.allows("kv/allowed", "update", Map.of("name", "anything"))).isTrue();
    assertThat(acl.allows("kv/allowed", "update", Map.of("color", "green"))).isTrue();
    assertThat(acl.allows("kv/allowed", "update", Map.of("color", "red,grey"))).isTrue();
    assertThat(acl.allows("kv/allowed", "update", Map.of("color", List.of("red", "blue"))))
        .isFalse();
    assertThat(acl.allows("kv/allowed", "update", Map.of("color", "blue"))).isFalse();
    assertThat(acl.allows("kv/allowed", "update", Map.of("size", 1))).isFalse();
    assertThat(acl.allows("kv/allowed", "update", Map.of())).isTrue();
    // delete and list are not subject to parameter checks in Vault
    assertThat(acl.allows("kv/allowed", "delete", Map.of("size", 1))).isTrue();
    assertThat(acl.allows("kv/denied", "update", Map.of("secret", "x"))).isFalse();
    assertThat(acl.allows("kv/denied", "update", Map.of("mode", "fast-unsafe"))).isFalse();
    assertThat(acl.allows("kv/denied", "update", Map.of("mode", "safe", "other", 1))).isTrue();
    assertThat(acl.allows("kv/required", "update", Map.of("other", 1))).isFalse();
    assertThat(acl.allows("kv/required", "update", Map.of("id", 1, "other", 1))).isTrue();
    assertThat(acl.allows("kv/nothing", "update", Map.of("a", 1))).isFalse();
    assertThat(acl.allows("kv/nothing", "update", Map.of())).isTrue();

    // identical patterns of two policies: constraints merge, an empty list (any value) wins
    HclPolicy wider =
        HclPolicy.parse(
            "u",
            """
            path "kv/allowed" {
              capabilities = ["update"]
              allowed_parameters = { "color" = [] }
            }
            """);
    HclPolicy.Acl merged = new HclPolicy.Acl(List.of(policy, wider), false);
    assertThat(merged.allows("kv/allowed", "update", Map.of("color", "blue"))).isTrue();
    assertThat(merged.allows("kv/allowed", "update", Map.of("size", 1))).isFalse();
  }

  @Test
  void securityAdminSeesMetadataButNeverData() throws IOException {
    HclPolicy.Acl admin = acl("security-admin");
    assertThat(admin.capabilities("refund-broker/metadata/salesunits/1"))
        .containsExactlyInAnyOrder("read", "list");
    assertThat(admin.capabilities("refund-broker/metadata/salesunits/")).containsExactly("list");
    assertThat(admin.capabilities("refund-broker/data/salesunits/1")).isEmpty();
    assertThat(admin.capabilities("refund-broker/data/anything")).isEmpty();
    // deny wins even on a token that also carries the broker's grant
    assertThat(acl("broker", "security-admin").capabilities("refund-broker/data/salesunits/1"))
        .isEmpty();
  }

  @Test
  void auditorPolicyIsEmpty() throws IOException {
    assertThat(
            HclPolicy.parse(
                    "auditor", Files.readString(VaultDouble.POLICY_DIR.resolve("auditor.hcl")))
                .rules())
        .isEmpty();
    assertThat(acl("auditor").capabilities("refund-broker/metadata/salesunits/1")).isEmpty();
  }

  @Test
  void mostSpecificPatternWinsLikeVault() {
    HclPolicy policy =
        HclPolicy.parse(
            "t",
            """
            # comment
            path "secret/*" { capabilities = ["read"] } // another
            path "secret/+/foo" { capabilities = ["list"] }
            path "secret/a/foo" { capabilities = ["update"] }
            /* block */
            path "secret/a/*" { capabilities = ["create"] }
            path "secret/+/+/bar" { capabilities = ["delete"] }
            path "secret/x/+/bar" { capabilities = ["sudo"] }
            """);
    HclPolicy.Acl acl = new HclPolicy.Acl(List.of(policy), false);
    assertThat(acl.capabilities("secret/a/foo")).isEqualTo(Set.of("update"));
    assertThat(acl.capabilities("secret/b/foo")).isEqualTo(Set.of("list"));
    assertThat(acl.capabilities("secret/a/other")).isEqualTo(Set.of("create"));
    assertThat(acl.capabilities("secret/b/other")).isEqualTo(Set.of("read"));
    assertThat(acl.capabilities("secret/x/y/bar")).isEqualTo(Set.of("sudo"));
    assertThat(acl.capabilities("secret/z/y/bar")).isEqualTo(Set.of("delete"));
    assertThat(acl.capabilities("other/a")).isEmpty();
    // identical patterns of two policies are unioned; different ones are not merged
    HclPolicy second = HclPolicy.parse("u", "path \"secret/a/foo\" { capabilities = [\"read\"] }");
    assertThat(new HclPolicy.Acl(List.of(policy, second), false).capabilities("secret/a/foo"))
        .isEqualTo(Set.of("update", "read"));
  }

  @Test
  void unsupportedSyntaxIsRefused() {
    assertThatThrownBy(
            () ->
                HclPolicy.parse(
                    "bad", "path \"a/*\" { capabilities = [\"read\"] min_wrapping_ttl = \"1s\" }"))
        .hasMessageContaining("min_wrapping_ttl");
    assertThatThrownBy(() -> HclPolicy.parse("bad", "path \"a/*/b\" { capabilities = [] }"))
        .hasMessageContaining("only allowed at the end");
    assertThatThrownBy(() -> HclPolicy.parse("bad", "path \"a\" { capabilities = [\"write\"] }"))
        .hasMessageContaining("unknown capability");
  }
}
