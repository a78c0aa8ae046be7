package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VippsContractTest {

  @Test
  void specsComeFromContractsDirElseTheDefaultElseNowhere(@TempDir Path temp) throws Exception {
    Path empty = Files.createDirectories(temp.resolve("empty"));
    Path full = Files.createDirectories(temp.resolve("full/vipps"));
    for (String spec : new String[] {"epayment-v1.yaml", "ecom-v2.yaml", "accesstoken.yaml"}) {
      Files.writeString(full.resolve(spec), "openapi: 3.0.0\n");
    }
    String fullRoot = full.getParent().toString();

    assertThat(VippsContract.specsDir(Map.of())).isEmpty();
    assertThat(VippsContract.specsDir(Map.of("CONTRACTS_DIR", empty.toString()))).isEmpty();
    assertThat(VippsContract.specsDir(Map.of("CONTRACTS_DIR", fullRoot))).contains(full);
    assertThat(
            VippsContract.specsDir(
                Map.of("CONTRACTS_DIR", empty.toString(), "CONTRACTS_DIR_DEFAULT", fullRoot)))
        .contains(full);
  }

  @Test
  void theRemoteRefIsStubbedInMemoryAndTheSpecFileIsUntouched() throws Exception {
    Specs.assumePresent(VippsContract.specsDir().isPresent(), VippsContract.missingMessage());
    Path spec = VippsContract.specsDir().orElseThrow().resolve("epayment-v1.yaml");
    String before = sha256(spec);
    assertThat(Files.readString(spec)).contains("raw.githubusercontent.com");

    String loaded = VippsContract.withRemoteRefsStubbed(spec);

    assertThat(loaded).doesNotContain("raw.githubusercontent.com").contains("/refund");
    assertThat(sha256(spec)).isEqualTo(before);
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
