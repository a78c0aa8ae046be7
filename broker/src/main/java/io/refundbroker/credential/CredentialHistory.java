package io.refundbroker.credential;

import java.util.List;
import java.util.Optional;

/**
 * The versions a backend keeps for one sales unit, oldest first.
 *
 * @param msn the sales unit
 * @param currentVersion the latest version, 0 when nothing was ever stored (the check-and-set value
 *     for "create only")
 * @param versions metadata of the retained versions
 */
public record CredentialHistory(String msn, int currentVersion, List<CredentialVersion> versions) {

  public CredentialHistory {
    versions = List.copyOf(versions);
  }

  public static CredentialHistory empty(String msn) {
    return new CredentialHistory(msn, 0, List.of());
  }

  /** The metadata of {@code version}, when it is retained. */
  public Optional<CredentialVersion> find(int version) {
    return versions.stream().filter(v -> v.version() == version).findFirst();
  }
}
