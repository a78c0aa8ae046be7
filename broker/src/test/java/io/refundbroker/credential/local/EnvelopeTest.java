package io.refundbroker.credential.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Envelope encryption of the local backend and its key file. */
class EnvelopeTest {
  @TempDir Path dir;

  @Test
  void keyFileIsCreatedOwnerOnlyAndReloadsTheSameKey() throws Exception {
    Path file = dir.resolve("sub/credentials.kek");
    KeyEncryptionKey created = KeyEncryptionKey.loadOrCreate(file);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(KeyEncryptionKey.loadOrCreate(file).id()).isEqualTo(created.id()).hasSize(16);
    try (var listing = Files.list(file.getParent())) {
      assertThat(listing).containsExactly(file);
    }
  }

  @Test
  void keyFileReadableByOthersOrMalformedIsRefused() throws Exception {
    Path open = dir.resolve("open.kek");
    KeyEncryptionKey.loadOrCreate(open);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> KeyEncryptionKey.loadOrCreate(open))
        .hasMessageContaining("LOCAL_KEK_FILE")
        .hasMessageContaining("chmod 600");
    Path shortKey = dir.resolve("short.kek");
    Files.writeString(shortKey, "c2hvcnQ=");
    Files.setPosixFilePermissions(shortKey, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> KeyEncryptionKey.loadOrCreate(shortKey))
        .hasMessageContaining("256-bit");
  }

  @Test
  void sealOpensOnlyForItsMsnVersionAndKey() throws Exception {
    KeyEncryptionKey kek = KeyEncryptionKey.loadOrCreate(dir.resolve("a.kek"));
    KeyEncryptionKey other = KeyEncryptionKey.loadOrCreate(dir.resolve("b.kek"));
    byte[] plaintext = "{\"client_secret\":\"s3cr3t\"}".getBytes(StandardCharsets.UTF_8);
    Envelope.Sealed sealed = Envelope.seal(kek, "123456", 2, plaintext);

    assertThat(Envelope.open(kek, "123456", 2, sealed)).isEqualTo(plaintext);
    assertThat(new String(sealed.ciphertext(), StandardCharsets.ISO_8859_1))
        .doesNotContain("s3cr3t");
    assertThat(Envelope.seal(kek, "123456", 2, plaintext).ciphertext())
        .as("fresh data key and nonce every time")
        .isNotEqualTo(sealed.ciphertext());
    assertThatThrownBy(() -> Envelope.open(kek, "654321", 2, sealed))
        .isInstanceOf(GeneralSecurityException.class);
    assertThatThrownBy(() -> Envelope.open(kek, "123456", 1, sealed))
        .isInstanceOf(GeneralSecurityException.class);
    assertThatThrownBy(() -> Envelope.open(other, "123456", 2, sealed))
        .isInstanceOf(GeneralSecurityException.class);
    byte[] tampered = sealed.ciphertext().clone();
    tampered[tampered.length - 1] ^= 1;
    assertThatThrownBy(
            () ->
                Envelope.open(kek, "123456", 2, new Envelope.Sealed(sealed.wrappedKey(), tampered)))
        .isInstanceOf(GeneralSecurityException.class);
  }
}
