package io.refundbroker.credential;

import io.refundbroker.salesunit.KeyHolder;
import java.util.List;
import java.util.Optional;

/**
 * The versions a backend keeps for one key holder (a sales unit or a partner), oldest first.
 *
 * @param holder whose keys
 * @param currentVersion the latest version, 0 when nothing was ever stored (the check-and-set value
 *     for "create only")
 * @param versions metadata of the retained versions
 */
public record CredentialHistory(
    KeyHolder holder, int currentVersion, List<CredentialVersion> versions) {

  public CredentialHistory {
    versions = List.copyOf(versions);
  }

  public static CredentialHistory empty(KeyHolder holder) {
    return new CredentialHistory(holder, 0, List.of());
  }

  /** The metadata of {@code version}, when it is retained. */
  public Optional<CredentialVersion> find(int version) {
    return versions.stream().filter(v -> v.version() == version).findFirst();
  }
}
